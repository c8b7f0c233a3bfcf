"""The executed run beside the plan: one figure for `supervisor_node` (`output` parameter)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from dro_ros.fleet.plan import Plan
from dro_ros.fleet.summary import ExecutionSummary, Track
from dro_ros.trajectory.obstacles import draw_obstacles
from dro_ros.trajectory.problem import BallTerminal, FleetProblem


def execution_figure(problem: FleetProblem, plans: Mapping[int, Plan], tracks: Mapping[int, Track],
                     summary: ExecutionSummary, out: str | Path) -> Path:
    """Left: planned (dashed) and executed (solid) paths, in the plane (2-D) or against time (1-D).
    Right: each robot's tracking error ||s(t) - s_plan(t)|| over time."""
    figure = Figure(figsize=(12, 5))   # drawn without pyplot: no display, no global backend
    paths, errors = figure.subplots(1, 2)
    colours = colormaps["tab10"]
    for i in sorted(plans):
        colour, track = colours(i % 10), tracks[i]
        reference = plans[i].reference_many(track.times)[0]
        if problem.dim >= 2:
            paths.plot(plans[i].position[:, 0], plans[i].position[:, 1], "--", color=colour, lw=1)
            paths.plot(track.position[:, 0], track.position[:, 1], color=colour, lw=1.5, label=f"robot_{i}")
        else:
            times = np.arange(plans[i].horizon + 1) * plans[i].step
            paths.plot(times, plans[i].position[:, 0], "--", color=colour, lw=1)
            paths.plot(track.times, track.position[:, 0], color=colour, lw=1.5, label=f"robot_{i}")
        errors.semilogy(track.times, np.maximum(np.linalg.norm(track.position - reference, axis=1), 1e-9),
                        color=colour, lw=1)
    terminal = problem.terminals[0]
    if problem.dim >= 2 and isinstance(terminal, BallTerminal):
        paths.add_patch(Circle(tuple(terminal.centre[:2]), terminal.radius, fill=False, color="k", lw=1))
        paths.set_aspect("equal")
    draw_obstacles(paths, problem.obstacles, problem.clearance)
    paths.set_title(f"{problem.name}: planned (dashed) and executed (solid)\nmin separation "
                    f"{summary.min_separation:.3f} m (r_min {summary.r_min:g})")
    paths.set_xlabel("x [m]" if problem.dim >= 2 else "t [s]")
    paths.set_ylabel("y [m]" if problem.dim >= 2 else "s [m]")
    paths.legend(fontsize=7, loc="upper left")
    errors.set_title(f"tracking error; at T: {summary.terminal_position_error:.2e} m, "
                     f"{summary.terminal_velocity_error:.2e} m/s")
    errors.set_xlabel("t [s] after the fleet start")
    errors.set_ylabel("||s(t) - s_plan(t)|| [m]")
    errors.axvline(summary.duration, color="k", lw=0.5)
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    return out
