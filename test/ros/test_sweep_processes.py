"""CDS-PS with EAS, four agents as four OS processes over DDS (private ROS_DOMAIN_ID, localhost only).

The sweep is sequential and every stage solve is deterministic given its fixed solutions, so the
trajectories must equal the in-process run's whatever the message timing; the independent checker must
accept them.
"""
import numpy as np

from dro_ros.ros.processes import AgentProcesses, failures
from dro_ros.trajectory.checker import check
from dro_ros.trajectory.eas import EasParameters
from dro_ros.trajectory.path_sweep import run_path_sweep
from dro_ros.trajectory.scenarios import scenario_from_config

CONFIG = {
    "name": "line4", "dim": 2, "horizon": 30, "duration": 15.0, "r_min": 0.3, "max_speed": 3.0, "max_input": 1.0,
    "initial": [[0, 0, 1, 1], [1.5, 0, 1, 1], [3, 0, 1, 1], [4.5, 0, 1, 1]],
    "terminal": {"kind": "ball", "centre": [12, 10], "radius": 0.5, "velocity": [1, 0]},
    "communication": {"radius": 1.6},
    "sweep": {"path": [1, 2]},
    "eas": {"epsilon_bar": 5.0, "delta_bar": 0.3, "n_iter": 100},
}


def test_four_sweep_processes_reproduce_the_in_process_trajectories():
    names = [f"robot_{i}" for i in range(4)]
    scenario = scenario_from_config(CONFIG)
    specs = [{"address": names[i], "neighbours": [names[j] for j in scenario.graph.neighbours[i]], "fleet": names,
              "problem_id": "sweep", "algorithm": "path_sweep",
              "params": {"scenario": CONFIG, "index": i, "names": names, "eas": True},
              "timeouts": {"discovery": 30, "stall": 30, "wall": 120}} for i in range(4)]
    with AgentProcesses(specs) as fleet:
        outcomes = fleet.wait(timeout=150)
    assert [o.returncode for o in outcomes] == [0] * 4, failures(outcomes)
    results = [o.report["result"] for o in outcomes]
    assert all(r["failure"] is None for r in results)
    inputs = np.array([r["inputs"] for r in results])

    reference = run_path_sweep(scenario, eas=EasParameters(**CONFIG["eas"]))
    assert reference.ok
    assert np.allclose(inputs, reference.inputs, rtol=0, atol=1e-9)   # same stage solves, same data
    assert check(scenario.problem, inputs).max_violation <= 1e-6
