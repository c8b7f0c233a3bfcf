"""`dro-ros bench admm-sharing|admm-consensus`: ADMM with a coordinator vs an independent centralized solve.

Two seeded instance families of n flex actors with m = 3 outputs:
- "reference": the three actor types of the reference README example (capacities 10, 15, 10; efficiencies
  [0.1, 0.5, -1], [0.1, 0.5, -1], [-1, 0, 1]) repeated, each scaled by U[0.8, 1.2] (capacity) and
  U[0.9, 1.1] (efficiency); target [-4, 0, 6] * n / 3, weights [5, 1, 1]. The README example, grown.
- "random": capacity U[5, 20], efficiencies U[-1, 1]^m, linear input cost U[0, 0.1]; the target is 1.3
  times the output of a random input vector plus noise, weights U[1, 5]. A harder LP for ADMM: many
  near-degenerate optima.
Consensus instances add a quadratic input cost U[0.01, 0.1] to every actor.

Centralized references, in the input variables p (x_i = eta_i p_i, 0 <= p_i <= P_i):
- sharing: the LP  min c.p + w.s  s.t.  -s <= A p - t <= s  (scipy linprog, HiGHS);
- consensus: the bounded QP  min c.p + q.p^2/2 + penalty/2 sum_k w_k (A p - t)_k^2, written as a bounded
  linear least-squares problem (q > 0 completes the square) and solved exactly by scipy lsq_linear (BVLS).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from scipy.optimize import linprog, lsq_linear

from dro_ros.resource.admm.api import (create_admm_sharing_data, create_admm_start,
                                  create_consensus_target_reach_admm_coordinator,
                                  create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)
from dro_ros.resource.admm.flex import FlexActor
from dro_ros.spec.registry import make_agent


REFERENCE_TYPES = [(10.0, [0.1, 0.5, -1.0]), (15.0, [0.1, 0.5, -1.0]), (10.0, [-1.0, 0.0, 1.0])]


def instance(family: str, n: int, seed: int, quadratic: bool) -> dict[str, np.ndarray]:
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
    else:
        raise ValueError(f"family: expected reference or random, got {family!r}")
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
    """c.p + q.p^2/2 = ||sqrt(q/2) (p + c/q)||^2 - sum c^2/(2q): one bounded least-squares problem."""
    a, w, t, c, q = data["efficiency"].T, data["weights"], data["target"], data["cost"], data["quadratic_cost"]
    rows = np.vstack([np.sqrt(0.5 * penalty * w)[:, None] * a, np.diag(np.sqrt(q / 2))])
    rhs = np.concatenate([np.sqrt(0.5 * penalty * w) * t, -np.sqrt(q / 2) * c / q])
    p = lsq_linear(rows, rhs, bounds=(0, data["capacity"]), method="bvls", tol=1e-14).x
    return float(c @ p + 0.5 * q @ p**2 + 0.5 * penalty * w @ (a @ p - t) ** 2)


def _case(kind: str, family: str, n: int, seed: int, penalty: float) -> dict[str, Any]:
    data = instance(family, n, seed, quadratic=kind == "consensus")
    if kind == "sharing":
        coordinator = create_sharing_target_distance_admm_coordinator()
    else:
        coordinator = create_consensus_target_reach_admm_coordinator(penalty)
    start = create_admm_start(create_admm_sharing_data(data["target"], data["weights"]))
    started = time.perf_counter()
    result = asyncio.run(start_coordinated_optimization(actors(data), coordinator, start))
    wall = time.perf_counter() - started
    optimum = centralized_sharing(data) if kind == "sharing" else centralized_consensus(data, penalty)
    scale = float(np.abs(data["target"]).sum())
    row = {"family": family, "actors": n, "outputs": 3, "seed": seed, "status": result.status.value, "iterations": result.iterations,
           "messages": result.messages, "wall_time_s": round(wall, 4), "objective": result.objective,
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
