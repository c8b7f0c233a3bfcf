"""Figures of the trajectory experiments (thesis Fig. 5.2-5.8), saved as PNG; no display and no global
backend (a `matplotlib.figure.Figure` draws without pyplot)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from dro_ros.core.topology import Topology
from dro_ros.trajectory.obstacles import draw_obstacles
from dro_ros.trajectory.problem import BallTerminal, FleetProblem


def formation_figure(problem: FleetProblem, graph: Topology, runs: dict[str, np.ndarray], path: Sequence[int],
                     out: str | Path) -> Path:
    """Fig. 5.7-5.8: the communication graph with the sweep path, and each run's trajectories (states
    (N, H+1, 4)) with the terminal circle and the obstacles."""
    figure = Figure(figsize=(5 * (1 + len(runs)), 5))
    axes = figure.subplots(1, 1 + len(runs))
    start = problem.initial[:, :2]
    ax = axes[0]
    for i, j in graph.edges:
        on_path = i in path and j in path and abs(list(path).index(i) - list(path).index(j)) == 1
        ax.plot(*start[[i, j]].T, color="tab:red" if on_path else "0.6", lw=2.5 if on_path else 1)
    ax.scatter(*start.T, s=260, c=["tab:red" if i in path else "white" for i in range(len(start))],
               edgecolors="k", zorder=3)
    for i, (x, y) in enumerate(start):
        ax.annotate(str(i + 1), (x, y), ha="center", va="center", fontsize=9, zorder=4)
    ax.set_title(f"graph, r_com edges; path {[v + 1 for v in path]} (thesis numbering)")
    ax.set_aspect("equal")
    for ax, (name, states) in zip(axes[1:], runs.items()):
        for i in range(len(states)):
            ax.plot(states[i, :, 0], states[i, :, 1], lw=1, label=f"{i + 1}")
        terminal = problem.terminals[0]
        if isinstance(terminal, BallTerminal):
            ax.add_patch(Circle(terminal.centre, terminal.radius, fill=False, color="tab:blue"))
        draw_obstacles(ax, problem.obstacles, problem.clearance)
        ax.set_title(name)
        ax.set_aspect("equal")
        ax.set_xlabel("s1 [m]")
        ax.set_ylabel("s2 [m]")
    axes[-1].legend(fontsize=7, loc="upper left")
    return _save(figure, out)


def platoon_figure(sizes: Sequence[int], rows: list[dict], example: tuple[FleetProblem, np.ndarray],
                   residuals: dict[str, list[float]], out: str | Path) -> Path:
    """Fig. 5.2-5.6: positions of an example platoon, NC-ADMM residuals, and time, rounds and f / f_c vs N."""
    figure = Figure(figsize=(25, 4.5))
    axes = figure.subplots(1, 5)
    problem, states = example
    times = problem.step * np.arange(problem.horizon + 1)
    for i in range(len(states)):
        axes[0].plot(times, states[i, :, 0], lw=1)
    axes[0].set(title=f"positions, N = {problem.n_agents} (centralized)", xlabel="t [s]", ylabel="s [m]")
    for name, values in residuals.items():
        axes[1].semilogy(np.arange(1, len(values) + 1), np.maximum(values, 1e-16), label=name)
    axes[1].set(title="NC-ADMM residuals", xlabel="iteration k")
    axes[1].legend()
    for key, ax, label in (("critical_path_s", axes[2], "time [s]"), ("rounds", axes[3], "iterations / stages"),
                           ("relative_objective", axes[4], "f / f_c")):
        for algorithm in dict.fromkeys(r["algorithm"] for r in rows):
            series = [r for r in rows if r["algorithm"] == algorithm]
            ax.plot([r["N"] for r in series], [r[key] for r in series], "o-", label=algorithm)
        ax.set(xlabel="N", ylabel=label, xticks=list(sizes))
        ax.legend()
    axes[2].set_title("elapsed (centralized: wall; distributed: critical path)")
    axes[2].set_yscale("log")
    axes[3].set_yscale("log")
    return _save(figure, out)


def _save(figure: Figure, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    return out
