"""Economic dispatch by averaging consensus with the gradient term, against the centralized optimum."""
import asyncio

import numpy as np
import pytest

from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import small_world
from dro_ros.resource.dispatch import Generator, centralized_dispatch, dispatch_agent


def fleet(n, seed):
    rng = np.random.default_rng(seed)
    generators = [Generator(rng.uniform(0.05, 0.2), rng.uniform(1, 5), 0.0, rng.uniform(10, 30)) for _ in range(n)]
    demands = rng.uniform(2, 12, n)
    return generators, demands


def test_dispatch_reaches_the_centralized_incremental_cost_and_meets_demand():
    generators, demands = fleet(12, seed=3)
    topology = small_world(12, 1.0, seed=3)
    agents = [dispatch_agent(g, d, step=0.02, tol=1e-8, diameter_bound=topology.diameter())
              for g, d in zip(generators, demands)]
    report = asyncio.run(run_in_process(agents, topology=topology))
    price, p_star = centralized_dispatch(generators, demands.sum())
    prices = np.array([r.value[0] for r in report.results.values()])
    outputs = np.array([g.output(lam) for g, lam in zip(generators, prices)])
    assert report.ok and np.allclose(prices, price, atol=1e-6)
    assert outputs.sum() == pytest.approx(demands.sum(), abs=1e-5)
    cost = sum(g.cost(p) for g, p in zip(generators, outputs))
    assert cost == pytest.approx(sum(g.cost(p) for g, p in zip(generators, p_star)), rel=1e-7)


def test_a_demand_outside_the_fleet_range_is_refused():
    generators, _ = fleet(3, seed=1)
    with pytest.raises(ValueError, match="demand"):
        centralized_dispatch(generators, 1e6)
