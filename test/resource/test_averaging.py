"""Averaging consensus on SimpleCarrier: exact averages, the stop rule, and stalls."""
import asyncio

import numpy as np
import pytest

from dro_ros.core.report import RunStatus
from dro_ros.core.simple import NetworkModel, run_in_process
from dro_ros.core.topology import Topology, ring, small_world
from dro_ros.resource.averaging import AveragingAgent, AveragingStatus

VALUES = np.random.default_rng(5).uniform(-5.0, 5.0, 50)


def run(topology, values=VALUES, network=None, **options):
    agents = [AveragingAgent(v, diameter_bound=topology.diameter(), **options) for v in values]
    report = asyncio.run(run_in_process(agents, topology=topology, network=network))
    return report, np.array([r.value[0] for r in report.results.values()])


@pytest.mark.parametrize("topology", [ring(50), small_world(50, 2.0, seed=3)], ids=["ring", "small_world"])
def test_fifty_agents_reach_the_true_average_within_1e_6(topology):
    report, final = run(topology, tol=1e-7)
    assert report.ok and np.max(np.abs(final - VALUES.mean())) <= 1e-6
    assert {r.status for r in report.results.values()} == {AveragingStatus.CONVERGED}
    assert len({r.rounds for r in report.results.values()}) == 1  # all stop in the same round


def test_same_topology_and_seed_give_the_same_result_even_with_random_delays():
    topology = small_world(20, 1.0, seed=9)
    network = NetworkModel(delay=(0.1, 1.0), seed=4)
    _, first = run(topology, VALUES[:20], network=network, tol=1e-8)
    _, again = run(topology, VALUES[:20], network=network, tol=1e-8)
    _, undelayed = run(topology, VALUES[:20], tol=1e-8)
    assert np.array_equal(first, again) and np.array_equal(first, undelayed)


def test_reference_mean_rule_misses_the_average_on_an_irregular_graph():
    star = Topology.from_edges(5, [(0, k) for k in range(1, 5)])
    values = np.array([10.0, 0, 0, 0, 0])
    _, metropolis = run(star, values, tol=1e-9)
    _, mean_rule = run(star, values, tol=1e-9, weights="mean", alpha=0.5)
    assert np.allclose(metropolis, 2.0, atol=1e-8)
    assert not np.allclose(mean_rule, 2.0, atol=1e-3)


def test_vector_values_average_elementwise():
    values = np.random.default_rng(1).normal(size=(6, 3))
    agents = [AveragingAgent(v, tol=1e-9, diameter_bound=3) for v in values]
    report = asyncio.run(run_in_process(agents, topology=ring(6)))
    assert all(np.allclose(r.value, values.mean(axis=0), atol=1e-8) for r in report.results.values())


def test_fixed_rounds_stop_after_exactly_that_many_rounds():
    report, _ = run(ring(10), VALUES[:10], max_rounds=25)
    assert {(r.rounds, r.status) for r in report.results.values()} == {(25, AveragingStatus.ROUND_LIMIT)}


def test_a_silent_neighbour_leaves_the_run_quiescent_and_names_it():
    class Silent:
        def on_exchange_message(self, carrier, content, meta):
            pass

    agents = [AveragingAgent(1.0, tol=1e-6, diameter_bound=2), Silent(), AveragingAgent(2.0, tol=1e-6, diameter_bound=2)]
    report = asyncio.run(run_in_process(agents, topology=ring(3)))
    assert report.status is RunStatus.QUIESCENT
    assert report.unfinished == {"agent_1": ["agent_2"], "agent_3": ["agent_2"]}


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError, match="alpha"):
        AveragingAgent(1.0, alpha=1.5)
    with pytest.raises(ValueError, match="diameter_bound"):
        AveragingAgent(1.0, tol=1e-6)
