"""A receding-horizon mission over DDS: config/mpc_formation_small.yaml (4 robots past one disc obstacle, a
window every 2 s) run by the `dro-ros fleet up` launcher, every node its own OS process.

What must hold: every robot reaches its goal; the executed odometry keeps r_min and the obstacle's clearance
within the tracking tolerance although the straight way crosses the obstacle; the fleet re-planned (windows
planned by the agents and switched to) along the way. No wait is unbounded: the fleet is stopped after 150 s.
"""
import json
from pathlib import Path

import numpy as np

from dro_ros.ros.fleet_up import Fleet
from dro_ros.ros.launch_plan import node_list
from dro_ros.spec.fleet_config import read_fleet_file
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.scenarios import scenario_from_config
from test_fleet_end_to_end import Log

ROOT = Path(__file__).resolve().parents[2]


def _fly(tmp_path, disturbances=None, network=None):
    """The four-robot receding-horizon mission (config/mpc_formation_small.yaml) flown by `fleet up`, with
    the scenario's `disturbances` and the fleet's `network` replaced when given: (config, summary, log)."""
    config = read_fleet_file(ROOT / "config" / "mpc_formation_small.yaml")
    config["supervisor"].update(summary=str(tmp_path / "summary.json"))
    if disturbances is not None:
        config["scenario"]["disturbances"] = disturbances
    if network is not None:
        config["network"] = network
    log = Log()
    with Fleet(node_list(config), isolated=True, out=log) as fleet:
        code = fleet.wait(timeout=150)
    assert code == 0, log.text()[-3000:]
    return config, json.loads((tmp_path / "summary.json").read_text()), log


def _arrived_safely(config, summary):
    """Every robot reached its goal; the odometry kept r_min and the clearance within 1 cm."""
    problem = scenario_from_config(config["scenario"]).problem
    assert summary["ok"] and all(t is not None for t in summary["reached_s"].values()), summary
    assert summary["min_separation_m"] >= problem.r_min - 0.01
    assert summary["min_obstacle_distance_m"] >= problem.clearance - 0.01
    return problem


def test_a_receding_horizon_mission_over_dds_replans_around_the_obstacle_to_the_goal(tmp_path):
    config, summary, _ = _fly(tmp_path)
    problem = _arrived_safely(config, summary)
    assert summary["mode"] == "receding_horizon"
    straight = [np.linspace(s, [12.0, 12.0], 50) for s in problem.initial[:, :2]]
    assert min(distances(problem.obstacles, line).min() for line in straight) < problem.clearance  # in the way
    committed = summary["replans"] - summary["missed_deadlines"]
    assert summary["replans"] >= 5 and committed >= 3, summary
    assert summary["messages_per_replan"] > 0


def test_a_robot_whose_agent_drops_out_is_planned_around_and_rejoins_over_dds(tmp_path):
    """Robot 3's agent process is suspended from t = 4 s to t = 9 s after the first switch (a scripted
    `dropout`, mode silent, run by the launcher): the replan that first finds it silent stalls, the others
    plan around its committed plan, it rejoins once it has been heard again for `REJOIN_SETTLE`, and every
    robot reaches its goal with r_min and the clearance kept."""
    config, summary, log = _fly(tmp_path, [{"robot": 3, "time": 4.0, "kind": "dropout", "duration": 5.0}])
    text = log.text()
    assert "[dropouts] robot_3/agent" in text and "suspended" in text and "resumed" in text
    back = text.index("robot_3: speaks again (rejoins once heard for 0.5 s)")
    assert text.index("robot_3: rejoins", back) > back
    assert any("robots [3] silent" in s for s in summary["stalls"]), json.dumps(summary)
    [[dropped, rejoined], *_] = summary["dropped_s"]["3"]
    assert 4.0 <= dropped <= 9.0 + 2 * 2.0 and rejoined is not None and rejoined >= 9.0, summary["dropped_s"]
    _arrived_safely(config, summary)


def test_a_mission_under_link_delay_and_a_robots_outage_completes_safely(tmp_path):
    """Issue 19's link faults over DDS: 50 ms added to every message of every link, and robot_1's links cut
    for 3 s from t = 6 s of the mission (a scripted `outage`). Windows of its part in the outage fall back;
    the mission still ends with every robot at its goal, r_min and the clearance held."""
    config, summary, log = _fly(tmp_path, [{"robot": 1, "time": 6.0, "kind": "outage", "duration": 3.0}],
                                {"delay": 0.05, "seed": 7})
    _arrived_safely(config, summary)
    assert "links cut" in log.text() and "messages lost to simulated link faults" in log.text()
    assert any("link" in f or "not finished" in f for f in summary["fallbacks"]), summary["fallbacks"]
