"""Independent yardsticks for COHDA: the brute-force optimum of eq. 1 and the paper's normalised fitness.

Normalisation (Hinrichs et al., Sec. 3): fitness = d(c, sum of the selected schedules) / d_worst with

    d_worst = max(d(c, sum_i w_i,min), d(c, sum_i w_i,max)),

w_i,min and w_i,max being agent i's schedules of minimal and maximal absolute cumulative value, and 0
(an exact match) taken as the lower bound; d is the weighted L1 distance.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np


def distance(target: np.ndarray, aggregate: np.ndarray, weights: np.ndarray | None = None) -> float:
    weights = np.ones_like(target) if weights is None else weights
    return float(np.abs(np.asarray(target) - aggregate) @ weights)


def brute_force(schedule_sets: Sequence[np.ndarray], target: np.ndarray,
                weights: np.ndarray | None = None) -> tuple[float, tuple[int, ...]]:
    """The optimum of eq. 1 by enumerating every combination (small instances only)."""
    sets = [np.asarray(s, dtype=float) for s in schedule_sets]
    if np.prod([len(s) for s in sets], dtype=float) > 2e6:
        raise ValueError("brute_force: more than 2e6 combinations")
    best, choice = float("inf"), ()
    for combination in itertools.product(*(range(len(s)) for s in sets)):
        value = distance(target, sum(s[j] for s, j in zip(sets, combination)), weights)
        if value < best:
            best, choice = value, combination
    return best, choice


def worst_distance(schedule_sets: Sequence[np.ndarray], target: np.ndarray,
                   weights: np.ndarray | None = None) -> float:
    """d_worst of the module docstring."""
    lowest = sum(s[np.argmin(np.abs(s).sum(axis=1))] for s in schedule_sets)
    highest = sum(s[np.argmax(np.abs(s).sum(axis=1))] for s in schedule_sets)
    return max(distance(target, lowest, weights), distance(target, highest, weights))


def normalized_fitness(value: float, schedule_sets: Sequence[np.ndarray], target: np.ndarray,
                       weights: np.ndarray | None = None) -> float:
    """The paper's fitness in [0, 1] (0 = exact match) of a solution at distance `value`."""
    return value / worst_distance(schedule_sets, target, weights)
