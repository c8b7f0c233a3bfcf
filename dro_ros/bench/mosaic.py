"""`dro-ros bench mosaic --json`: the MOSAIC scheduler on the seeded rover scenarios.

For every scenario of `dro_ros.scheduling.scenarios.SCENARIOS` and for CBC and HiGHS: model build time,
solve time, objective, relative gap and status of the time-varying scheduler, solved to the given gap
within the given time limit, single-threaded by default. `run` returns the figures as a dict; the CLI
prints them as JSON.
"""
from __future__ import annotations

from typing import Any

from dro_ros.scheduling.problem import parse_problem
from dro_ros.scheduling.scenarios import SCENARIOS, scenario
from dro_ros.scheduling.solve import SOLVERS, SolveOptions, solve

DEFAULTS: dict[str, Any] = {"time_limit": 60.0, "gap": 0.01, "threads": 1}


def run(**opts: Any) -> dict[str, Any]:
    """Benchmark; `opts`: scenarios (names), solvers, time_limit (s), gap (relative), threads."""
    unknown = set(opts) - {"scenarios", "solvers", *DEFAULTS}
    if unknown:
        raise ValueError(f"unknown bench option(s): {sorted(unknown)}")
    settings = {key: opts.get(key) if opts.get(key) is not None else value for key, value in DEFAULTS.items()}
    names = list(opts.get("scenarios") or SCENARIOS)
    solvers = list(opts.get("solvers") or SOLVERS)
    rows = []
    for name in names:
        problem = parse_problem(scenario(name))
        row: dict[str, Any] = {"scenario": name, "agents": len(problem.agents), "tasks": len(problem.tasks),
                               "steps": problem.n_steps, "weights": vars(problem.weights), "solvers": {}}
        for solver in solvers:
            result = solve(problem, "tv", SolveOptions(solver=solver, time_limit=settings["time_limit"],
                                                       gap=settings["gap"], threads=settings["threads"]))
            row["variables"], row["constraints"] = result.n_variables, result.n_constraints
            row["solvers"][solver] = {
                "status": result.status.value, "objective": result.objective, "gap": result.gap,
                "build_time": round(result.build_time, 3), "solve_time": round(result.solve_time, 3)}
        rows.append(row)
    report = {"benchmark": "mosaic", "model": "tv", **settings, "scenarios": rows}
    return report
