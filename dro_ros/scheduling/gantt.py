"""A Gantt chart of a time-varying schedule: one row per agent, computations and transfers.

Each agent's row shows its computations as full-height bars labelled with the task, and the transfers
it takes part in as thin hatched bars (upper half when sending, lower half when receiving), labelled
"product -> receiver" or "product <- sender". A label is drawn only where it fits in its bar; the legend
maps every colour to its task, so narrow bars stay readable. Drawn on a `matplotlib.figure.Figure`, without
pyplot: no display needed and no global backend chosen.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dro_ros.scheduling.schedule import Schedule


def plot_gantt(schedule: Schedule, agents: tuple[str, ...], horizon: float, path: str | Path,
               title: str = "MOSAIC schedule") -> None:
    """Draw `schedule` over [0, horizon] seconds for `agents` (top to bottom) and save a PNG."""
    if any(c.start is None for c in schedule.computes):
        raise ValueError("a time-invariant schedule has no timeline to plot")
    row = {agent: k for k, agent in enumerate(agents)}
    tasks = sorted({c.task for c in schedule.computes} | {t.product for t in schedule.transfers})
    palette = colormaps["tab20"]
    colour = {task: palette(k % 20) for k, task in enumerate(tasks)}
    width = max(8.0, horizon / 3)
    fig = Figure(figsize=(width, 1.5 + 0.8 * len(agents)))
    ax = fig.subplots()
    chars_per_second = 0.8 * width * 72 / (0.6 * 7) / horizon  # axis inches * characters per inch at 7 pt

    def label(x: float, y: float, duration: float, text: str, **style) -> None:
        if len(text) <= duration * chars_per_second:
            ax.text(x, y, text, va="center", fontsize=7, clip_on=True, **style)

    for c in schedule.computes:
        y = row[c.agent]
        ax.barh(y, c.duration, left=c.start, height=0.8, color=colour[c.task], edgecolor="black")
        label(c.start + c.duration / 2, y, c.duration, c.task, ha="center")
    for t in schedule.transfers:
        for agent, offset, text in ((t.sender, -0.2, f"{t.product} -> {t.receiver}"),
                                    (t.receiver, 0.2, f"{t.product} <- {t.sender}")):
            y = row[agent] + offset
            ax.barh(y, t.duration, left=t.start, height=0.35, color=colour[t.product], alpha=0.6,
                    hatch="//", edgecolor="grey")
            label(t.start, y, t.duration, text, ha="left")
    ax.set_yticks(range(len(agents)), labels=list(agents))
    ax.invert_yaxis()
    ax.set_xlim(0, horizon)
    ax.set_xlabel("time from info_time [s]")
    ax.set_title(title)
    ax.grid(axis="x", linestyle=":", alpha=0.5)
    handles = [Rectangle((0, 0), 1, 1, color=colour[task]) for task in tasks]
    ax.legend(handles, tasks, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=min(len(tasks), 8),
              fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
