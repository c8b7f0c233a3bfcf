"""Distributed termination detection (weight throwing) for COHDA, and the detector on its own."""
import asyncio
from fractions import Fraction

import numpy as np
import pytest

from dro_ros.core.report import RunStatus
from dro_ros.core.simple import NetworkModel
from dro_ros.core.topology import ring, small_world
from dro_ros.resource.cohda import (CohdaStatus, create_cohda_participant, create_cohda_start_message,
                                    start_distributed_optimization)
from dro_ros.resource.termination import WeightThrowing, decode_credit


def instance(seed, agents, schedules=30, steps=8):
    rng = np.random.default_rng(seed)
    sets = [rng.uniform(0, 1, (schedules, steps)) for _ in range(agents)]
    return sets, sum(s[rng.integers(schedules)] for s in sets)


@pytest.mark.parametrize("reaction_delay", [0.0, 1.0])
def test_termination_detection_ends_every_agent_with_the_same_best_candidate(reaction_delay):
    sets, target = instance(3, 12)
    actors = [create_cohda_participant(i + 1, s, reaction_delay=reaction_delay, credit_delay=0.5)
              for i, s in enumerate(sets)]
    result = asyncio.run(start_distributed_optimization(
        actors, create_cohda_start_message(target, detect_termination=True), topology=small_world(12, 1.0, seed=3),
        network=NetworkModel(delay=(1.0, 2.0), seed=3)))
    assert result.status is RunStatus.COMPLETED and result.agreed
    assert {a.status for a in actors} == {CohdaStatus.TERMINATED}
    assert all(a.result().objective == result.objective for a in actors)


def test_detection_reports_termination_only_after_the_computation_is_quiet():
    """Stop is sent after the last Update: no agent changes its best configuration after finishing."""
    sets, target = instance(4, 8)
    actors = [create_cohda_participant(i + 1, s) for i, s in enumerate(sets)]
    quiet = asyncio.run(start_distributed_optimization(
        [create_cohda_participant(i + 1, s) for i, s in enumerate(sets)], create_cohda_start_message(target),
        topology=ring(8)))
    detected = asyncio.run(start_distributed_optimization(
        actors, create_cohda_start_message(target, detect_termination=True), topology=ring(8)))
    assert detected.agreed and detected.simulated_time >= 0
    assert detected.iterations == quiet.iterations  # zero delays: same interleaving of updates, same work


def test_split_credit_is_exact_and_the_root_detects_only_with_all_of_it_back():
    root, child = WeightThrowing(), WeightThrowing()
    root.start_as_root()
    pieces = [root.split(3) for _ in range(4)]  # four publishes to three neighbours
    assert root.credit + 3 * sum(decode_credit(p, "root") for p in pieces) == 1 and root.credit > 0
    assert not root.terminated
    for piece in pieces:
        for _ in range(3):
            child.on_basic("root", piece)
    parent, credit = child.take_returnable()
    assert parent == "root" and child.credit == 0
    root.on_credit("child", credit)
    assert root.terminated and root.credit == Fraction(1)


def test_a_malformed_credit_is_refused_naming_the_sender():
    with pytest.raises(ValueError, match="credit from robot_2"):
        WeightThrowing().on_basic("robot_2", "2/1")
