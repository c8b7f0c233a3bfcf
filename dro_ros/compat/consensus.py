"""The reference package's averaging consensus with a gradient term, and its economic-dispatch actor.

Synchronous rounds k = 0 .. max_iter - 1: participant i sends lambda_i(k) to every other participant
and, holding lambda_j(k) of all of them, updates

    lambda_i(k+1) = lambda_i(k) + alpha (mean_j lambda_j(k) - lambda_i(k)) + g_i(lambda_i(k), data)

(the reference's rule; dro_ros's `AveragingAgent` is the primary implementation, with Metropolis
weights, a topology and a stop on tolerance). After round max_iter - 1 it calls
`finish_callback(algorithm, carrier)` once and falls silent. The first message a participant receives
starts it (lambda_i(0) = initial_lam per component of the message's lambda); unless flagged `initial` it
also counts as its sender's round-k value until the sender's own value arrives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dro_ros.compat.algorithm import DistributedAlgorithm, OptimizationMessage


class ConsensusActor:
    """The gradient term g_i(lambda, data) added to every update (default 0)."""

    def gradient_term(self, lam: np.ndarray, data: Any) -> np.ndarray | float:
        return 0


class NoConsensusActor(ConsensusActor):
    """Pure averaging (g = 0)."""


@dataclass
class AveragingConsensusMessage(OptimizationMessage):
    """lambda of the sender at round k, the run's data, and whether it only starts the run."""

    lam: np.ndarray
    k: int
    data: Any
    initial: bool = False


@dataclass
class ConsensusFinishedMessage:
    """A participant's final lambda, its round and its consensus actor."""

    lam: np.ndarray
    k: int
    actor: ConsensusActor


class SynchronousRounds(DistributedAlgorithm):
    """Rounds k = 0 .. max_iter - 1 over every other participant (see the module docstring).

    A subclass names its message class and value field (`message_type`, `value_field`) and gives
    `_begin(message)` (the own state, returning the first value to send) and `_combine(values)` (the
    update from the received round-k values, returning the next value to send).
    """

    message_type: type
    value_field: str

    def __init__(self, finish_callback: Callable[[Any, Any], Any], max_iter: int) -> None:
        if max_iter < 1:
            raise ValueError(f"max_iter: need at least 1, got {max_iter}")
        self.finish_callback = finish_callback
        self.max_iter = max_iter
        self._k = 0
        self._data: Any = None
        self._started = False
        self.finished = False
        self._received: dict[int, dict[Any, np.ndarray]] = {}

    def _begin(self, message: Any) -> np.ndarray:
        raise NotImplementedError

    def _combine(self, values: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    async def on_exchange_message(self, carrier: Any, message_data: Any, meta: Any) -> None:
        if self.finished:
            return
        neighbours = carrier.others("")
        if not self._started:
            self._started = True
            self._data = message_data.data
            self._broadcast(carrier, neighbours, self._begin(message_data))
        if message_data.initial or message_data.k < self._k:
            return
        sender = meta.get("sender") if isinstance(meta, dict) else None
        self._received.setdefault(message_data.k, {})[sender] = np.asarray(getattr(message_data, self.value_field),
                                                                            dtype=float)
        while not self.finished and set(neighbours) <= set(self._received.get(self._k, {})):
            values = self._received.pop(self._k)
            outgoing = self._combine([values[n] for n in neighbours])
            self._k += 1
            if self._k >= self.max_iter:
                self.finished = True
                self.finish_callback(self, carrier)
            else:
                self._broadcast(carrier, neighbours, outgoing)

    def _broadcast(self, carrier: Any, neighbours: list[Any], value: np.ndarray) -> None:
        for neighbour in neighbours:
            message = self.message_type(**{self.value_field: value.copy()}, k=self._k, data=self._data)
            carrier.send_to_other(message, neighbour)


class AveragingConsensusAlgorithm(SynchronousRounds):
    """One participant of averaging consensus; see the module docstring."""

    message_type, value_field = AveragingConsensusMessage, "lam"

    def __init__(self, finish_callback: Callable[[Any, Any], Any], consensus_actor: ConsensusActor | None = None,
                 initial_lam: float = 10.0, alpha: float = 0.3, max_iter: int = 50) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha: need 0 < alpha <= 1, got {alpha}")
        super().__init__(finish_callback, max_iter)
        self.actor = consensus_actor if consensus_actor is not None else NoConsensusActor()
        self.initial_lam, self.alpha = initial_lam, alpha
        self._lam = np.array([initial_lam], dtype=float)

    def _begin(self, message: AveragingConsensusMessage) -> np.ndarray:
        self._lam = np.ones(np.size(message.lam)) * float(self.initial_lam)
        return self._lam

    def _combine(self, values: list[np.ndarray]) -> np.ndarray:
        gradient = self.actor.gradient_term(self._lam, self._data)
        self._lam = self._lam + self.alpha * (sum(values) / len(values) - self._lam) + gradient
        return self._lam



def create_averaging_consensus_participant(finish_callback: Callable[[Any, Any], Any],
                                           consensus_actor: ConsensusActor | None = None, initial_lam: float = 10.0,
                                           alpha: float = 0.3, max_iter: int = 50) -> AveragingConsensusAlgorithm:
    return AveragingConsensusAlgorithm(finish_callback, consensus_actor, initial_lam, alpha, max_iter)


def create_averaging_consensus_start(initial_lam: float, data: Any = None) -> AveragingConsensusMessage:
    """The message that starts a run (flagged `initial`; its lambda gives the dimension)."""
    return AveragingConsensusMessage(lam=np.array([initial_lam], dtype=float), k=0, data=data, initial=True)


@dataclass
class LinearCostEconomicDispatchConsensusActor(ConsensusActor):
    """Gradient term of economic dispatch by price consensus, cost c P + epsilon/2 P^2 on [p_min, p_max].

    P(lambda) = clip((lambda - c) / epsilon, p_min, p_max) is the unit's output at price lambda;
    g(lambda, target) = -rho (P(lambda) - target / n_guess) raises the price while the unit produces
    less than its share of the target. `P` holds the latest output.
    """

    cost: float
    p_max: float
    rho: float = 0.05
    epsilon: float = 0.1
    p_min: float = 0.0
    n_guess: int = 10
    P: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def gradient_term(self, lam: np.ndarray, p_target: Any) -> np.ndarray:
        return -self.rho * output_minus_share(self, lam, p_target)


def demand_share(p_target: Any, n_guess: int) -> np.ndarray:
    """One unit's share of the demand (None: no demand)."""
    return np.asarray(0.0 if p_target is None else p_target, dtype=float) / n_guess


def output_minus_share(unit: Any, lam: np.ndarray, p_target: Any) -> np.ndarray:
    """P(lambda) - target / n_guess for a unit with cost, epsilon, p_min, p_max; stores P(lambda) in unit.P."""
    unit.P = np.clip((np.asarray(lam, float) - unit.cost) / unit.epsilon, unit.p_min, unit.p_max)
    return unit.P - demand_share(p_target, unit.n_guess)
