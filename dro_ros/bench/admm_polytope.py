"""General ADMM actors (`PolytopeFlexActor`, the reference's `ADMMFlexActor(lb, u, C, d, S)`): seeded
instance families and independent centralized optima, for `dro-ros bench admm-random` and the property
tests.

An actor is X_i = { lb_i <= x_i <= u_i, C_i x_i <= d_i } with the linear cost S_i . x_i; m = 3 outputs.
- "polytope": 1-4 actors, lb U[-10, 0]^m, u U[0, 10]^m, 0-3 rows of C with entries U[-1, 1] and
  d = C x0 + U[0, 2] for a point x0 drawn in the box (so X is never empty), S U[-1, 1]^m; target
  U[-6, 6]^m, weights U[1, 3]^m.
- "ratio": the one-to-many actors of the "small" family (3-4 actors, capacity U[5, 15], efficiency
  U[-1, 1]^m) with priorities P U[0, 0.2]^m, written as the reference writes them for its general actor:
  the box of capacity * efficiency, the ratio rows of C in pairs (x_j / x_pivot fixed, an equality as
  two inequalities) and S = -P (`dro_ros.compat.create_admm_flex_actor_one_to_many`'s lb, u, C, d, S).
  Degenerate: every X is a segment.

Centralized optima over all x = (x_1, ..., x_n), with HiGHS:
- sharing, the LP  min sum_i S_i . x_i + w . s  s.t.  -s <= sum_i x_i - t <= s,  x_i in X_i
  (scipy linprog);
- consensus, the QP  min sum_i S_i . x_i + penalty/2 sum_k w_k (sum_i x_ik - t_k)^2  s.t.  x_i in X_i
  (highspy).
"""
from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import block_diag, csc_matrix, hstack, identity, vstack

from dro_ros.compat.admm import create_admm_flex_actor_one_to_many
from dro_ros.resource.admm.polytope import PolytopeFlexActor

OUTPUTS = 3
FAMILIES = ("polytope", "ratio")
QP_TIME_LIMIT = 10.0  # s; a centralized QP of these sizes takes milliseconds


@dataclass(frozen=True)
class Polytope:
    """One general actor's data: X = {lb <= x <= ub, C x <= d}, cost S . x."""

    lb: np.ndarray
    ub: np.ndarray
    C: np.ndarray
    d: np.ndarray
    S: np.ndarray


@dataclass(frozen=True)
class PolytopeInstance:
    actors: list[Polytope]
    target: np.ndarray
    weights: np.ndarray


def instance(family: str, seed: int) -> PolytopeInstance:
    """One seeded instance of `family` (module docstring)."""
    rng = np.random.default_rng(seed)
    if family == "polytope":
        actors = []
        for _ in range(int(rng.integers(1, 5))):
            lb, ub = rng.uniform(-10, 0, OUTPUTS), rng.uniform(0, 10, OUTPUTS)
            C = rng.uniform(-1, 1, (int(rng.integers(0, 4)), OUTPUTS))
            d = C @ rng.uniform(lb, ub) + rng.uniform(0, 2, C.shape[0])
            actors.append(Polytope(lb, ub, C, d, rng.uniform(-1, 1, OUTPUTS)))
        return PolytopeInstance(actors, rng.uniform(-6, 6, OUTPUTS), rng.uniform(1, 3, OUTPUTS))
    if family == "ratio":
        n = int(rng.integers(3, 5))
        capacity, efficiency = rng.uniform(5, 15, n), rng.uniform(-1, 1, (n, OUTPUTS))
        priorities = rng.uniform(0, 0.2, (n, OUTPUTS))
        encoded = [create_admm_flex_actor_one_to_many(c, e, p) for c, e, p in zip(capacity, efficiency, priorities)]
        actors = [Polytope(a.lb, a.ub, a.C, a.d, a.S) for a in encoded]
        return PolytopeInstance(actors, rng.uniform(-6, 6, OUTPUTS), np.ones(OUTPUTS))
    raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")


def actors(data: PolytopeInstance) -> list[PolytopeFlexActor]:
    """One general actor per polytope, solving its x-update as a QP (no closed form)."""
    return [PolytopeFlexActor(a.lb, a.ub, a.C, a.d, a.S, name=f"actor_{k}")
            for k, a in enumerate(data.actors, start=1)]


def _stacked(data: PolytopeInstance) -> tuple[csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Block-diagonal C, stacked d, lb, ub, S over all actors; and the summing matrix [I I ... I]."""
    C = block_diag([csc_matrix(a.C.reshape(-1, OUTPUTS)) for a in data.actors], format="csc")
    return (C, np.concatenate([a.d for a in data.actors]), np.concatenate([a.lb for a in data.actors]),
            np.concatenate([a.ub for a in data.actors]), np.concatenate([a.S for a in data.actors]))


def _summing(data: PolytopeInstance) -> np.ndarray:
    """A = [I ... I], so that A x = sum_i x_i."""
    return np.tile(np.eye(OUTPUTS), len(data.actors))


def centralized_sharing(data: PolytopeInstance) -> float:
    """The LP optimum (module docstring), variables (x, s)."""
    C, d, lb, ub, S = _stacked(data)
    total, eye, t = csc_matrix(_summing(data)), identity(OUTPUTS, format="csc"), data.target
    rows = vstack([hstack([C, csc_matrix((C.shape[0], OUTPUTS))]), hstack([total, -eye]), hstack([-total, -eye])])
    solution = linprog(np.concatenate([S, data.weights]), A_ub=rows, b_ub=np.concatenate([d, t, -t]),
                       bounds=list(zip(lb, ub)) + [(0, None)] * OUTPUTS, method="highs")
    if solution.status != 0:
        raise RuntimeError(f"HiGHS LP: {solution.message}")
    return float(solution.fun)


def centralized_consensus(data: PolytopeInstance, penalty: float) -> float:
    """The QP optimum (module docstring) by HiGHS, in one of two equivalent forms. HiGHS's QP solver
    fails on some instances of either form: the aggregate form reports a solve error when a box is
    ~1e-7 wide, the summed form "Unbounded" on a boxed problem ("polytope" seed 408); both agree to
    1e-7 relative on the 1,000 instances of the two families where both solve. So the aggregate form
    runs first and the summed form if it fails; each has a time limit, as HiGHS's QP solver can cycle
    (ERGO-Code/HiGHS#1583)."""
    errors = []
    for form in (_aggregate_form, _summed_form):
        try:
            x = form(data, penalty)
        except RuntimeError as error:
            errors.append(f"{form.__name__}: {error}")
            continue
        S, total = np.concatenate([a.S for a in data.actors]), _summing(data)
        return float(S @ x + 0.5 * penalty * data.weights @ (total @ x - data.target) ** 2)
    raise RuntimeError("HiGHS QP failed in both forms: " + "; ".join(errors))


def _aggregate_form(data: PolytopeInstance, penalty: float) -> np.ndarray:
    """Variables (x, e) with rows C x <= d and A x - e = t; Hessian penalty diag(w) on e only."""
    C, d, lb, ub, S = _stacked(data)
    free = np.full(OUTPUTS, np.inf)
    rows = vstack([hstack([C, csc_matrix((C.shape[0], OUTPUTS))]),
                   hstack([csc_matrix(_summing(data)), -identity(OUTPUTS, format="csc")])], format="csc")
    hessian = csc_matrix(np.diag(np.concatenate([np.zeros(S.size), penalty * data.weights])))
    solution = _highs_qp(np.concatenate([S, np.zeros(OUTPUTS)]), np.concatenate([lb, -free]),
                         np.concatenate([ub, free]), rows, np.concatenate([np.full(d.size, -np.inf), data.target]),
                         np.concatenate([d, data.target]), hessian)
    return solution[:S.size]


def _summed_form(data: PolytopeInstance, penalty: float) -> np.ndarray:
    """Variables x with rows C x <= d; Hessian penalty A^T W A, linear term S - penalty A^T W t."""
    C, d, lb, ub, S = _stacked(data)
    total = _summing(data)
    hessian = csc_matrix(penalty * total.T @ (data.weights[:, None] * total))
    return _highs_qp(S - penalty * total.T @ (data.weights * data.target), lb, ub, C.tocsc(),
                     np.full(d.size, -np.inf), d, hessian)


def _highs_qp(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, rows: csc_matrix, row_lower: np.ndarray,
              row_upper: np.ndarray, hessian: csc_matrix) -> np.ndarray:
    """argmin cost . x + 1/2 x^T hessian x s.t. lower <= x <= upper, row_lower <= rows x <= row_upper."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cost.size, rows.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.maximum(lower, -highspy.kHighsInf), np.minimum(
        upper, highspy.kHighsInf)
    lp.row_lower_ = np.maximum(row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.minimum(row_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = rows.indptr, rows.indices, rows.data
    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("time_limit", QP_TIME_LIMIT)
    model.passModel(lp)
    lower_triangle = csc_matrix(np.tril(hessian.toarray()))  # HiGHS's triangular format, column-wise
    model.passHessian(cost.size, lower_triangle.nnz, highspy.HessianFormat.kTriangular.value,
                      lower_triangle.indptr.astype(np.int32), lower_triangle.indices.astype(np.int32),
                      lower_triangle.data)
    model.run()
    if model.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS QP: {model.modelStatusToString(model.getModelStatus())}")
    return np.asarray(model.getSolution().col_value)
