"""Configurations (Hinrichs et al., Def. 2-5, 8) and their rating by the DO-MC-COP objective (eq. 1-3).

A state sigma_k = <gamma_k, lambda_k> is agent k's selected schedule w_kj with its counter lambda_k
(the "age" of the selection, +1 on every change). A configuration Sigma holds at most one state per
agent; here it is four aligned arrays sorted by agent id: `ids`, `counters`, `schedules` (one row w_kj per
agent) and `terms` (alpha_k and the weighted local penalty (1 - alpha_k) Pi_k(w_kj) of that selection,
so every agent can rate eq. 3 without knowing anybody's penalty function Pi_k or schedule set).

Configurations are immutable (arrays are read-only); an update returns a new object, or the same one
when nothing changed, so identity tells whether there is anything new to publish.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

PerformanceFunction = Callable[[np.ndarray, "TargetParams"], float]
"""`(schedules (k, q), target) -> float`, higher is better (the reference package's convention)."""


@dataclass(frozen=True)
class TargetParams:
    """The target c of eq. 1 and a non-negative weight per interval (the weighted L1 distance)."""

    schedule: np.ndarray
    weights: np.ndarray


class Configuration:
    """A (perceived or best-known) configuration; see the module docstring."""

    __slots__ = ("ids", "counters", "schedules", "terms", "rating")

    def __init__(self, ids: np.ndarray, counters: np.ndarray, schedules: np.ndarray, terms: np.ndarray) -> None:
        self.ids, self.counters, self.schedules, self.terms = ids, counters, schedules, terms
        for array in (ids, counters, schedules, terms):
            array.setflags(write=False)
        self.rating: float | None = None  # eq. 3, filled in by `Objective.rating`

    @classmethod
    def empty(cls, q: int) -> "Configuration":
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, q)), np.zeros((0, 2)))

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Configuration(ids={self.ids.tolist()}, counters={self.counters.tolist()}, rating={self.rating})"

    def position(self, agent_id: int) -> int:
        """Row of `agent_id`'s state, or -1."""
        row = int(np.searchsorted(self.ids, agent_id))
        return row if row < len(self.ids) and self.ids[row] == agent_id else -1

    def same_as(self, other: "Configuration") -> bool:
        return self is other or (equal(self.ids, other.ids) and equal(self.counters, other.counters)
                                 and equal(self.schedules, other.schedules))

    def same_states(self, other: "Configuration") -> bool:
        """Same agents with the same counters, hence the same states (an agent's counter names its selection)."""
        return self is other or (equal(self.ids, other.ids) and equal(self.counters, other.counters))

    def merged(self, other: "Configuration") -> "Configuration":
        """The update rule of Sec. 2.3: take sigma_y from `other` if this has no state of y or an older one."""
        if len(other) == 0:
            return self
        if len(self) == 0:
            return other
        if equal(self.ids, other.ids):
            newer = other.counters > self.counters
            if not newer.any():
                return self
            pick = newer[:, None]
            return Configuration(self.ids, np.where(newer, other.counters, self.counters),
                                 np.where(pick, other.schedules, self.schedules), np.where(pick, other.terms, self.terms))
        ids = np.union1d(self.ids, other.ids)
        mine = np.full(len(ids), -1)
        theirs = np.full(len(ids), -1)
        mine[np.searchsorted(ids, self.ids)] = np.arange(len(self.ids))
        theirs[np.searchsorted(ids, other.ids)] = np.arange(len(other.ids))
        counter_mine = np.where(mine >= 0, self.counters[mine], -1)
        counter_theirs = np.where(theirs >= 0, other.counters[theirs], -1)
        take = counter_theirs > counter_mine
        if len(ids) == len(self.ids) and not take.any():
            return self
        schedules = np.where(take[:, None], other.schedules[theirs], self.schedules[mine])
        terms = np.where(take[:, None], other.terms[theirs], self.terms[mine])
        return Configuration(ids, np.maximum(counter_mine, counter_theirs), schedules, terms)

    def with_state(self, agent_id: int, counter: int, schedule: np.ndarray, alpha: float,
                   penalty: float) -> "Configuration":
        """This configuration with `agent_id`'s state replaced (or added)."""
        row = self.position(agent_id)
        terms = np.array([alpha, penalty])
        if row >= 0:
            counters, schedules, all_terms = self.counters.copy(), self.schedules.copy(), self.terms.copy()
            counters[row], schedules[row], all_terms[row] = counter, schedule, terms
            return Configuration(self.ids, counters, schedules, all_terms)
        row = int(np.searchsorted(self.ids, agent_id))
        return Configuration(np.insert(self.ids, row, agent_id), np.insert(self.counters, row, counter),
                             np.insert(self.schedules, row, schedule, axis=0), np.insert(self.terms, row, terms, axis=0))

    def aggregate(self) -> np.ndarray:
        """sum_k w_k over the states held (the column sum of eq. 1)."""
        return self.schedules.sum(axis=0)


class Objective:
    """Rates configurations for one target: the distance z^1 (eq. 1) and the DO-MC-COP value (eq. 3).

    z^1(Sigma) = sum_t v_t |c_t - sum_{sigma_k in Sigma} w_kt|  (weights v; eq. 1 for v = 1), or
    -performance(Sigma.schedules, target) for a custom performance function. For eq. 2 the paper asks
    z^1 and z^2 to share a domain, so z^1 is divided by `scale` = sum_t v_t |c_t| (1 if that is 0), and
    penalties Pi_i should lie in [0, 1]. The value of eq. 3 over the states in Sigma is

        sum_k z_k = (sum_k alpha_k) z^1(Sigma) / scale + sum_k (1 - alpha_k) Pi_k(w_k).

    Configurations are ordered by (more states, lower eq. 3 value); exact ties are broken by the
    content (ids, schedules, counters), so every agent ranks any two configurations the same way.
    """

    def __init__(self, target: TargetParams, performance: PerformanceFunction | None = None) -> None:
        self.target = target
        self.performance = performance
        norm = float(np.abs(target.schedule) @ target.weights)
        self.scale = norm if norm > 0 else 1.0

    def distance(self, config: Configuration) -> float:
        if self.performance is not None:
            return -float(self.performance(config.schedules, self.target))
        return float(np.abs(self.target.schedule - config.aggregate()) @ self.target.weights)

    def distances(self, config: Configuration, own_row: int, candidates: np.ndarray) -> np.ndarray:
        """z^1 of `config` with row `own_row` replaced by each candidate schedule (rows of `candidates`)."""
        if self.performance is None:
            rest = np.delete(config.schedules, own_row, axis=0).sum(axis=0)
            return np.abs(self.target.schedule - rest - candidates) @ self.target.weights
        matrix = config.schedules.copy()
        values = np.empty(len(candidates))
        for j, schedule in enumerate(candidates):
            matrix[own_row] = schedule
            values[j] = -float(self.performance(matrix, self.target))
        return values

    def rating(self, config: Configuration) -> float:
        if config.rating is None:
            alphas, penalties = config.terms.sum(axis=0)
            config.rating = float(alphas * self.distance(config) / self.scale + penalties)
        return config.rating

    def better(self, a: Configuration, b: Configuration) -> bool:
        """Whether `a` ranks strictly before `b` (see the class docstring)."""
        if len(a) != len(b):
            return len(a) > len(b)
        rating_a, rating_b = self.rating(a), self.rating(b)
        if rating_a != rating_b:
            return rating_a < rating_b
        return not a.same_as(b) and _content_before(a, b)


def equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shape and bytes, for arrays of one dtype (a hot path of perceive; unlike `np.array_equal`,
    0.0 and -0.0 differ, which at worst counts an unchanged schedule as a new state)."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _content_before(a: Configuration, b: Configuration) -> bool:
    """(ids, schedules, counters) of `a` before those of `b`, compared as Python lists compare
    (lexicographically, a prefix first), without building the lists."""
    for x, y in ((a.ids, b.ids), (a.schedules.ravel(), b.schedules.ravel()), (a.counters, b.counters)):
        n = min(len(x), len(y))
        differ = np.flatnonzero(x[:n] != y[:n])
        if len(differ):
            return bool(x[differ[0]] < y[differ[0]])
        if len(x) != len(y):
            return len(x) < len(y)
    return False
