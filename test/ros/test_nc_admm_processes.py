"""NC-ADMM, four agents as four OS processes over DDS (private ROS_DOMAIN_ID, localhost only).

Every agent's iteration k uses exactly the messages of iteration k, and all stop on the same flooded
test, so the trajectories must equal the in-process run's whatever the message timing.
"""
import numpy as np

from dro_ros.ros.processes import AgentProcesses, failures
from dro_ros.trajectory.checker import check
from dro_ros.trajectory.nc_admm import run_nc_admm
from dro_ros.trajectory.scenarios import scenario_from_config

CONFIG = {"family": "platoon", "n": 4, "horizon": 40, "duration": 20.0, "limits": False}
SETTINGS = {"stop": "feasible", "relaxation": 1.5}


def test_four_nc_admm_processes_reproduce_the_in_process_trajectories():
    names = [f"robot_{i}" for i in range(4)]
    scenario = scenario_from_config(CONFIG)
    specs = [{"address": names[i], "neighbours": [names[j] for j in scenario.graph.neighbours[i]], "fleet": names,
              "problem_id": "nc_admm", "algorithm": "nc_admm",
              "params": {"scenario": CONFIG, "index": i, "names": names, **SETTINGS},
              "timeouts": {"discovery": 30, "stall": 30, "wall": 120}} for i in range(4)]
    with AgentProcesses(specs) as fleet:
        outcomes = fleet.wait(timeout=150)
    assert [o.returncode for o in outcomes] == [0] * 4, failures(outcomes)
    results = [o.report["result"] for o in outcomes]
    assert all(r["failure"] is None and r["details"]["stop"] == "feasible" for r in results)
    inputs = np.array([r["inputs"] for r in results])

    reference = run_nc_admm(scenario, **SETTINGS)
    assert reference.ok
    assert np.allclose(inputs, reference.inputs, rtol=0, atol=1e-12)   # same iterates, same stop
    assert check(scenario.problem, inputs).max_violation <= 1e-6
