"""`dro-ros bench admm-sharing|admm-consensus`: ADMM with a coordinator vs an independent centralized solve.

Two seeded instance families of n flex actors with m = 3 outputs:
- "reference": the three actor types of the reference README example (capacities 10, 15, 10; efficiencies
  [0.1, 0.5, -1], [0.1, 0.5, -1], [-1, 0, 1]) repeated, each scaled by U[0.8, 1.2] (capacity) and
  U[0.9, 1.1] (efficiency); target [-4, 0, 6] * n / 3, weights [5, 1, 1]. The README example, grown.
- "random": capacity U[5, 20], efficiencies U[-1, 1]^m, linear input cost U[0, 0.1]; the target is 1.3
  times the output of a random input vector plus noise, weights U[1, 5]. A harder LP for ADMM: many
  near-degenerate optima.
- "small": 3 or 4 actors, capacity U[5, 15], efficiencies U[-1, 1]^3, no input cost, target U[-6, 6]^3,
  weights 1 (the instances of issue 17, on which unrestricted residual balancing missed half the time).
Consensus instances add a quadratic input cost U[0.01, 0.1] to every actor.

`dro-ros bench admm-random` runs many instances of the "small" family and of the general-actor families
of `admm_polytope` ("polytope", "ratio") (sharing, and consensus with the default penalty, without
quadratic cost) with the default coordinators and counts misses: objective not within 1e-4 relative of
the centralized optimum (relative to max(|optimum|, 1), as an exact target match has optimum 0).

Centralized references, in the input variables p (x_i = eta_i p_i, 0 <= p_i <= P_i):
- sharing: the LP  min c.p + w.s  s.t.  -s <= A p - t <= s  (scipy linprog, HiGHS);
- consensus: the bounded QP  min c.p + q.p^2/2 + penalty/2 sum_k w_k (A p - t)_k^2 with HiGHS (highspy).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import highspy
from scipy.optimize import linprog

from dro_ros.bench import admm_polytope
from dro_ros.resource.admm.api import (create_admm_sharing_data, create_admm_start,
                                  create_consensus_target_reach_admm_coordinator,
                                  create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)
from dro_ros.resource.admm.flex import FlexActor
from dro_ros.spec.registry import make_agent


REFERENCE_TYPES = [(10.0, [0.1, 0.5, -1.0]), (15.0, [0.1, 0.5, -1.0]), (10.0, [-1.0, 0.0, 1.0])]


def instance(family: str, n: int, seed: int, quadratic: bool) -> dict[str, np.ndarray]:
    """One seeded instance of `family` (module docstring); "small" draws its own n (3 or 4)."""
    rng = np.random.default_rng(seed)
    if family == "reference":
        capacity = np.array([REFERENCE_TYPES[i % 3][0] for i in range(n)]) * rng.uniform(0.8, 1.2, n)
        efficiency = np.array([REFERENCE_TYPES[i % 3][1] for i in range(n)]) * rng.uniform(0.9, 1.1, (n, 1))
        data = {"capacity": capacity, "efficiency": efficiency, "cost": np.zeros(n),
                "target": np.array([-4.0, 0.0, 6.0]) * n / 3, "weights": np.array([5.0, 1.0, 1.0])}
    elif family == "random":
        capacity = rng.uniform(5, 20, n)
        efficiency = rng.uniform(-1, 1, (n, 3))
        data = {"capacity": capacity, "efficiency": efficiency, "cost": rng.uniform(0, 0.1, n),
                "target": 1.3 * (rng.uniform(0, 1, n) * capacity) @ efficiency + rng.normal(0, 1, 3),
                "weights": rng.uniform(1, 5, 3)}
    elif family == "small":
        n = int(rng.integers(3, 5))
        data = {"capacity": rng.uniform(5, 15, n), "efficiency": rng.uniform(-1, 1, (n, 3)), "cost": np.zeros(n),
                "target": rng.uniform(-6, 6, 3), "weights": np.ones(3)}
    else:
        raise ValueError(f"family: expected reference, random or small, got {family!r}")
    data["quadratic_cost"] = rng.uniform(0.01, 0.1, n) if quadratic else np.zeros(n)
    return data


def actors(data: dict[str, np.ndarray]) -> list[FlexActor]:
    """One flex actor per row of `data`, built by the registered factory (`spec.registry`)."""
    return [make_agent("flex", {"capacity": data["capacity"][i], "efficiency": data["efficiency"][i],
                                "cost": data["cost"][i], "quadratic_cost": data["quadratic_cost"][i]})
            for i in range(len(data["capacity"]))]


def centralized_sharing(data: dict[str, np.ndarray]) -> float:
    n, m = data["efficiency"].shape
    a = data["efficiency"].T
    objective = np.concatenate([data["cost"], data["weights"]])
    rows = np.block([[a, -np.eye(m)], [-a, -np.eye(m)]])
    bounds = [(0, c) for c in data["capacity"]] + [(0, None)] * m
    solution = linprog(objective, A_ub=rows, b_ub=np.concatenate([data["target"], -data["target"]]),
                       bounds=bounds, method="highs")
    return float(solution.fun)


def centralized_consensus(data: dict[str, np.ndarray], penalty: float) -> float:
    """The bounded QP in p with HiGHS: Hessian diag(q) + penalty A^T W A, linear term c - penalty A^T W t."""
    a, w, t, c, q = data["efficiency"].T, data["weights"], data["target"], data["cost"], data["quadratic_cost"]
    n = a.shape[1]
    hessian = np.diag(q) + penalty * a.T @ (w[:, None] * a)
    lower = np.tril(hessian).T  # HiGHS takes the lower triangle column-wise: row indices >= column
    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, 0
    lp.col_cost_ = c - penalty * a.T @ (w * t)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.asarray(data["capacity"], float)
    model.passModel(lp)
    quadratic = highspy.HighsHessian()
    quadratic.dim_, quadratic.format_ = n, highspy.HessianFormat.kTriangular
    columns = [np.flatnonzero(lower[j, j:]) + j for j in range(n)]
    quadratic.start_ = np.concatenate([[0], np.cumsum([len(rows) for rows in columns])]).astype(np.int32)
    quadratic.index_ = np.concatenate(columns).astype(np.int32)
    quadratic.value_ = np.concatenate([lower[j, rows] for j, rows in enumerate(columns)])
    model.passHessian(quadratic)
    model.run()
    if model.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS QP: {model.modelStatusToString(model.getModelStatus())}")
    p = np.asarray(model.getSolution().col_value)
    return float(c @ p + 0.5 * q @ p**2 + 0.5 * penalty * w @ (a @ p - t) ** 2)


def _case(kind: str, family: str, n: int, seed: int, penalty: float) -> dict[str, Any]:
    data = instance(family, n, seed, quadratic=kind == "consensus")
    if kind == "sharing":
        coordinator = create_sharing_target_distance_admm_coordinator()
    else:
        coordinator = create_consensus_target_reach_admm_coordinator(penalty)
    start = create_admm_start(create_admm_sharing_data(data["target"], data["weights"]))
    started, cpu_started = time.perf_counter(), time.process_time()
    result = asyncio.run(start_coordinated_optimization(actors(data), coordinator, start))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    optimum = centralized_sharing(data) if kind == "sharing" else centralized_consensus(data, penalty)
    scale = float(np.abs(data["target"]).sum())
    row = {"family": family, "actors": n, "outputs": 3, "seed": seed, "status": result.status.value, "iterations": result.iterations,
           "messages": result.messages, "wall_time_s": round(wall, 4), "cpu_time_s": round(cpu, 4),
           "objective": result.objective,
           "centralized_objective": optimum, "gap": result.objective - optimum,
           "gap_over_target_l1": (result.objective - optimum) / scale}
    if kind == "consensus":
        row["penalty"] = penalty
    return row


def run_sharing(seed: int = 1) -> dict[str, Any]:
    """Reference family at 3, 50 and 200 actors; the harder random family at 50."""
    plan = [("reference", 3), ("reference", 50), ("reference", 200), ("random", 50)]
    return {"benchmark": "admm-sharing", "cases": [_case("sharing", f, n, seed, 0.0) for f, n in plan]}


def run_consensus(seed: int = 1) -> dict[str, Any]:
    """Both families at 50 actors with penalties 1 and 100, and at 200 actors with penalty 1."""
    plan = [(f, n, penalty) for f in ("reference", "random") for n, penalty in ((50, 1.0), (50, 100.0), (200, 1.0))]
    return {"benchmark": "admm-consensus", "cases": [_case("consensus", f, n, seed, p) for f, n, p in plan]}


MISS_TOLERANCE = 1e-4


RANDOM_FAMILIES = ("small", *admm_polytope.FAMILIES)


def _random_case(kind: str, family: str, seed: int) -> dict[str, Any]:
    """One seeded instance of `family` through the default coordinator of `kind`, against its optimum."""
    coordinator = (create_sharing_target_distance_admm_coordinator() if kind == "sharing"
                   else create_consensus_target_reach_admm_coordinator())
    if family == "small":
        data = instance("small", 0, seed, quadratic=False)
        agents, target, weights = actors(data), data["target"], data["weights"]
        best = (centralized_sharing(data) if kind == "sharing" else centralized_consensus(data, coordinator.penalty))
    else:
        general = admm_polytope.instance(family, seed)
        agents, target, weights = admm_polytope.actors(general), general.target, general.weights
        best = (admm_polytope.centralized_sharing(general) if kind == "sharing"
                else admm_polytope.centralized_consensus(general, coordinator.penalty))
    start = create_admm_start(create_admm_sharing_data(target, weights))
    started = time.perf_counter()
    result = asyncio.run(start_coordinated_optimization(agents, coordinator, start))
    wall = time.perf_counter() - started
    return {"seed": seed, "actors": len(agents), "status": result.status.value, "iterations": result.iterations,
            "wall_time_s": wall, "relative_error": abs(result.objective - best) / max(abs(best), 1.0)}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    misses = [r for r in rows if r["relative_error"] > MISS_TOLERANCE]
    iterations = np.array([r["iterations"] for r in rows])
    times = np.array([r["wall_time_s"] for r in rows])
    return {"misses": len(misses), "not_converged": sum(r["status"] != "converged" for r in rows),
            "max_relative_error": float(max(r["relative_error"] for r in rows)),
            "iterations": {"median": float(np.median(iterations)), "p99": float(np.percentile(iterations, 99)),
                           "max": int(iterations.max())},
            "wall_time_s": {"median": round(float(np.median(times)), 4), "max": round(float(times.max()), 4),
                            "total": round(float(times.sum()), 2)},
            "missed": [{**r, "wall_time_s": round(r["wall_time_s"], 4)} for r in misses]}


def run_random(instances: int = 500, seed: int = 0, families: list[str] | None = None) -> dict[str, Any]:
    """`instances` seeded instances per family and problem (seeds seed .. seed + instances - 1): the
    one-to-many "small" family and the general-actor families of `admm_polytope`."""
    if not (isinstance(instances, int) and instances >= 1):
        raise ValueError(f"instances: expected an integer >= 1, got {instances!r}")
    families = list(families or RANDOM_FAMILIES)
    unknown = [f for f in families if f not in RANDOM_FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown {unknown}; expected some of {list(RANDOM_FAMILIES)}")
    report: dict[str, Any] = {"benchmark": "admm-random", "instances": instances, "first_seed": seed,
                              "miss_tolerance": MISS_TOLERANCE}
    for kind in ("sharing", "consensus"):
        report[kind] = {family: _summary([_random_case(kind, family, k) for k in range(seed, seed + instances)])
                        for family in families}
    return report
