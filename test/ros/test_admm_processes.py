"""ADMM sharing with 4 flex actors and a coordinator, each its own OS process over DDS."""
import asyncio

import numpy as np

from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import Topology
from dro_ros.ros.processes import AgentProcesses, failures
from dro_ros.spec import AgentSpec

ACTORS = [{"capacity": 10.0, "efficiency": [0.1, 0.5, -1.0]}, {"capacity": 15.0, "efficiency": [0.1, 0.5, -1.0]},
          {"capacity": 10.0, "efficiency": [-1.0, 0.0, 1.0]}, {"capacity": 6.0, "efficiency": [0.0, 1.0, 0.5]}]
COORDINATOR = {"kind": "target_distance", "target": [-4.0, 2.0, 6.0], "weights": [5.0, 1.0, 1.0]}


def specs():
    names = ["coordinator"] + [f"flex_{k}" for k in range(len(ACTORS))]
    timeouts = {"discovery": 30, "stall": 30, "wall": 120}
    result = [{"address": "coordinator", "neighbours": names[1:], "fleet": names, "problem_id": "admm",
               "algorithm": "admm_coordinator", "params": COORDINATOR, "timeouts": timeouts}]
    result += [{"address": name, "neighbours": ["coordinator"], "fleet": names, "problem_id": "admm",
                "algorithm": "flex", "params": params, "timeouts": timeouts} for name, params in zip(names[1:], ACTORS)]
    return names, result


def test_admm_over_dds_gives_the_in_process_result_bit_for_bit():
    names, agent_specs = specs()
    with AgentProcesses(agent_specs) as fleet:
        outcomes = fleet.wait(timeout=120)
    assert [o.returncode for o in outcomes] == [0] * len(names), failures(outcomes)
    agents = [AgentSpec.from_dict(spec).build_agent() for spec in agent_specs]
    star = Topology.from_edges(len(names), [(0, k) for k in range(1, len(names))])
    reference = asyncio.run(run_in_process(agents, topology=star, addresses=names)).results["coordinator"]
    coordinator = outcomes[0].report["result"]
    assert coordinator["status"] == "converged" and coordinator["iterations"] == reference.iterations
    for name, outcome in zip(names[1:], outcomes[1:]):
        assert np.array_equal(outcome.report["result"], reference.x[name])
        assert np.array_equal(coordinator["x"][name], reference.x[name])
