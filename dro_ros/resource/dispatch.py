"""Economic dispatch by averaging consensus with a gradient term (incremental-cost consensus).

    minimize  sum_i a_i p_i^2 + b_i p_i   s.t.  sum_i p_i = sum_i d_i,  p_min_i <= p_i <= p_max_i

At the optimum every unit not at a bound runs at the same incremental cost lambda*, with
p_i(lambda) = clip((lambda - b_i) / (2 a_i), p_min_i, p_max_i). Each agent i runs `AveragingAgent` on the
state s_i = (lambda_i, y_i), where y_i tracks the network's power mismatch, with the gradient term
(after Yang, Tan and Xu, IEEE TPWRS 2013, with the tracking update lagged by one round):

    lambda_i(k+1) = sum_j w_ij lambda_j(k) + step * y_i(k)
    y_i(k+1)      = sum_j w_ij y_j(k)      + p_i(lambda_i(k-1)) - p_i(lambda_i(k))

With doubly stochastic (Metropolis) weights, sum_i y_i(k) + sum_i p_i(lambda_i(k-1)) = sum_i d_i holds at
every round (y_i(0) = d_i - p_i(lambda_i(0))), so at a fixed point (equal lambda, y = 0) supply meets
demand at one incremental cost: the optimum. `step` must be small against the units' 1/(2 a_i).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dro_ros.resource.averaging import AveragingAgent


@dataclass(frozen=True)
class Generator:
    """Quadratic cost a p^2 + b p on [p_min, p_max]."""

    a: float
    b: float
    p_min: float
    p_max: float

    def __post_init__(self) -> None:
        if not (self.a > 0 and math.isfinite(self.b) and self.p_min <= self.p_max):
            raise ValueError(f"generator: need a > 0, finite b and p_min <= p_max, got {self}")

    def output(self, price: float) -> float:
        return float(np.clip((price - self.b) / (2 * self.a), self.p_min, self.p_max))

    def cost(self, p: float) -> float:
        return self.a * p * p + self.b * p


class DispatchGradient:
    """The gradient term g_i(s_i, k) of the module docstring; remembers p_i(lambda_i(k-1))."""

    def __init__(self, generator: Generator, step: float) -> None:
        self.generator, self.step = generator, step
        self.previous: float | None = None

    def __call__(self, state: np.ndarray, round_: int) -> np.ndarray:
        price, mismatch = state
        output = self.generator.output(price)
        previous = output if self.previous is None else self.previous
        self.previous = output
        return np.array([self.step * mismatch, previous - output])


def dispatch_agent(generator: Generator, demand: float, *, step: float, tol: float, diameter_bound: int,
                   initial_price: float | None = None, max_rounds: int = 200_000) -> AveragingAgent:
    """An agent of the dispatch: its unit, its local demand d_i, the step, and the stop tolerance."""
    price = generator.b if initial_price is None else initial_price
    state = np.array([price, demand - generator.output(price)])
    return AveragingAgent(state, tol=tol, diameter_bound=diameter_bound, max_rounds=max_rounds,
                          gradient=DispatchGradient(generator, step))


def centralized_dispatch(generators: list[Generator], demand: float) -> tuple[float, np.ndarray]:
    """lambda* by bisection on sum_i p_i(lambda) = demand (monotone); returns (lambda*, p)."""
    low = min(g.b + 2 * g.a * g.p_min for g in generators)
    high = max(g.b + 2 * g.a * g.p_max for g in generators)
    if not sum(g.p_min for g in generators) <= demand <= sum(g.p_max for g in generators):
        raise ValueError(f"demand: {demand} is outside the fleet's range")
    for _ in range(200):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if sum(g.output(middle) for g in generators) < demand else (low, middle)
    price = 0.5 * (low + high)
    return price, np.array([g.output(price) for g in generators])
