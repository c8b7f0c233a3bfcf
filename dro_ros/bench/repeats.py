"""Repeated timings: on a shared machine the same solve's time varies between runs (README: by 10-20 % on
the 2-core machine), so a timed benchmark repeats its solves, interleaved, and reports the run with the
median time."""
from __future__ import annotations

from typing import Any, Callable, Sequence, TypeVar

Run = TypeVar("Run")


def require_repeats(repeats: int) -> None:
    if repeats < 1:
        raise ValueError(f"repeats: expected at least 1, got {repeats}")


def median_run(results: Sequence[Run], times: Sequence[float]) -> Run:
    """The run whose time is the median of `times` (the lower median for an even count)."""
    order = sorted(range(len(times)), key=times.__getitem__)
    return results[order[(len(order) - 1) // 2]]


def median_runs(solves: dict[str, Callable[[], Any]], repeats: int
                ) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Run every solve `repeats` times, interleaved so that a slow spell of the machine hits every one;
    return each one's median run and all its times. A result's time is its critical path if it has one
    (a distributed run), else its wall time (a centralized solve)."""
    require_repeats(repeats)
    results: dict[str, list] = {name: [] for name in solves}
    for _ in range(repeats):
        for name, solve in solves.items():
            results[name].append(solve())
    times = {name: [getattr(r, "critical_path", r.wall_time) for r in runs] for name, runs in results.items()}
    return {name: median_run(runs, times[name]) for name, runs in results.items()}, times
