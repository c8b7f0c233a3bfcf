"""ADMM with the default coordinators against an independent centralized solve (HiGHS), on random
instances drawn by hypothesis (seeded, so CI sees the same ones) of one-to-many and general actors; and
what an unconverged run reports."""
import asyncio
import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from dro_ros.bench import admm_polytope
from dro_ros.bench.admm import MISS_TOLERANCE, actors, centralized_consensus, centralized_sharing
from dro_ros.resource.admm import (AdmmStatus, InfeasibleActorError, PolytopeFlexActor, create_admm_sharing_data,
                                   create_admm_start,
                                   create_consensus_target_reach_admm_coordinator,
                                   create_sharing_target_distance_admm_coordinator, start_coordinated_optimization)


def vector(draw, low, high, size):
    return np.array(draw(st.lists(st.floats(low, high, allow_subnormal=False), min_size=size, max_size=size)))


@st.composite
def one_to_many_instances(draw, quadratic=st.just(False)):
    """The issue-17 family: 1-4 actors, 3 outputs, efficiencies in [-1, 1], capacities 5-15, targets in
    [-6, 6], weights 1-3, input cost in [0, 0.1] (and a quadratic cost for consensus)."""
    n = draw(st.integers(1, 4))
    value = lambda low, high, size: vector(draw, low, high, size)
    return {"capacity": value(5, 15, n), "efficiency": value(-1, 1, 3 * n).reshape(n, 3),
            "cost": value(0, 0.1, n), "quadratic_cost": value(0.01, 0.1, n) if draw(quadratic) else np.zeros(n),
            "target": value(-6, 6, 3), "weights": value(1, 3, 3)}


def scaled(low, high):
    """Floats in [low, high] that are 0 or at least 0.01 in magnitude: HiGHS, the reference, drops smaller
    matrix entries and its QP solver fails on bounds of 1e-5 (it reports a solve error)."""
    return st.one_of(st.just(0.0), st.floats(max(low, 0.01), high), st.floats(low, min(high, -0.01))) \
        if low < 0 < high else st.one_of(st.just(0.0), st.floats(max(low, 0.01), high))


@st.composite
def polytope_instances(draw):
    """General actors: 1-3 actors, 3 outputs, a box lb <= 0 <= u within +-10, 0-3 rows of C with entries
    in [-1, 1] and d = C x0 + slack (slack 0 allowed: x0 on a face) for a point x0 of the box, and
    optionally an equality as two opposite rows (as the reference writes one); costs S in [-1, 1];
    every number 0 or at least 0.01 in magnitude (`scaled`)."""
    value = lambda low, high, size: np.array(draw(st.lists(scaled(low, high), min_size=size, max_size=size)))
    polytopes = []
    for _ in range(draw(st.integers(1, 3))):
        lb, ub = -value(0, 10, 3), value(0, 10, 3)
        x0 = lb + value(0, 1, 3) * (ub - lb)
        rows = value(-1, 1, 3 * draw(st.integers(0, 3))).reshape(-1, 3)
        d = rows @ x0 + value(0, 2, len(rows))
        if draw(st.booleans()):
            equality = value(-1, 1, 3)
            rows, d = np.vstack([rows, equality, -equality]), np.concatenate([d, [equality @ x0, -equality @ x0]])
        polytopes.append(admm_polytope.Polytope(lb, ub, rows, d, value(-1, 1, 3)))
    return admm_polytope.PolytopeInstance(polytopes, value(-6, 6, 3), 1 + value(0, 2, 3))


def solve(data, coordinator):
    start = create_admm_start(create_admm_sharing_data(data["target"], data["weights"]))
    flex = actors(data)
    return asyncio.run(start_coordinated_optimization(flex, coordinator, start)), flex


def relative_error(value, optimum):
    return abs(value - optimum) / max(abs(optimum), 1.0)


def assert_converged_to(result, agents, optimum):
    """Converged, says so in every actor, and within the bench's miss tolerance of the optimum."""
    assert result.status is AdmmStatus.CONVERGED and all(actor.converged for actor in agents)
    assert relative_error(result.objective, optimum) <= MISS_TOLERANCE


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@seed(17)
@PROPERTY
@given(one_to_many_instances())
def test_default_sharing_reaches_the_lp_optimum(data):
    assert_converged_to(*solve(data, create_sharing_target_distance_admm_coordinator()), centralized_sharing(data))


@seed(17)
@PROPERTY
@given(one_to_many_instances(quadratic=st.booleans()), st.sampled_from([1.0, 100.0]))
def test_default_consensus_reaches_the_qp_optimum(data, penalty):
    assert_converged_to(*solve(data, create_consensus_target_reach_admm_coordinator(penalty)),
                        centralized_consensus(data, penalty))


def solve_general(data, coordinator):
    start = create_admm_start(create_admm_sharing_data(data.target, data.weights))
    general = admm_polytope.actors(data)
    return asyncio.run(start_coordinated_optimization(general, coordinator, start)), general


def assert_in_polytopes(general, data):
    for actor, polytope in zip(general, data.actors):
        assert np.all(polytope.lb <= actor.x) and np.all(actor.x <= polytope.ub)
        assert np.all(polytope.C @ actor.x <= polytope.d + 1e-9 * (1 + np.abs(polytope.d)))


@seed(17)
@PROPERTY
@given(polytope_instances())
def test_default_sharing_of_general_actors_reaches_the_lp_optimum(data):
    result, general = solve_general(data, create_sharing_target_distance_admm_coordinator())
    assert_converged_to(result, general, admm_polytope.centralized_sharing(data))
    assert_in_polytopes(general, data)


@seed(17)
@PROPERTY
@given(polytope_instances(), st.sampled_from([1.0, 100.0]))
def test_default_consensus_of_general_actors_reaches_the_qp_optimum(data, penalty):
    result, general = solve_general(data, create_consensus_target_reach_admm_coordinator(penalty))
    assert_converged_to(result, general, admm_polytope.centralized_consensus(data, penalty))
    assert_in_polytopes(general, data)


def test_a_row_of_tiny_coefficients_binds_like_its_unit_multiple():
    # 1e-8 x_2 <= -1e-8 is x_2 <= -1: inside a solver's feasibility tolerance unless the row is scaled
    tiny = PolytopeFlexActor([-5.0] * 3, [5.0] * 3, [[0.0, 0.0, 1e-8]], [-1e-8], [0.0] * 3)
    assert tiny.solve(np.zeros(3), 1.0) == pytest.approx([0.0, 0.0, -1.0], abs=1e-12)
    with pytest.raises(InfeasibleActorError, match=r"row 0 of C is 0 and d\[0\] = -1.0 < 0"):
        PolytopeFlexActor([0.0], [1.0], [[0.0]], [-1.0], [0.0])


def test_an_unconverged_run_says_so_everywhere_and_returns_its_best_iterate(caplog):
    rng = np.random.default_rng(0)  # issue-17 instance 0: needs about 2800 iterations
    data = {"capacity": rng.uniform(5, 15, 4), "efficiency": rng.uniform(-1, 1, (4, 3)), "cost": np.zeros(4),
            "quadratic_cost": np.zeros(4), "target": rng.uniform(-6, 6, 3), "weights": np.ones(3)}
    with caplog.at_level(logging.WARNING, logger="dro_ros.admm"):
        result, flex = solve(data, create_sharing_target_distance_admm_coordinator(max_iterations=40))
    assert result.status is AdmmStatus.MAX_ITERATIONS and not result.converged
    assert "not converged after 40 iterations" in result.message and result.message in caplog.text
    assert all(actor.status is AdmmStatus.MAX_ITERATIONS and not actor.converged for actor in flex)
    assert all(np.array_equal(actor.x, x) for actor, x in zip(flex, result.x.values()))
    objective = float(data["weights"] @ np.abs(result.aggregate - data["target"]))
    assert objective == pytest.approx(result.objective) and 1 <= result.best_iteration <= 40
    # the best iterate, not the last: stopping later never reports a worse objective
    stopped = [solve(data, create_sharing_target_distance_admm_coordinator(max_iterations=k))[0] for k in (10, 20, 30)]
    objectives = [r.objective for r in stopped] + [result.objective]
    assert objectives == sorted(objectives, reverse=True)
