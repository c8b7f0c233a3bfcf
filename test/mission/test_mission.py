"""The mission state machine on an in-process fleet (real CDS-PS + EAS, kinematic robots, virtual time)."""
from pathlib import Path

import numpy as np
import pytest
import yaml

from dro_ros.mission import (GoalError, Mission, MissionGoal, MissionSettings, MissionStatus, Phase,
                             mission_scenario)
from dro_ros.mission.in_process import InProcessFleet

CONFIG = Path(__file__).parents[2] / "config"
BASE = yaml.safe_load((CONFIG / "trajectory" / "formation4.yaml").read_text())
ROBOTS = [f"robot_{i}" for i in range(4)]
START = np.array(BASE["initial"], dtype=float)[:, :2]


def fleet(positions=START) -> InProcessFleet:
    return InProcessFleet(ROBOTS, positions, params={"eas": True})


def goal(**fields) -> MissionGoal:
    return MissionGoal.from_fields(n_robots=4, dim=2, **fields)


def run(port, mission_goal, mission_id="m", **options):
    phases = []
    mission = Mission(mission_id, mission_goal, BASE, port, MissionSettings(), feedback=lambda f: phases.append(f.phase),
                      **options)
    return mission, mission.run(), phases


def test_two_goals_in_a_row_each_planned_from_where_the_robots_are():
    port = fleet()
    _, first, phases = run(port, goal(centre=[8.0, 8.0], radius=1.0), "m/0")
    assert first.status is MissionStatus.SUCCEEDED, first.reason
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] is not p] == [
        Phase.ACCEPTED, Phase.PLANNING, Phase.CHECKING, Phase.EXECUTING, Phase.DONE]
    after_first = port.sim.position.copy()
    assert np.all(np.linalg.norm(after_first - [8.0, 8.0], axis=1) <= 1.0 + 0.02)
    second, result, _ = run(port, goal(centre=[4.0, 10.0], radius=1.0), "m/1")
    assert result.status is MissionStatus.SUCCEEDED, result.reason
    initial = np.array(second.scenario_config["initial"])
    assert np.allclose(initial[:, :2], after_first) and np.allclose(initial[:, 2:], 0.0, atol=1e-6)
    assert np.all(np.linalg.norm(port.sim.position - [4.0, 10.0], axis=1) <= 1.0 + 0.02)
    assert result.summary["max_violation"] <= 1e-6
    assert result.summary["min_separation"] >= 0.2 - 0.01


def test_goal_positions_are_reached_at_rest():
    targets = START + [3.0, 2.0]
    port = fleet()
    _, result, _ = run(port, goal(positions=targets.ravel().tolist()))
    assert result.status is MissionStatus.SUCCEEDED, result.reason
    assert np.allclose(port.sim.position, targets, atol=0.02)
    assert np.allclose(port.sim.velocity, 0.0, atol=0.02)


@pytest.mark.parametrize("fields, field", [
    ({"positions": [1.0, 2.0, 3.0]}, "positions"),
    ({"centre": [1.0, float("nan")]}, "centre"),
    ({"centre": [1.0, 2.0], "algorithm": "teleport"}, "algorithm"),
    ({"centre": [1.0, 2.0], "radius": -1.0}, "radius"),
    ({"centre": [1.0, 2.0], "velocity": [1.0]}, "velocity"),
    ({}, "centre, positions"),
])
def test_a_malformed_goal_is_refused_naming_the_field(fields, field):
    with pytest.raises(GoalError, match=f"^{field}:"):
        goal(**fields)


def test_a_robot_without_fresh_odometry_rejects_the_goal_and_nothing_moves():
    port = fleet()
    port.odometry_stops["robot_2"] = -5.0
    _, result, _ = run(port, goal(centre=[8.0, 8.0], radius=1.0))
    assert result.status is MissionStatus.REJECTED
    assert "robot_2" in result.reason and not port.runs
    assert np.allclose(port.sim.position, START)


def test_robots_closer_than_r_min_fail_before_planning_and_hold_still():
    crowded = START.copy()
    crowded[1] = crowded[0] + [0.1, 0.0]
    port = fleet(crowded)
    _, result, _ = run(port, goal(centre=[8.0, 8.0], radius=1.0))
    assert result.status is MissionStatus.FAILED and "infeasible" in result.reason
    assert not port.runs and np.allclose(port.sim.position, crowded)


def test_a_goal_out_of_reach_in_the_duration_fails_with_the_solver_reason():
    port = fleet()
    _, result, _ = run(port, goal(centre=[200.0, 200.0], radius=1.0, duration=5.0))
    assert result.status is MissionStatus.FAILED and "planning run" in result.reason
    assert np.allclose(port.sim.position, START)


def test_cancel_while_executing_brakes_every_robot_to_rest_within_its_input_limit():
    port = fleet()
    release = {}

    def cancel() -> bool:
        release.setdefault("t", port.now())
        return port.now() - release["t"] > 5.0

    _, result, phases = run(port, goal(centre=[8.0, 8.0], radius=1.0), cancel_requested=cancel)
    assert result.status is MissionStatus.CANCELED, result.reason
    assert Phase.STOPPING in phases and Phase.EXECUTING in phases
    assert np.all(np.linalg.norm(port.sim.velocity, axis=1) <= MissionSettings().rest_speed)
    assert all(np.linalg.norm(p.input, axis=1).max() <= BASE["max_input"] + 1e-12 for p in port.active.values())


def test_cancel_while_planning_ends_canceled_without_moving():
    port = fleet()
    _, result, _ = run(port, goal(centre=[8.0, 8.0], radius=1.0), cancel_requested=lambda: True)
    assert result.status is MissionStatus.CANCELED and "planning" in result.reason
    assert np.allclose(port.sim.position, START)


def test_the_graph_is_recomputed_from_current_positions_and_the_path_searched_again():
    moved = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.5, 0.0]])
    config = mission_scenario(BASE, goal(centre=[5.0, 5.0], radius=1.0),
                              np.hstack([moved, np.zeros_like(moved)]))
    assert config["communication"] == {"radius": 2.0} and "path" not in config.get("sweep", {})
    assert config["initial"][3] == [1.5, 0.0, 0.0, 0.0]


def test_odometry_that_stops_while_executing_fails_the_mission_naming_the_robot_and_when():
    port = fleet()
    port.odometry_stops["robot_1"] = 4.0   # virtual time: the plans start at 1.0 s (lead)
    _, result, _ = run(port, goal(centre=[8.0, 8.0], radius=1.0))
    assert result.status is MissionStatus.FAILED
    assert result.reason == "odometry stale: robot_1 (since t = 3.00 s)"


def test_a_start_just_short_of_r_min_is_kept_as_the_missions_separation_and_no_more():
    close = np.hstack([START, np.zeros_like(START)])
    close[1, :2] = close[0, :2] + [0.195, 0.0]   # a plan that ended at r_min = 0.2, tracked 5 mm short
    config = mission_scenario(BASE, goal(centre=[8.0, 8.0], radius=1.0), close, separation_tolerance=0.01)
    assert config["r_min"] == pytest.approx(0.195)
    close[1, :2] = close[0, :2] + [0.18, 0.0]    # beyond the tolerance: r_min stays, the data are infeasible
    assert mission_scenario(BASE, goal(centre=[8.0, 8.0], radius=1.0), close, 0.01)["r_min"] == 0.2


def test_a_mission_keeps_the_worlds_obstacles_and_its_robots_stay_clear_of_them():
    from dro_ros.trajectory.obstacles import distances, obstacles_from_config

    base = yaml.safe_load((CONFIG / "trajectory" / "formation4_obstacles.yaml").read_text())
    port = fleet()
    mission = Mission("m", goal(centre=[9.0, 9.0], radius=1.0, duration=14.0), base, port, MissionSettings())
    result = mission.run()
    assert result.status is MissionStatus.SUCCEEDED, result.reason
    assert mission.scenario_config["obstacles"] == base["obstacles"]
    obstacles = obstacles_from_config(base["obstacles"])
    executed = np.concatenate([np.array([p for _, p, _ in rows]) for rows in port.samples.values()])
    assert distances(obstacles, executed).min() >= 0.1 - 2e-3
    straight = np.linspace(START.mean(axis=0), [9.0, 9.0], 100)
    assert distances(obstacles, straight).min() < 0.1   # the disc is in the way
