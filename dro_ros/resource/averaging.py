"""Averaging consensus with an optional gradient term (reference 000, "Averaging Consensus").

Synchronous rounds k = 0, 1, ...: agent i sends lambda_i(k) to its neighbours N_i and, once it holds
every lambda_j(k), updates

    lambda_i(k+1) = lambda_i(k) + alpha * sum_{j in N_i} w_ij (lambda_j(k) - lambda_i(k)) + g_i(lambda_i(k), k)

* `weights="metropolis"` (default): w_ij = 1 / (1 + max(d_i, d_j)). The weight matrix is doubly
  stochastic on any connected graph, so without a gradient term every agent converges to the exact
  average of the initial values, on irregular graphs (small world, unit disk) too.
* `weights="mean"`: w_ij = 1 / d_i, i.e. lambda + alpha (mean of neighbours - lambda), the reference's
  rule. It converges to a degree-weighted average, which is the true average only on regular graphs.

Stopping is either a fixed number of rounds or a tolerance. The tolerance test needs no coordinator:
rounds are grouped in epochs of E = D + 1 rounds (D an upper bound on the graph diameter); within an
epoch each agent floods the element-wise max and min of the values at the epoch's first round. After D
rounds every agent holds the global max and min, so all agents evaluate the same test in the same round
and stop together. Since the update is a convex combination (alpha <= 1), every later value lies between
that min and max, and so does the average: when max - min <= tol, every agent is within tol of it.
With a gradient term the test also requires the largest |g_i| of the epoch to be <= tol.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, MessageRejected
from dro_ros.core.codec import FloatArray, wire_message

Gradient = Callable[[np.ndarray, int], np.ndarray]


@wire_message("averaging")
@dataclass
class RoundValue:
    """lambda_i(k) with what the neighbours need: the sender's degree and its epoch max/min/activity."""

    iteration: int
    value: FloatArray
    high: FloatArray
    low: FloatArray
    activity: float
    degree: int


class AveragingStatus(enum.Enum):
    RUNNING = "running"
    CONVERGED = "converged"      # max - min of the epoch (and the gradient activity) within tol
    ROUND_LIMIT = "round_limit"  # max_rounds reached first


@dataclass(frozen=True)
class AveragingResult:
    value: np.ndarray
    rounds: int
    status: AveragingStatus
    spread: float  # max - min over all agents at the last epoch check (inf if none happened)


class AveragingAgent:
    """One participant of averaging consensus; see the module docstring for the update and the stop."""

    def __init__(self, initial: Any, *, alpha: float = 1.0, weights: str = "metropolis",
                 tol: float | None = None, max_rounds: int = 100_000, diameter_bound: int | None = None,
                 gradient: Gradient | None = None) -> None:
        for name, value in (("alpha", alpha), ("tol", tol), ("max_rounds", max_rounds),
                            ("diameter_bound", diameter_bound)):
            if value is not None and not _finite_number(value):
                raise ValueError(f"{name}: expected a finite number, got {value!r}")
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha: need 0 < alpha <= 1, got {alpha}")
        if weights not in ("metropolis", "mean"):
            raise ValueError(f"weights: expected 'metropolis' or 'mean', got {weights!r}")
        if tol is not None and (tol <= 0 or diameter_bound is None or diameter_bound < 0):
            raise ValueError("tol needs a positive value and a diameter_bound >= 0")
        if max_rounds < 1:
            raise ValueError(f"max_rounds: need at least 1, got {max_rounds}")
        try:
            self.value = np.atleast_1d(np.asarray(initial, dtype=float)).copy()
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"initial: expected a number or a list of numbers, got {initial!r}") from None
        if self.value.ndim != 1 or not np.all(np.isfinite(self.value)):
            raise ValueError(f"initial: expected finite numbers in one list, got {initial!r}")
        self.alpha = alpha
        self.weights = weights
        self.tol = tol
        self.max_rounds = max_rounds
        self.epoch = (diameter_bound or 0) + 1
        self.gradient = gradient
        self.round = 0
        self.status = AveragingStatus.RUNNING
        self.spread = float("inf")
        self._neighbours: list[str] = []
        self._received: dict[int, dict[str, RoundValue]] = {}
        self._high = self._low = self.value
        self._activity = 0.0

    # --- carrier hooks ---------------------------------------------------------------------------
    def on_start(self, carrier: Carrier) -> None:
        self._neighbours = carrier.others()
        if not self._neighbours:
            self._finish(AveragingStatus.CONVERGED, spread=0.0)
            return
        self._broadcast(carrier)

    def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if not isinstance(content, RoundValue) or self.finished:
            return
        if meta.sender not in self._neighbours or content.iteration < self.round:
            return  # not a neighbour, or a late duplicate of a finished round
        if content.iteration > self.round + 1:   # a neighbour sends round r + 1 only after our round r
            raise MessageRejected(f"{meta.sender} sent round {content.iteration} during round {self.round}")
        self._check(content, meta.sender)
        self._received.setdefault(content.iteration, {})[meta.sender] = content
        while not self.finished and len(self._received.get(self.round, ())) == len(self._neighbours):
            self._step(self._received.pop(self.round))
            if not self.finished:
                self._broadcast(carrier)

    def _check(self, content: RoundValue, sender: str) -> None:
        """A round value is finite, of this agent's shape (value, high, low), from a sender of degree >= 1."""
        for name in ("value", "high", "low"):
            array = getattr(content, name)
            if array.shape != self.value.shape or not np.all(np.isfinite(array)):
                raise MessageRejected(f"{name}: {sender} sent shape {array.shape}, expected finite values of "
                                      f"shape {self.value.shape}")
        if not (math.isfinite(content.activity) and content.activity >= 0):
            raise MessageRejected(f"activity: {sender} sent {content.activity}, expected a finite value >= 0")
        if content.degree < 1:
            raise MessageRejected(f"degree: {sender} sent {content.degree}, expected at least 1")

    # --- the algorithm ---------------------------------------------------------------------------
    def _step(self, inbound: dict[str, RoundValue]) -> None:
        """One round: the consensus update, the epoch flooding of max/min, and the stop test."""
        degree = len(self._neighbours)
        pull = np.zeros_like(self.value)
        for sender in self._neighbours:  # fixed (sorted) order: identical arithmetic on every carrier
            message = inbound[sender]
            weight = (1.0 / (1 + max(degree, message.degree)) if self.weights == "metropolis"
                      else 1.0 / degree)
            pull += weight * (message.value - self.value)
        step = self.alpha * pull
        if self.gradient is not None:
            drift = np.asarray(self.gradient(self.value, self.round), dtype=float)
            step = step + drift
            activity = float(np.max(np.abs(drift)))
        else:
            activity = 0.0
        self.value = self.value + step
        self.round += 1
        if self.round % self.epoch == 0:
            self._high, self._low, self._activity = self.value, self.value, activity
        else:
            self._high = np.maximum.reduce([self._high, *(m.high for m in inbound.values())])
            self._low = np.minimum.reduce([self._low, *(m.low for m in inbound.values())])
            self._activity = max(self._activity, activity, *(m.activity for m in inbound.values()))
        if self.tol is not None and self.round % self.epoch == self.epoch - 1:
            self.spread = float(np.max(self._high - self._low))
            if self.spread <= self.tol and self._activity <= self.tol:
                self._finish(AveragingStatus.CONVERGED, self.spread)
                return
        if self.round >= self.max_rounds:
            self._finish(AveragingStatus.ROUND_LIMIT, self.spread)

    def _broadcast(self, carrier: Carrier) -> None:
        message = RoundValue(iteration=self.round, value=self.value, high=self._high, low=self._low,
                             activity=self._activity, degree=len(self._neighbours))
        for neighbour in self._neighbours:
            carrier.send_to_other(message, neighbour)

    def _finish(self, status: AveragingStatus, spread: float) -> None:
        self.status = status
        self.spread = spread

    # --- results ---------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.status is not AveragingStatus.RUNNING

    def waiting_for(self) -> list[str]:
        have = self._received.get(self.round, {})
        return [n for n in self._neighbours if n not in have]

    def result(self) -> AveragingResult:
        return AveragingResult(self.value.copy(), self.round, self.status, self.spread)


def _finite_number(value: Any) -> bool:
    """An int or float (not a bool) that is finite as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
