"""ADMM sharing and consensus against independent centralized solves, and bad input."""
import asyncio

import numpy as np
import pytest

from dro_ros.bench.admm import actors, centralized_consensus, centralized_sharing, instance
from dro_ros.core.simple import run_in_process
from dro_ros.resource.admm import (AdmmCoordinator, AdmmStart, AdmmStatus, FlexActor, InfeasibleActorError,
                                   PolytopeFlexActor, create_admm_sharing_data,
                                   create_admm_start, create_admm_start_consensus,
                                   create_consensus_target_reach_admm_coordinator,
                                   create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)


def solve(data, coordinator, start=None):
    start = start or create_admm_start(create_admm_sharing_data(data["target"], data["weights"]))
    return asyncio.run(start_coordinated_optimization(actors(data), coordinator, start))


def test_sharing_reaches_the_centralized_lp_optimum():
    data = instance("reference", 12, seed=3, quadratic=False)
    result = solve(data, create_sharing_target_distance_admm_coordinator())
    assert result.status is AdmmStatus.CONVERGED
    assert result.objective == pytest.approx(centralized_sharing(data), abs=1e-4 * np.abs(data["target"]).sum())


def test_each_actor_stays_on_its_feasible_segment():
    data = instance("random", 8, seed=2, quadratic=False)
    result = solve(data, create_sharing_target_distance_admm_coordinator(max_iterations=300))
    for k, x in enumerate(result.x.values()):
        p = x @ data["efficiency"][k] / (data["efficiency"][k] @ data["efficiency"][k])
        assert np.allclose(x, p * data["efficiency"][k]) and -1e-12 <= p <= data["capacity"][k] + 1e-12


@pytest.mark.parametrize("family", ["reference", "random"])
def test_consensus_reaches_the_centralized_qp_optimum(family):
    data = instance(family, 20, seed=4, quadratic=True)
    result = solve(data, create_consensus_target_reach_admm_coordinator(penalty=1.0))
    assert result.status is AdmmStatus.CONVERGED
    assert result.objective == pytest.approx(centralized_consensus(data, 1.0), rel=1e-6)


def test_a_larger_consensus_penalty_pulls_the_sum_closer_to_the_target():
    data = instance("random", 20, seed=5, quadratic=True)
    distances = []
    for penalty in (0.01, 0.1, 0.3, 1.0):
        result = solve(data, create_consensus_target_reach_admm_coordinator(penalty=penalty),
                       create_admm_start_consensus(data["target"], data["weights"]))
        distances.append(np.linalg.norm(result.aggregate - data["target"]))
    assert distances == sorted(distances, reverse=True) and distances[-1] < 0.5 * distances[0]


def test_bad_input_is_named():
    start = create_admm_start(create_admm_sharing_data([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="actors: the participant list is empty"):
        asyncio.run(start_coordinated_optimization([], create_sharing_target_distance_admm_coordinator(), start))
    with pytest.raises(ValueError, match="actor_2.efficiency: has 2 outputs, the target has 3"):
        asyncio.run(start_coordinated_optimization([FlexActor(1, [1, 0, 0]), FlexActor(1, [1, 0])],
                                                   create_sharing_target_distance_admm_coordinator(), start))
    with pytest.raises(ValueError, match="target: contains NaN or infinite values"):
        create_admm_sharing_data([1.0, float("nan")])
    with pytest.raises(ValueError, match="penalty"):
        create_consensus_target_reach_admm_coordinator(penalty=-1)
    with pytest.raises(ValueError, match=r"start.target: contains NaN or infinite values: \[1.0, nan\]"):
        asyncio.run(start_coordinated_optimization([FlexActor(1, [1, 0])], create_sharing_target_distance_admm_coordinator(),
                                                   AdmmStart(np.array([1.0, np.nan]), np.ones(2))))


@pytest.mark.parametrize("lb, u, C, d, S, message", [
    ([0, 0], [1, 1], [[np.inf, 0]], [1], [0, 0], r"gen\.C: infinite entry at \[0, 0\]"),
    ([0, 0], [1, 1], [[1, 0]], [-np.inf], [0, 0], r"gen\.d: infinite entry at \[0\]"),
    ([np.inf, 0], [np.inf, 1], [], [], [0, 0], r"gen\.lb: infinite entry"),
    ([0, 0], [1, 1], [], [], [np.inf, 0], r"gen\.S: infinite entry"),
    ([0, np.nan], [1, 1], [], [], [0, 0], r"gen\.lb: expected a vector without NaN"),
    ([0, 0], [1, 1], [[1, 0], [1]], [1, 1], [0, 0], r"gen\.C: expected numbers in a matrix"),
    ([0, 0], [1, 1], [[1, 0, 0]], [1], [0, 0], r"gen\.C: shape \(1, 3\) does not match 2 outputs"),
    ([0, 0], [1, 1], [[1, 1]], [-1], [0, 0], r"gen: local QP infeasible"),
])
def test_a_general_actor_with_bad_data_is_refused_naming_the_field(lb, u, C, d, S, message):
    with pytest.raises(InfeasibleActorError, match=message):
        PolytopeFlexActor(lb, u, C, d, S, name="gen")


def test_a_general_actor_reads_infinite_upper_bounds_as_no_bound():
    actor = PolytopeFlexActor([-np.inf, 0], [np.inf, np.inf], [[1, 1]], [np.inf], [0, 0])
    assert actor.solve(np.array([-3.0, 2.0]), 1.0) == pytest.approx([-3.0, 2.0])


def test_a_start_message_with_a_nan_target_fails_the_run_naming_the_field():
    coordinator = AdmmCoordinator("target_distance", start=AdmmStart(np.array([1.0, np.nan]), np.ones(2)))
    asyncio.run(run_in_process([coordinator, FlexActor(1, [1, 0])], addresses=["coordinator", "a"]))
    assert coordinator.result().status is AdmmStatus.FAILED
    assert coordinator.result().message.startswith("start: target or weights contain NaN or infinite values")


def test_an_actor_that_reports_a_failure_fails_the_run_with_its_reason():
    coordinator = AdmmCoordinator("target_distance", start=AdmmStart(np.array([1.0, 2.0]), np.ones(2)))
    report = asyncio.run(run_in_process([coordinator, FlexActor(1, [1, 0]), FlexActor(1, [1, 0, 0])],
                                        addresses=["coordinator", "a", "b"]))
    assert coordinator.result().status is AdmmStatus.FAILED
    assert report.failures == {"coordinator": "dro_ros.resource.admm.coordinator.AdmmError: b: efficiency: "
                                              "has 3 outputs, the coordinator's target has 2"}


def test_a_silent_actor_fails_the_run_instead_of_waiting_forever():
    class Silent:
        def on_exchange_message(self, carrier, content, meta):
            pass

    coordinator = create_sharing_target_distance_admm_coordinator(reply_timeout=30.0)
    start = create_admm_start(create_admm_sharing_data([1.0, 2.0]))
    result = asyncio.run(start_coordinated_optimization([FlexActor(1, [1, 0]), Silent()], coordinator, start))
    assert result.status is AdmmStatus.FAILED
    assert "actor_2: no local solution within 30 s (iteration 1)" in result.message
