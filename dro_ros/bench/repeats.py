"""Repeated timings: on a shared 2-core machine the same solve's time varies by 10-20 % between runs, so
a timed benchmark repeats its solves, interleaved, and reports the run with the median time."""
from __future__ import annotations

from typing import Sequence, TypeVar

Run = TypeVar("Run")


def require_repeats(repeats: int) -> None:
    if repeats < 1:
        raise ValueError(f"repeats: expected at least 1, got {repeats}")


def median_run(results: Sequence[Run], times: Sequence[float]) -> Run:
    """The run whose time is the median of `times` (the lower median for an even count)."""
    order = sorted(range(len(times)), key=times.__getitem__)
    return results[order[(len(order) - 1) // 2]]
