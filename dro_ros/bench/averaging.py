"""`dro-ros bench averaging`: averaging consensus and economic dispatch, in-process, vs exact answers.

- averaging: 50 agents, values U[0, 10] (seeded), tol 1e-7, on a ring and a small world (phi = 2): rounds,
  messages, wall time and the largest error to the true mean;
- dispatch: n quadratic-cost units with local demands on a small world (phi = 1): rounds, wall time, and
  the price and cost errors against the centralized incremental-cost optimum (bisection).
"""
from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import ring, small_world
from dro_ros.resource.dispatch import Generator, centralized_dispatch, dispatch_agent
from dro_ros.spec.registry import make_agent


def _averaging(name: str, topology, values: np.ndarray) -> dict[str, Any]:
    agents = [make_agent("averaging", {"initial": v, "tol": 1e-7, "diameter_bound": topology.diameter()})
              for v in values]
    report = asyncio.run(run_in_process(agents, topology=topology))
    final = np.array([r.value[0] for r in report.results.values()])
    return {"case": name, "agents": topology.n, "status": report.status.value,
            "rounds": next(iter(report.results.values())).rounds, "messages": report.messages,
            "wall_time_s": round(report.wall_time, 3), "max_error": float(np.max(np.abs(final - values.mean())))}


def _dispatch(n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    generators = [Generator(rng.uniform(0.05, 0.2), rng.uniform(1, 5), 0.0, rng.uniform(10, 30)) for _ in range(n)]
    demands = rng.uniform(2, 12, n)
    topology = small_world(n, 1.0, seed)
    agents = [dispatch_agent(g, d, step=0.02, tol=1e-8, diameter_bound=topology.diameter())
              for g, d in zip(generators, demands)]
    report = asyncio.run(run_in_process(agents, topology=topology))
    price, p_star = centralized_dispatch(generators, demands.sum())
    prices = np.array([r.value[0] for r in report.results.values()])
    outputs = [g.output(lam) for g, lam in zip(generators, prices)]
    optimum = sum(g.cost(p) for g, p in zip(generators, p_star))
    return {"case": f"dispatch n={n}", "seed": seed, "status": report.status.value,
            "rounds": next(iter(report.results.values())).rounds, "messages": report.messages,
            "wall_time_s": round(report.wall_time, 3), "price_error": float(np.max(np.abs(prices - price))),
            "supply_minus_demand": float(sum(outputs) - demands.sum()),
            "relative_cost_gap": float((sum(g.cost(p) for g, p in zip(generators, outputs)) - optimum) / optimum)}


def run(seed: int = 2026, dispatch_sizes: list[int] | None = None) -> dict[str, Any]:
    values = np.random.default_rng(seed).uniform(0, 10, 50)
    cases = [_averaging("ring", ring(50), values), _averaging("small world phi=2", small_world(50, 2.0, seed), values)]
    cases += [_dispatch(n, seed) for n in dispatch_sizes or [12, 50]]
    return {"benchmark": "averaging", "cases": cases}
