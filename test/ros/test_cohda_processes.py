"""COHDA with 8 agents, each its own OS process over DDS (private ROS_DOMAIN_ID, localhost only).

What can and cannot match the in-process run: COHDA is asynchronous; which message an agent handles
first decides what it perceives, and so the path of the search. In process, the order is fixed by the
seeded simulation; over DDS it depends on process scheduling and the network, differently on every run.
So message counts and, on instances with several local optima, the final configuration may differ.
What must hold: on an instance whose optimum is the only configuration no agent alone can improve,
every process ends (termination detected by weight throwing, no observer) with the same best
configuration, and it is the in-process result and the brute-force optimum. Here each agent's
schedules touch its own interval only, so each agent's best choice is unique whatever the others do.
"""
import asyncio

import numpy as np
import pytest

from dro_ros.core.simple import NetworkModel
from dro_ros.core.topology import small_world
from dro_ros.resource.cohda import create_cohda_participant, create_cohda_start_message, start_distributed_optimization
from dro_ros.ros.processes import AgentProcesses, failures

AGENTS = 8


def instance():
    rng = np.random.default_rng(11)
    sets = []
    for i in range(AGENTS):
        schedules = np.zeros((5, AGENTS))
        schedules[:, i] = rng.permutation(5).astype(float)
        sets.append(schedules)
    target = np.arange(AGENTS) % 5 + 0.3  # the unique best level of agent i is i % 5
    return sets, target


def cohda_specs(topology, sets, target, names):
    specs = []
    for i in range(AGENTS):
        params = {"participant_id": i + 1, "schedules": sets[i].tolist(), "credit_delay": 0.05}
        if i == 0:
            params.update(target=target.tolist())
        specs.append({"address": names[i], "neighbours": [names[j] for j in topology.neighbours[i]], "fleet": names,
                      "problem_id": "cohda", "algorithm": "cohda", "params": params,
                      "timeouts": {"discovery": 30, "stall": 20, "wall": 120}})
    return specs


def test_eight_cohda_processes_terminate_with_the_in_process_and_brute_force_result():
    names = [f"robot_{i}" for i in range(AGENTS)]
    topology = small_world(AGENTS, 0.5, seed=2)
    sets, target = instance()
    with AgentProcesses(cohda_specs(topology, sets, target, names)) as fleet:
        outcomes = fleet.wait(timeout=150)
    assert [o.returncode for o in outcomes] == [0] * AGENTS, failures(outcomes)
    results = [o.report["result"] for o in outcomes]
    assert {r["status"] for r in results} == {"terminated"}
    solutions = {tuple(map(tuple, r["solution"])) for r in results}
    assert len(solutions) == 1  # every process holds the same best configuration

    actors = [create_cohda_participant(i + 1, s) for i, s in enumerate(sets)]
    reference = asyncio.run(start_distributed_optimization(
        actors, create_cohda_start_message(target, detect_termination=True), topology=topology,
        network=NetworkModel(delay=(1.0, 2.0), seed=2), addresses=names))
    assert np.array_equal(np.array(results[0]["solution"]), reference.solution)
    assert results[0]["objective"] == reference.objective == pytest.approx(AGENTS * 0.3)
    assert np.array_equal(np.diag(reference.solution), np.arange(AGENTS) % 5)  # the optimum: level i % 5 each
    assert all(o.report["traffic"]["rejected"] == 0 for o in outcomes)
