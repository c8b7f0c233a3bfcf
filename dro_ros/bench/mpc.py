"""`dro-ros bench mpc`: receding-horizon missions in process (`mission.receding_loop` on `mission.receding_sim`), distributed and
centralized.

The scenario (default: config/trajectory/mpc_formation.yaml, the thesis formation flown past three discs,
a push at t = 10 s) runs twice through the same loop: with the distributed algorithm (default CDS-PS +
EAS; `algorithm=branch_sweep|nc_admm` as in a fleet config) on the in-process carrier (the fleet's
critical-path clock decides whether a plan makes its switch time), and with the centralized EAS solve
(its wall time decides). Per run: replans, missed deadlines and fallbacks with their reasons,
critical path per replan (p50, p95, max), messages and bytes per replan, executed minimum separation
(50 Hz), minimum obstacle distance, goal reached per robot and when, executed cost sum ||u||^2; the
ratio of the two executed costs; and a PNG of the executed paths, obstacles and switch times.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dro_ros.mission.in_process import solve
from dro_ros.mission.receding import receding_from_config
from dro_ros.mission.receding_loop import RecedingRun
from dro_ros.mission.receding_sim import simulated_loop
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.obstacles import draw_obstacles
from dro_ros.trajectory.problem import BallTerminal, FleetProblem
from dro_ros.trajectory.scenarios import scenario_from_config

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "config" / "trajectory" / "mpc_formation.yaml"


def run(scenario: str = str(DEFAULT_SCENARIO), figure: str = "bench_results/mpc.png", baseline: bool = True,
        algorithm: str = "path_sweep", params: dict[str, Any] | None = None) -> dict[str, Any]:
    """`algorithm` and `params` as in a fleet config (`spec.registry`; default CDS-PS with EAS): the
    distributed run; `baseline` adds the centralized EAS loop."""
    config = yaml.safe_load(Path(scenario).read_text())
    loaded = scenario_from_config(config)
    horizon, disturbances = receding_from_config(config, loaded.problem.n_agents, loaded.problem.dim)
    if horizon is None:
        raise ValueError(f"scenario: {scenario} has no receding_horizon key")
    eas = EasParameters(**(loaded.eas or {}))

    def loop(name: str, solver) -> RecedingRun:
        return simulated_loop(loaded.problem, horizon, solver, algorithm=name,
                              communication=config["communication"], eas=loaded.eas, disturbances=disturbances).run()

    settings = {"eas": True} if params is None and algorithm == "path_sweep" else dict(params or {})
    runs = {algorithm: loop(algorithm, lambda s: solve(s, algorithm, settings))}
    if baseline:
        runs["centralized, EAS"] = loop("centralized, EAS",
                                        lambda s: solve_centralized(s.problem, eas=eas, guess=s.guess))
    rows = {name: run.summary() for name, run in runs.items()}
    out: dict[str, Any] = {"benchmark": "mpc", "scenario": str(scenario), "N": loaded.problem.n_agents,
                           "window_steps": horizon.steps, "step_s": loaded.problem.step,
                           "period_s": horizon.period, "r_min": loaded.problem.r_min,
                           "clearance": loaded.problem.clearance, "runs": rows}
    if baseline:
        out["cost_vs_centralized"] = rows[algorithm]["executed_cost"] / rows["centralized, EAS"]["executed_cost"]
    out["figure"] = str(_figure(loaded.problem, runs, figure))
    return out


def _figure(problem: FleetProblem, runs: dict[str, RecedingRun], out: str) -> Path:
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    figure = Figure(figsize=(6 * len(runs), 6))
    axes = np.atleast_1d(figure.subplots(1, len(runs)))
    for ax, (name, run) in zip(axes, runs.items()):
        draw_obstacles(ax, problem.obstacles, problem.clearance)
        for terminal in {id(t): t for t in problem.terminals}.values():
            if isinstance(terminal, BallTerminal):
                ax.add_patch(Circle(terminal.centre, terminal.radius, fill=False, color="tab:blue"))
        for i in range(problem.n_agents):
            ax.plot(run.positions[:, i, 0], run.positions[:, i, 1], lw=1)
        for switch in run.switch_times:   # a dot on every robot at each switch time
            k = int(np.searchsorted(run.times, switch))
            if k < len(run.times):
                ax.scatter(run.positions[k, :, 0], run.positions[k, :, 1], s=2, c="k")
        summary = run.summary()
        ax.set_title(f"{name}: {summary['replans']} replans, {summary['missed_deadlines']} missed\n"
                     f"min separation {summary['min_separation_m']:.4f} m, "
                     f"obstacle distance {summary['min_obstacle_distance_m']:.3f} m", fontsize=9)
        ax.set_aspect("equal")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    return path
