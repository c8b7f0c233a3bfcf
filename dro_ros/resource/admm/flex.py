"""The one-to-many flex actor: one input of capacity P, converted to m outputs by an efficiency vector.

Feasible outputs (the reference's box bounds, capacity row and equal-utilisation ratio rows together):

    x = eta * p,   0 <= p <= P

with an optional cost of the input c p + q/2 p^2. The ADMM x-update (see `admm.py`)

    argmin_x  f(x) + rho/2 ||x - a||^2  =  eta * clip((rho eta.a - c) / (q + rho ||eta||^2), 0, P)

is closed form: a scalar minimisation of a convex quadratic in p over an interval. No solver, no
iteration, microseconds per step.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from dro_ros.resource.admm.local import LocalActor


class FlexActor(LocalActor):
    """ADMM actor with the one-to-many flex model.

    `x` holds its latest output vector; once the run ended, its part of the coordinator's answer, with
    `status` (`converged` is True only for a converged run) and `reason` (why not).
    """

    dimension_label = "efficiency"

    def __init__(self, capacity: float, efficiency: Any, cost: float = 0.0, quadratic_cost: float = 0.0) -> None:
        self.efficiency = np.asarray(efficiency, dtype=float)
        if self.efficiency.ndim != 1 or self.efficiency.size == 0:
            raise ValueError(f"efficiency: expected a non-empty vector, got shape {self.efficiency.shape}")
        for name, value in (("capacity", capacity), ("cost", cost), ("quadratic_cost", quadratic_cost)):
            if not math.isfinite(value):
                raise ValueError(f"{name}: must be finite, got {value}")
        if not np.all(np.isfinite(self.efficiency)):
            raise ValueError("efficiency: must be finite")
        if capacity < 0 or quadratic_cost < 0:
            raise ValueError("capacity and quadratic_cost must be non-negative")
        self.capacity, self.cost, self.quadratic_cost = float(capacity), float(cost), float(quadratic_cost)
        self._norm2 = float(self.efficiency @ self.efficiency)
        self.x = np.zeros_like(self.efficiency)

    def input_for(self, point: np.ndarray, rho: float) -> float:
        """The optimal input p of the x-update around `point` (module docstring)."""
        curvature = self.quadratic_cost + rho * self._norm2
        if curvature == 0.0:  # eta = 0 and no quadratic cost: the output is 0 whatever p
            return 0.0 if self.cost >= 0 else self.capacity
        return min(max((rho * float(self.efficiency @ point) - self.cost) / curvature, 0.0), self.capacity)

    def local_cost(self, p: float) -> float:
        return self.cost * p + 0.5 * self.quadratic_cost * p * p

    def local_step(self, point: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
        p = self.input_for(point, rho)
        return self.efficiency * p, self.local_cost(p)
