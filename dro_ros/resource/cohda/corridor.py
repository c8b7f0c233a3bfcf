"""Random local search of one value inside a flexibility corridor [low, high] (COHDA with corridors).

A participant whose schedule may take any value of an interval per step cannot enumerate its options.
For each step it draws `samples` candidate values from [low, high], scores at most `evaluations` of
them in random order with `score(value)` (higher is better) and keeps the best; the current value
competes too, so the search never returns something worse than what it had.
"""
from __future__ import annotations

import random
from typing import Callable


def best_in_corridor(low: float, high: float, current: float, score: Callable[[float], float], *,
                     draw: Callable[[], float], samples: int, evaluations: int, rng: random.Random) -> float:
    """The best-scoring of `current` and up to `evaluations` of `samples` values drawn by `draw`."""
    if not low <= high:
        raise ValueError(f"corridor: need low <= high, got ({low}, {high})")
    candidates = [min(max(draw(), low), high) for _ in range(samples)]
    rng.shuffle(candidates)
    best = min(max(current, low), high)
    best_score = score(best)
    for value in candidates[:evaluations]:
        value_score = score(value)
        if value_score > best_score:
            best, best_score = value, value_score
    return best
