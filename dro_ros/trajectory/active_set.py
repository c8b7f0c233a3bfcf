"""Exact re-solves of a QP stage from a guessed active set (primal-dual active set method).

When every constraint of a `Stage` is linear in its variables w (linear dynamics, the platoon's ordering
rows, no speed, input or ball-terminal rows), the stage is the convex QP

    min_w  1/2 w^T H w + g^T w   s.t.  E w = e  (dynamics, terminal bounds),   C w + c <= 0   (Q)

with H, g, e, c depending on the parameters only. Given a set A of rows of Q held as equalities, one
sparse LU solve of the KKT system

    [ H    E^T   C_A^T ] [  w  ]   [ -g   ]
    [ E    0     0     ] [  nu ] = [  e   ]
    [ C_A  0     0     ] [ mu_A]   [ -c_A ]

gives w, nu and mu_A (mu = 0 off A). The primal-dual active set update (Hintermueller, Ito and Kunisch
2002) A <- {j : mu_j + kappa (C w + c)_j > 0} repeats until A is unchanged; then mu >= 0 on A and
C w + c <= 0 off A, every KKT condition of the convex QP holds, and w is its global optimum, to the
accuracy of a direct solve. This is the external active set idea (Alg. 4) taken to its end for QPs:
the working set is updated from the multipliers as well as the violations, and each round is one linear
solve instead of an Ipopt run.

Started from the previous solve's active set, as in the iterations of NC-ADMM, where a local problem is
re-solved with slowly changing parameters, it typically needs one to three LU solves. It gives up
(returns None, and the caller runs Ipopt) when the stage is not such a QP, the KKT matrix is singular,
or the set has not settled within `max_rounds`.
"""
from __future__ import annotations

import time
from typing import Any

import casadi as ca
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from dro_ros.trajectory.stage import SolveResult, SolveStatus, Stage

FEASIBILITY_TOL = 1e-9   # C w + c <= FEASIBILITY_TOL off A (the units of the stage's rows)
MULTIPLIER_TOL = 1e-9    # mu >= -MULTIPLIER_TOL on A
EXACT = "Active_Set_Exact"  # the `return_status` of a PDAS solution


class ActiveSetQp:
    """The QP data of one `Stage`, compiled once, and its PDAS re-solve.

    H, E and C depend on few parameters (NC-ADMM: the weights and rho), so they are assembled once per value
    of those, and the LU factors of the KKT matrix are kept for the last `cached` active sets: once the
    active set has settled, a re-solve is two triangular solves."""

    def __init__(self, stage: Stage, *, max_rounds: int = 8, kappa: float = 1.0, cached: int = 4) -> None:
        self.stage, self.max_rounds, self.kappa, self.cached = stage, max_rounds, kappa, cached
        w, p = stage.w, stage.p
        hessian, jacobian = ca.hessian(stage.f, w)[0], ca.jacobian(stage.g_all, w)
        finite = np.isfinite(stage.lbx)
        self.applicable = (not ca.depends_on(hessian, w) and not ca.depends_on(jacobian, w)
                           and np.array_equal(finite, np.isfinite(stage.ubx))
                           and np.array_equal(stage.lbx[finite], stage.ubx[finite]))
        if not self.applicable:
            return
        zero = ca.DM.zeros(w.numel())
        dynamics = ca.jacobian(stage.g_eq, w)
        self._matrices = ca.Function("qp_matrices", [p], [hessian, dynamics, jacobian])
        self._vectors = ca.Function("qp_vectors", [p], [ca.substitute(ca.vertcat(ca.gradient(stage.f, w),
                                                                               stage.g_eq, stage.g_all), w, zero)])
        entries = ca.vertcat(*[matrix.nz[:] for matrix in (hessian, dynamics, jacobian)])
        self._matrix_parameters = np.unique(np.asarray(ca.jacobian(entries, p).sparsity().get_col(), dtype=int))
        fixed = np.flatnonzero(finite)
        self._fixed_values = stage.lbx[fixed]
        self._fixed_rows = sp.csr_matrix((np.ones(fixed.size), (np.arange(fixed.size), fixed)),
                                         shape=(fixed.size, w.numel()))
        self._n, self._n_dynamics = w.numel(), int(stage.g_eq.numel())
        self._key: bytes | None = None
        self._factors: dict[bytes, Any] = {}

    def active_rows(self, result: SolveResult, parameters: np.ndarray) -> np.ndarray:
        """The rows of Q a solution holds active: mu_j + kappa c_j(w) > 0, mu from its `dual`."""
        values = self.stage.inequality_values(result.primal, parameters)
        multipliers = result.dual[self._n_dynamics:] if result.dual.size == self._n_dynamics + values.size \
            else np.zeros(values.size)
        return multipliers + self.kappa * values > 0

    def solve(self, parameters: np.ndarray, active: np.ndarray) -> SolveResult | None:
        """The QP's optimum by PDAS from the boolean row set `active`, or None (see the module docstring)."""
        if not self.applicable:
            return None
        started = time.perf_counter()
        self._assemble(parameters)
        n, n_dynamics = self._n, self._n_dynamics
        vectors = np.asarray(self._vectors(parameters)).ravel()
        gradient, offsets = vectors[:n], vectors[n + n_dynamics:]
        rhs_equalities = np.concatenate([-vectors[n:n + n_dynamics], self._fixed_values])
        n_eq = rhs_equalities.size
        active = np.asarray(active, dtype=bool).copy()
        for round_ in range(1, self.max_rounds + 1):
            chosen = np.flatnonzero(active)
            factor = self._factor(active, chosen)
            if factor is None:
                return None
            solution = factor.solve(np.concatenate([-gradient, rhs_equalities, -offsets[chosen]]))
            if not np.all(np.isfinite(solution)):
                return None
            w = solution[:n]
            multipliers = np.zeros(offsets.size)
            multipliers[chosen] = solution[n + n_eq:]
            values = self._rows @ w + offsets
            if (values[~active] <= FEASIBILITY_TOL).all() and (multipliers[active] >= -MULTIPLIER_TOL).all():
                return self._result(w, parameters, solution[n:n + n_dynamics], multipliers, round_,
                                    time.perf_counter() - started)
            following = multipliers + self.kappa * values > 0
            if np.array_equal(following, active):
                return None
            active = following
        return None

    def _assemble(self, parameters: np.ndarray) -> None:
        """H, the equality rows E and the rows C of Q at these parameters, unless already assembled."""
        key = np.asarray(parameters)[self._matrix_parameters].tobytes()
        if key == self._key:
            return
        hessian, dynamics, rows = (_sparse(matrix) for matrix in self._matrices(parameters))
        self._hessian = hessian.tocsc()
        self._equalities = sp.vstack([dynamics, self._fixed_rows]).tocsc()
        self._rows = rows.tocsr()
        self._key, self._factors = key, {}

    def _factor(self, active: np.ndarray, chosen: np.ndarray) -> Any:
        """The LU factors of the KKT matrix for the active set (None if singular), the last `cached` kept."""
        key = np.packbits(active).tobytes()
        if key not in self._factors:
            constraints = sp.vstack([self._equalities, self._rows[chosen]]).tocsc()
            kkt = sp.bmat([[self._hessian, constraints.T], [constraints, None]], format="csc")
            try:
                factor = spla.splu(kkt)
            except RuntimeError:                       # singular: dependent active rows
                factor = None
            if len(self._factors) >= self.cached:
                self._factors.pop(next(iter(self._factors)))
            self._factors[key] = factor
        return self._factors[key]

    def _result(self, w: np.ndarray, parameters: np.ndarray, dynamics_multipliers: np.ndarray,
                row_multipliers: np.ndarray, rounds: int, elapsed: float) -> SolveResult:
        inputs, states = self.stage.unpack(w, parameters)
        return SolveResult(
            status=SolveStatus.SOLVED, return_status=EXACT,
            objective=float(sum(np.sum(u ** 2) for u in inputs.values())), inputs=inputs, states=states,
            iterations=rounds, solve_time=elapsed, build_time=0.0, primal=w,
            dual=np.concatenate([dynamics_multipliers, row_multipliers]))


def _sparse(matrix: ca.DM) -> sp.csc_matrix:
    """A CasADi DM (column-compressed) as a SciPy CSC matrix with the same pattern."""
    matrix = ca.DM(matrix)
    sparsity = matrix.sparsity()
    return sp.csc_matrix((np.asarray(matrix.nonzeros(), dtype=float), sparsity.row(), sparsity.colind()),
                         shape=matrix.shape)
