"""Bad input to COHDA: clear errors naming the agent and the field, and a failed run that does not hang."""
import asyncio

import numpy as np
import pytest

from dro_ros.core.report import RunStatus
from dro_ros.core.topology import ring
from dro_ros.resource.cohda import (CohdaStatus, cohda_agent, create_cohda_participant, create_cohda_start_message,
                                    start_distributed_optimization)


def run(actors, start, **options):
    return asyncio.run(start_distributed_optimization(actors, start, **options))


def test_an_empty_participant_list_is_refused():
    with pytest.raises(ValueError, match="actors: empty participant list"):
        run([], create_cohda_start_message([1.0]))


def test_schedules_of_the_wrong_length_name_the_participant_and_field():
    actors = [create_cohda_participant(1, [[1.0, 2.0]]), create_cohda_participant(2, [[1.0, 2.0, 3.0]])]
    with pytest.raises(ValueError, match=r"participant 2: schedules: each has 3 values, the target has 2"):
        run(actors, create_cohda_start_message([1.0, 1.0]))


@pytest.mark.parametrize("target, message", [([1.0, float("nan")], r"start message: target\[1\]: nan is not finite"),
                                             ([float("inf")], r"start message: target\[0\]: inf is not finite"),
                                             ([], "target: expected a non-empty vector")])
def test_non_finite_or_empty_targets_are_refused_naming_the_entry(target, message):
    with pytest.raises(ValueError, match=message):
        create_cohda_start_message(target)


def test_weights_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="weights: 2 values for a target of 3"):
        create_cohda_start_message([1.0, 2.0, 3.0], [1.0, 1.0])


@pytest.mark.parametrize("schedules, message", [
    ([], r"participant 4: schedules: empty"),
    ([[1.0, 2.0], [1.0]], r"participant 4: schedules\[1\]: has 1 values, schedules\[0\] has 2"),
    ([[1.0, np.nan]], r"participant 4: schedules\[0, 1\]: nan is not finite")])
def test_malformed_schedule_sets_name_the_participant_and_field(schedules, message):
    with pytest.raises(ValueError, match=message):
        create_cohda_participant(4, schedules)


@pytest.mark.parametrize("options, message", [({"alpha": 1.5}, "participant 1: alpha"),
                                              ({"penalty": [0.1]}, "participant 1: penalty: 1 values for 2 schedules"),
                                              ({"reaction_delay": -1}, "participant 1: reaction_delay")])
def test_bad_participant_options_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        create_cohda_participant(1, [[0.0], [1.0]], **options)


def test_duplicate_participant_ids_are_refused():
    with pytest.raises(ValueError, match=r"participant ids \[1\] used twice"):
        run([create_cohda_participant(1, [[0.0]]), create_cohda_participant(1, [[1.0]])],
            create_cohda_start_message([1.0]))


@pytest.mark.parametrize("reaction_delay", [0.0, 1.0])
def test_a_schedule_set_that_turns_bad_fails_the_run_everywhere_with_termination_detection(reaction_delay):
    calls = []

    def provider(memory):  # fits when the agent joins, then turns into 3-value schedules at its decision
        calls.append(1)
        return [[1.0, 2.0]] if len(calls) == 1 else [[1.0, 2.0, 3.0]]

    actors = [create_cohda_participant(1, [[1.0, 1.0]]),
              create_cohda_participant(2, provider, reaction_delay=reaction_delay),
              create_cohda_participant(3, [[0.0, 1.0]])]
    result = run(actors, create_cohda_start_message([1.0, 1.0], detect_termination=True), topology=ring(3))
    assert result.status is RunStatus.FAILED
    assert "participant 2: schedules: each has 3 values" in result.errors["agent_2"]
    assert {a.status for a in actors} == {CohdaStatus.FAILED}  # the others learnt it and did not wait
    assert all("participant 2: schedules" in a.error for a in actors)


def test_the_process_factory_refuses_unknown_parameters():
    with pytest.raises(ValueError, match="unknown COHDA parameter"):
        cohda_agent(participant_id=1, schedules=[[0.0]], step=3)
