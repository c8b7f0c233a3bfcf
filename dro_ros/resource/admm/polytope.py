"""The general ADMM flex actor: outputs in a polytope, a linear cost (the reference's `ADMMFlexActor`).

    X = { x in R^m : lb <= x <= ub,  C x <= d },   f(x) = S . x

S is a per-output cost (the reference's priorities enter as S = -P, so a positive priority is a reward).
The ADMM x-update (Boyd et al. 2011, eq. 7.6 per actor) is the strictly convex QP

    x <- argmin_{x in X}  S . x + rho/2 ||x - a||^2,    a = z_i - u_i,

solved exactly by HiGHS (active-set QP, Hessian rho I). An empty X is refused when the actor is built,
with the name of the actor in the message, never discovered as a failed step mid-run.
"""
from __future__ import annotations

from typing import Any

import highspy
import numpy as np

from dro_ros.resource.admm.local import LocalActor


class InfeasibleActorError(ValueError):
    """The actor's feasible set { lb <= x <= ub, C x <= d } is empty or its data is malformed."""


class PolytopeFlexActor(LocalActor):
    """ADMM actor over X = {lb <= x <= ub, C x <= d} with cost S . x; `x` holds its latest output."""

    def __init__(self, lb: Any, ub: Any, C: Any, d: Any, S: Any, *, name: str = "flex actor") -> None:
        self.name = name
        self.lb, self.ub, self.S = (self._vector(value, field) for value, field in ((lb, "lb"), (ub, "u"), (S, "S")))
        m = self.lb.size
        for value, field in ((self.ub, "u"), (self.S, "S")):
            if value.size != m:
                raise InfeasibleActorError(f"{name}.{field}: has {value.size} entries, lb has {m}")
        self.C = np.atleast_2d(np.asarray(C, dtype=float)) if np.size(C) else np.zeros((0, m))
        self.d = np.asarray(d, dtype=float).reshape(-1)
        if self.C.shape[1] != m or self.C.shape[0] != self.d.size:
            raise InfeasibleActorError(f"{name}.C: shape {self.C.shape} does not match {m} outputs and "
                                       f"{self.d.size} rows of d")
        if np.any(np.isnan(self.C)) or np.any(np.isnan(self.d)):
            raise InfeasibleActorError(f"{name}.C/d: contain NaN")
        if np.any(self.lb > self.ub):
            bad = int(np.argmax(self.lb > self.ub))
            raise InfeasibleActorError(f"{name}: lb[{bad}] = {self.lb[bad]} > u[{bad}] = {self.ub[bad]}")
        self.x = np.zeros(m)
        self.dimension_label = name
        self._highs: highspy.Highs | None = None
        self._rho: float | None = None
        self.solve(np.zeros(m), 1.0)  # refuses an empty feasible set now, naming the actor

    @staticmethod
    def _vector(value: Any, field: str) -> np.ndarray:
        vector = np.asarray(value, dtype=float).reshape(-1)
        if np.any(np.isnan(vector)):
            raise InfeasibleActorError(f"{field}: contains NaN")
        return vector

    def _model(self) -> highspy.Highs:
        """The QP with its constraints, built once; each solve changes only the costs (and rho)."""
        m = self.lb.size
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = m, self.C.shape[0]
        lp.col_cost_ = self.S.copy()
        lp.col_lower_, lp.col_upper_ = self.lb, self.ub
        lp.row_lower_ = np.full(self.C.shape[0], -highspy.kHighsInf)
        lp.row_upper_ = self.d
        columns = [np.flatnonzero(self.C[:, j]) for j in range(m)]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.cumsum([0] + [len(rows) for rows in columns])
        lp.a_matrix_.index_ = np.concatenate(columns).astype(np.int32)
        lp.a_matrix_.value_ = np.concatenate([self.C[rows, j] for j, rows in enumerate(columns)])
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(lp)
        return highs

    def solve(self, point: np.ndarray, rho: float) -> np.ndarray:
        """argmin_{x in X} S . x + rho/2 ||x - point||^2 (module docstring); raises if X is empty."""
        m = self.lb.size
        if self._highs is None:
            self._highs = self._model()
        if rho != self._rho:  # Hessian rho I, diagonal: triangular format, one entry per column
            self._highs.passHessian(m, m, highspy.HessianFormat.kTriangular.value, np.arange(m + 1, dtype=np.int32),
                                    np.arange(m, dtype=np.int32), np.full(m, float(rho)))
            self._rho = rho
        self._highs.changeColsCost(m, np.arange(m, dtype=np.int32), self.S - rho * np.asarray(point, dtype=float))
        self._highs.run()
        status = self._highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise InfeasibleActorError(f"{self.name}: local QP {self._highs.modelStatusToString(status)} "
                                       f"(is lb <= x <= u, C x <= d empty?)")
        return np.clip(np.asarray(self._highs.getSolution().col_value, dtype=float), self.lb, self.ub)

    def local_step(self, point: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
        x = self.solve(point, rho)
        return x, float(self.S @ x)
