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

import casadi as ca
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from dro_ros.trajectory.stage import SolveResult, SolveStatus, Stage

FEASIBILITY_TOL = 1e-9   # C w + c <= FEASIBILITY_TOL off A (the units of the stage's rows)
MULTIPLIER_TOL = 1e-9    # mu >= -MULTIPLIER_TOL on A
EXACT = "Active_Set_Exact"  # the `return_status` of a PDAS solution


class ActiveSetQp:
    """The QP data of one `Stage`, compiled once, and its PDAS re-solve."""

    def __init__(self, stage: Stage, *, max_rounds: int = 8, kappa: float = 1.0) -> None:
        self.stage, self.max_rounds, self.kappa = stage, max_rounds, kappa
        zero = np.zeros(stage.w.numel())
        jacobian = ca.jacobian(stage.g_all, stage.w)
        self.applicable = (not ca.depends_on(jacobian, stage.w)
                           and np.array_equal(stage.lbx[np.isfinite(stage.lbx)], stage.ubx[np.isfinite(stage.lbx)])
                           and np.array_equal(np.isfinite(stage.lbx), np.isfinite(stage.ubx)))
        if not self.applicable:
            return
        base = stage.base_functions()
        self._zero = zero
        self._hessian, self._gradient = base["hess_f"], base["grad_f"]
        self._dynamics, self._dynamics_jacobian = base["g_eq"], base["jac_eq"]
        self._rows = ca.Function("rows_linear", [stage.w, stage.p], [stage.g_all, jacobian])
        fixed = np.flatnonzero(np.isfinite(stage.lbx))
        self._fixed, self._fixed_values = fixed, stage.lbx[fixed]
        self._fixed_rows = sp.csr_matrix((np.ones(fixed.size), (np.arange(fixed.size), fixed)),
                                         shape=(fixed.size, zero.size))

    def active_rows(self, result: SolveResult, parameters: np.ndarray) -> np.ndarray:
        """The rows of Q a solution holds active: mu_j + kappa c_j(w) > 0, mu from its `dual`."""
        n_eq = int(self.stage.g_eq.numel())
        values = self.stage.inequality_values(result.primal, parameters)
        multipliers = result.dual[n_eq:] if result.dual.size == n_eq + values.size else np.zeros(values.size)
        return multipliers + self.kappa * values > 0

    def solve(self, parameters: np.ndarray, active: np.ndarray) -> SolveResult | None:
        """The QP's optimum by PDAS from the boolean row set `active`, or None (see the module docstring)."""
        if not self.applicable:
            return None
        started = time.perf_counter()
        w0, stage = self._zero, self.stage
        triangle = _sparse(self._hessian(w0, parameters))
        hessian = (triangle + triangle.T - sp.diags(triangle.diagonal())).tocsr()
        _, gradient = self._gradient(w0, parameters)
        gradient = np.asarray(gradient).ravel()
        dynamics = sp.vstack([_sparse(self._dynamics_jacobian(w0, parameters)), self._fixed_rows]).tocsr()
        rhs_dynamics = np.concatenate([-np.asarray(self._dynamics(w0, parameters)).ravel(), self._fixed_values])
        offsets, rows = self._rows(w0, parameters)
        offsets, rows = np.asarray(offsets).ravel(), _sparse(rows).tocsr()
        active = np.asarray(active, dtype=bool).copy()
        n, n_eq = w0.size, dynamics.shape[0]
        for round_ in range(1, self.max_rounds + 1):
            chosen = np.flatnonzero(active)
            constraints = sp.vstack([dynamics, rows[chosen]]).tocsc()
            kkt = sp.bmat([[hessian, constraints.T], [constraints, None]], format="csc")
            try:
                solution = spla.splu(kkt).solve(np.concatenate([-gradient, rhs_dynamics, -offsets[chosen]]))
            except RuntimeError:                       # singular: dependent active rows
                return None
            if not np.all(np.isfinite(solution)):
                return None
            w = solution[:n]
            multipliers = np.zeros(offsets.size)
            multipliers[chosen] = solution[n + n_eq:]
            values = rows @ w + offsets
            if (values[~active] <= FEASIBILITY_TOL).all() and (multipliers[active] >= -MULTIPLIER_TOL).all():
                return self._result(w, parameters, solution[n:n + n_eq - self._fixed.size], multipliers,
                                    round_, time.perf_counter() - started)
            following = multipliers + self.kappa * values > 0
            if np.array_equal(following, active):
                return None
            active = following
        return None

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
