"""The general ADMM flex actor: outputs in a polytope, a linear cost (the reference's `ADMMFlexActor`).

    X = { x in R^m : lb <= x <= ub,  C x <= d },   f(x) = S . x

S is a per-output cost (the reference's priorities enter as S = -P, so a positive priority is a reward).
The ADMM x-update (Boyd et al. 2011, eq. 7.6 per actor) is the strictly convex QP

    x <- argmin_{x in X}  S . x + rho/2 ||x - a||^2,    a = z_i - u_i,

i.e. the Euclidean projection of a - S / rho onto X: argmin_{x in X} 1/2 ||x||^2 + (S / rho - a) . x,
whose Hessian is I whatever rho. It is solved exactly (the KKT system of the final active set, to
round-off; rows violated by at most `PRIMAL_TOLERANCE`) by DAQP's dual active-set method (Arnstrom,
Bemporad, Axehill 2022), made for small dense strictly convex QPs, with the rows of C scaled to unit
norm. An empty X is refused when the actor is built, with the name of the actor in the message, never
discovered as a failed step mid-run.
"""
from __future__ import annotations

from typing import Any

import daqp
import numpy as np

from dro_ros.resource.admm.local import LocalActor


PRIMAL_TOLERANCE = 1e-10  # DAQP's largest violation of a (unit) row; its default, 1e-6, is visible in x
DAQP_EXITFLAGS = {-1: "infeasible", -2: "cycling", -3: "unbounded", -4: "iteration limit", -5: "nonconvex",
                  -6: "overdetermined initial active set"}


class InfeasibleActorError(ValueError):
    """The actor's feasible set { lb <= x <= ub, C x <= d } is empty or its data is malformed."""


class PolytopeFlexActor(LocalActor):
    """ADMM actor over X = {lb <= x <= ub, C x <= d} with cost S . x; `x` holds its latest output."""

    def __init__(self, lb: Any, ub: Any, C: Any, d: Any, S: Any, *, name: str = "flex actor") -> None:
        self.name = name
        self.lb, self.ub, self.S = (self._array(name, field, value, 1)
                                    for field, value in (("lb", lb), ("u", ub), ("S", S)))
        m = self.lb.size
        for value, field in ((self.ub, "u"), (self.S, "S")):
            if value.size != m:
                raise InfeasibleActorError(f"{name}.{field}: has {value.size} entries, lb has {m}")
        self.C = self._array(name, "C", C, 2)
        if self.C.size == 0:  # [] or np.zeros((0, m)): no rows
            self.C = np.zeros((0, m))
        self.d = self._array(name, "d", d, 1)
        if self.C.shape[1] != m or self.C.shape[0] != self.d.size:
            raise InfeasibleActorError(f"{name}.C: shape {self.C.shape} does not match {m} outputs and "
                                       f"{self.d.size} rows of d")
        # +inf in u and d, -inf in lb mean "no bound"; any other infinite value cannot be meant
        for field, values, allowed in (("lb", self.lb, -np.inf), ("u", self.ub, np.inf), ("d", self.d, np.inf),
                                       ("S", self.S, None), ("C", self.C, None)):
            bad = np.isinf(values) & (values != allowed)
            if bad.any():
                raise InfeasibleActorError(f"{name}.{field}: infinite entry at {np.argwhere(bad)[0].tolist()}")
        if np.any(self.lb > self.ub):
            bad = int(np.argmax(self.lb > self.ub))
            raise InfeasibleActorError(f"{name}: lb[{bad}] = {self.lb[bad]} > u[{bad}] = {self.ub[bad]}")
        self.x = np.zeros(m)
        self.dimension_label = name
        rows, bounds = self._unit_rows(name)
        # DAQP's layout: the first m bounds are the box, the rest bound the rows
        self._rows, self._hessian = rows, np.eye(m)
        self._upper = np.concatenate([self.ub, bounds])
        self._lower = np.concatenate([self.lb, np.full(bounds.size, -np.inf)])
        self._sense = np.zeros(m + bounds.size, dtype=np.int32)
        self.solve(np.zeros(m), 1.0)  # refuses an empty feasible set now, naming the actor

    @staticmethod
    def _array(name: str, field: str, value: Any, ndim: int) -> np.ndarray:
        """`value` as a float vector (ndim 1) or matrix (ndim 2) without NaN, else the error names it."""
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InfeasibleActorError(f"{name}.{field}: expected numbers in a "
                                       f"{'vector' if ndim == 1 else 'matrix'}, got {value!r}") from None
        array = array.reshape(-1) if ndim == 1 else np.atleast_2d(array)
        if array.ndim != ndim or np.any(np.isnan(array)):
            raise InfeasibleActorError(f"{name}.{field}: expected a {'vector' if ndim == 1 else 'matrix'} "
                                       f"without NaN, got {value!r}")
        return array

    def _unit_rows(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """C x <= d with every row scaled to unit norm (the same set; a row of 1e-8 entries would sit
        inside the solver's feasibility tolerance), rows of zeros dropped (0 <= d_k) or refused."""
        norms = np.linalg.norm(self.C, axis=1)
        zero = norms == 0
        if np.any(self.d[zero] < 0):
            bad = int(np.flatnonzero(zero & (self.d < 0))[0])
            raise InfeasibleActorError(f"{name}: row {bad} of C is 0 and d[{bad}] = {self.d[bad]} < 0")
        return np.ascontiguousarray(self.C[~zero] / norms[~zero, None]), self.d[~zero] / norms[~zero]

    def solve(self, point: np.ndarray, rho: float) -> np.ndarray:
        """argmin_{x in X} S . x + rho/2 ||x - point||^2 (module docstring); raises if X is empty."""
        m = self.lb.size
        linear = self.S / rho - np.asarray(point, dtype=float)
        x, _, exitflag, _ = daqp.solve(self._hessian, linear, self._rows, self._upper, self._lower, self._sense.copy(),
                                       primal_tol=PRIMAL_TOLERANCE)
        if exitflag != 1:
            raise InfeasibleActorError(f"{self.name}: local QP {DAQP_EXITFLAGS.get(exitflag, exitflag)} "
                                       f"(is lb <= x <= u, C x <= d empty?)")
        return np.clip(np.asarray(x, dtype=float)[:m], self.lb, self.ub)

    def local_step(self, point: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
        x = self.solve(point, rho)
        return x, float(self.S @ x)
