"""`LocalSearchDecider`: COHDA over flexibility corridors (a continuous schedule range per step).

Deciding, participant i looks at the open schedule o = w * c - sum_j s_j (what the target still lacks
under its best-known candidate) and searches, per step t independently, a new value v in corridor t
(`dro_ros.resource.cohda.corridor.best_in_corridor`) scoring

    local_performance(schedule with v) - convergence_force_factor * |(v - s_it) - o_t|,

i.e. its own preference plus a pull towards closing the gap. The new schedule becomes the own selection
and the candidate only if the candidate's performance improves (as in COHDA's decide step); every random
draw comes from the decider's seeded generator.
"""
from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np

from dro_ros.compat.cohda import (COHDAAlgorithmData, LocalDecider, SolutionCandidate, SystemConfig, WorkingMemory,
                                  _rated, create_from_updated_sysconf, record_selection)
from dro_ros.resource.cohda.corridor import best_in_corridor


class LocalSearchDecider(LocalDecider):
    """Random local search within per-step corridors; see the module docstring."""

    def __init__(self, initial_schedule: Any, corridors: list[tuple[float, float]],
                 local_performance: Callable[[np.ndarray], float], convergence_force_factor: float = 0.1,
                 max_iterations: int = 10, sample_size_per_value: int = 10,
                 distribution: Callable[[float, float], Callable[[], float]] | None = None, *, seed: int = 0) -> None:
        self._initial_schedule = np.asarray(initial_schedule, dtype=float)
        if len(corridors) != self._initial_schedule.size:
            raise ValueError(f"corridors: {len(corridors)} given for a schedule of {self._initial_schedule.size} steps")
        for step, (low, high) in enumerate(corridors):
            if not low <= high:
                raise ValueError(f"corridors[{step}]: need low <= high, got ({low}, {high})")
        self.corridors = corridors
        self.local_performance = local_performance
        self.convergence_force_factor = convergence_force_factor
        self.max_iterations = max_iterations
        self.sample_size_per_value = sample_size_per_value
        self.rng = random.Random(seed)
        self.distribution = distribution or (lambda low, high: lambda: self.rng.uniform(low, high))

    def initial_schedule(self, memory: WorkingMemory) -> np.ndarray:
        return self._initial_schedule.copy()

    def decide(self, cohda_data: COHDAAlgorithmData, sysconfig: SystemConfig,
               candidate: SolutionCandidate) -> tuple[SystemConfig, SolutionCandidate]:
        own, memory = cohda_data.participant_id, cohda_data.memory
        target = memory.target_params
        current = _rated(candidate, cohda_data.performance_function, target)
        schedule = current.schedules[own - 1].copy()
        open_schedule = target.schedule * target.weights - current.schedules.sum(axis=0)
        new_schedule = _find_in_local_search_room(self, schedule, open_schedule)
        trial = create_from_updated_sysconf(own, sysconfig, new_schedule)
        trial = _rated(trial, cohda_data.performance_function, target)
        if trial.perf > current.perf:
            current, schedule = trial, new_schedule
        record_selection(cohda_data, sysconfig, schedule)
        return sysconfig, current


def _find_new_value(decider: LocalSearchDecider, current_index: int, current_best_schedule: np.ndarray,
                    delta_to_target: float) -> float:
    """The new value of step `current_index` (module docstring)."""
    low, high = decider.corridors[current_index]
    current = float(current_best_schedule[current_index])

    def score(value: float) -> float:
        trial = current_best_schedule.copy()
        trial[current_index] = value
        return (decider.local_performance(trial)
                - decider.convergence_force_factor * abs((value - current) - delta_to_target))

    return best_in_corridor(low, high, current, score, draw=decider.distribution(low, high),
                            samples=decider.sample_size_per_value, evaluations=decider.max_iterations,
                            rng=decider.rng)


def _find_in_local_search_room(decider: LocalSearchDecider, current_best_schedule: np.ndarray,
                               open_schedule: np.ndarray) -> np.ndarray:
    """Every step's new value, each searched with the others held at `current_best_schedule`."""
    return np.array([_find_new_value(decider, step, current_best_schedule, float(open_schedule[step]))
                     for step in range(len(current_best_schedule))])
