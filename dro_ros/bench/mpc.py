"""`dro-ros bench mpc`: receding-horizon missions in process (`mission.receding_loop`), distributed and
centralized.

The scenario (default: config/trajectory/mpc_formation.yaml, the thesis formation flown past three discs,
a push at t = 10 s) runs twice through the same loop: with CDS-PS + EAS on the in-process carrier (the
fleet's critical-path clock decides whether a plan makes its switch time), and with the centralized EAS
solve (its wall time decides). Per run: replans, missed deadlines and fallbacks with their reasons,
critical path per replan (p50, p95, max), messages and bytes per replan, executed minimum separation
(50 Hz), minimum obstacle distance, goal reached per robot and when, executed cost sum ||u||^2; the
ratio of the two executed costs; and a PNG of the executed paths, obstacles and switch times.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dro_ros.mission.receding import receding_from_config
from dro_ros.mission.receding_loop import RecedingLoop, RecedingRun
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.obstacles import draw_obstacles
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "config" / "trajectory" / "mpc_formation.yaml"


def run(scenario: str = str(DEFAULT_SCENARIO), figure: str = "bench_results/mpc.png",
        baseline: bool = True) -> dict[str, Any]:
    config = yaml.safe_load(Path(scenario).read_text())
    loaded = scenario_from_config(config)
    horizon, disturbances = receding_from_config(config, loaded.problem.n_agents, loaded.problem.dim)
    if horizon is None:
        raise ValueError(f"scenario: {scenario} has no receding_horizon key")
    eas = EasParameters(**(loaded.eas or {}))

    def loop(name: str, solver) -> RecedingRun:
        return RecedingLoop(loaded.problem, horizon, solver, algorithm=name, communication=config["communication"],
                            eas=loaded.eas, disturbances=disturbances).run()

    runs = {"CDS-PS, EAS": loop("CDS-PS, EAS", lambda s: _path_sweep(s, eas))}
    if baseline:
        runs["centralized, EAS"] = loop("centralized, EAS",
                                        lambda s: solve_centralized(s.problem, eas=eas, guess=s.guess))
    rows = {name: run.summary() for name, run in runs.items()}
    out: dict[str, Any] = {"benchmark": "mpc", "scenario": str(scenario), "N": loaded.problem.n_agents,
                           "window_steps": horizon.steps, "step_s": loaded.problem.step,
                           "period_s": horizon.period, "r_min": loaded.problem.r_min,
                           "clearance": loaded.problem.clearance, "runs": rows}
    if baseline:
        out["cost_vs_centralized"] = rows["CDS-PS, EAS"]["executed_cost"] / rows["centralized, EAS"]["executed_cost"]
    out["figure"] = str(_figure(loaded.problem, runs, figure))
    return out


def _path_sweep(scenario: Scenario, eas: EasParameters):
    from dro_ros.trajectory.path_sweep import run_path_sweep

    return run_path_sweep(scenario, eas=eas)


def _figure(problem: FleetProblem, runs: dict[str, RecedingRun], out: str) -> Path:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6 * len(runs), 6))
    axes = np.atleast_1d(figure.subplots(1, len(runs)))
    for ax, (name, run) in zip(axes, runs.items()):
        draw_obstacles(ax, problem.obstacles, problem.clearance)
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
