"""`dro-ros bench platoon --N 4,8,...`: the platoon of thesis Sec. 5.1 (Fig. 5.2-5.6).

First the stated data (v_bar = 10, u_bar = 0.2) for every N: they are infeasible, and the run reports
the proof from `checker.diagnose` instead of an objective. Then, for every N, the convex platoon without
input and speed limits (the ordering s_{i+1} - s_i >= r_min kept; H = 1000, T = 100 s), solved
centralized, by NC-ADMM (rho = 1, feasibility stop, Sec. 2.4, over-relaxed with `admm_relaxation`, 1 being
Alg. 1 as stated; its QP local problems re-solved exactly by `trajectory.active_set`), by CDS-BS rooted
at agent N/2 (Alg. 2 as stated), and by CDS-BS refining a prediction `PREDICTION` times coarser
(`trajectory.prediction`): objective against the centralized one, time (centralized: wall; distributed:
critical path, `trajectory.outcome`), iterations or stages, messages and bytes, and the independent
checker's largest violation. The targets are checked on the refined sweep; the plain one is reported beside it.
The centralized solve and both sweeps are repeated `repeats` times per N, interleaved, and each row is
the run with the median time (`bench.repeats`; samples in `time_samples_s`); NC-ADMM, by far the
longest to simulate, runs once.
"""
from __future__ import annotations

from typing import Any, Sequence

from dro_ros.bench.repeats import median_runs, require_repeats
from dro_ros.trajectory.branch_sweep import run_branch_sweep
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import diagnose
from dro_ros.trajectory.nc_admm import run_nc_admm
from dro_ros.trajectory.outcome import fleet_row
from dro_ros.trajectory.plots import platoon_figure
from dro_ros.trajectory.scenarios import platoon

TARGETS = {"relative_gap": 0.01, "time_fraction_at_24": 0.25, "max_violation": 1e-6}
PREDICTION = 20   # H = 1000 -> a 50-step coarse problem


def run(sizes: Sequence[int] = (4, 8, 12, 16, 20, 24), horizon: int = 1000, admm_iterations: int = 2000,
        admm_relaxation: float = 1.8, repeats: int = 3, figure: str = "bench_results/platoon.png") -> dict[str, Any]:
    require_repeats(repeats)
    stated = [{"N": n, "infeasible": [reason.reason for reason in diagnose(platoon(n, horizon=horizon).problem)]}
              for n in sizes]
    rows: list[dict[str, Any]] = []
    example, residuals = None, {}
    for n in sizes:
        scenario = platoon(n, horizon=horizon, limits=False)
        medians, times = median_runs({
            "centralized": lambda: solve_centralized(scenario.problem),
            "CDS-BS": lambda: run_branch_sweep(scenario),
            "CDS-BS, prediction": lambda: run_branch_sweep(scenario, prediction=PREDICTION)}, repeats)
        central, sweep, refined = medians.values()
        admm = run_nc_admm(scenario, rho=1.0, stop="feasible", max_iterations=admm_iterations,
                           relaxation=admm_relaxation)
        for name, result in (("centralized", central), ("NC-ADMM", admm), ("CDS-BS", sweep),
                             ("CDS-BS, prediction", refined)):
            rows.append({"N": n, **fleet_row(name, result),
                         "relative_objective": result.objective / central.objective,
                         "time_vs_centralized": result.critical_path / central.wall_time,
                         "time_samples_s": times.get(name, [result.critical_path])})
        if example is None or n == 8:
            example = (scenario.problem, central.check.states)
            residuals = {"||r^k||": admm.details.get("residuals", []), "||s^k||": admm.details.get("feasibility", [])}
    sweeps = [r for r in rows if r["algorithm"] == "CDS-BS, prediction"]
    largest = max(sweeps, key=lambda r: r["N"])
    within = all(r["relative_objective"] - 1 <= TARGETS["relative_gap"] for r in sweeps)
    fast = largest["time_vs_centralized"] <= TARGETS["time_fraction_at_24"]
    met = {"cds_bs_prediction_within_1%_at_every_N": within,
           f"cds_bs_prediction_time_at_most_25%_at_N={largest['N']}": fast,
           "all_checked_feasible": all(r["max_violation"] <= TARGETS["max_violation"] for r in rows)}
    picture = platoon_figure(sizes, rows, example, residuals, figure)
    return {"benchmark": "platoon", "H": horizon, "admm_relaxation": admm_relaxation, "repeats": repeats,
            "stated_data": stated, "rows": rows, "targets_met": met, "figure": str(picture)}
