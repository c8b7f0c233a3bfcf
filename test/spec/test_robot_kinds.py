"""Robot kinds of a trajectory fleet: holonomic by default; diff_drive with limits checked against the plan's
bounds before anything starts, and the separation the planner keeps inflated by the offset of the point."""
from pathlib import Path

import pytest

from dro_ros.spec import SpecError
from dro_ros.spec.fleet_config import HolonomicRobot, parse_fleet_config, read_fleet_file

ROOT = Path(__file__).resolve().parents[2]


def diffdrive(**robot):
    data = read_fleet_file(ROOT / "config" / "formation_small_diffdrive.yaml")
    data["robot"] = {**data["robot"], **robot}
    return data


def test_a_trajectory_fleet_without_robot_section_is_holonomic_and_plans_the_stated_r_min():
    data = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    config = parse_fleet_config(data)
    assert config.robot == HolonomicRobot() and config.planned_scenario == data["scenario"]
    assert config.parsed_scenario.problem.r_min == 0.2


def test_diff_drive_robots_plan_their_tracked_points_two_offsets_further_apart():
    """|c_i - c_j| >= |p_i - p_j| - 2 offset: the points planned 0.3 + 2 x 0.1 m apart keep the centres 0.3 m."""
    config = parse_fleet_config(diffdrive())
    assert config.scenario["r_min"] == 0.3 and config.parsed_scenario.problem.r_min == pytest.approx(0.5)
    assert config.start_headings() == [0.0, 1.5708, 3.1416, -1.5708]


def test_without_headings_robots_at_rest_face_their_goal():
    config = parse_fleet_config(diffdrive(heading=None))
    # goal (3, 3): from (0, 0) and (1, 1) at 45 degrees, from (1, 0) at atan2(3, 2), from (0, 1) at atan2(2, 3)
    assert config.start_headings() == pytest.approx([0.785398, 0.982794, 0.588003, 0.785398], abs=1e-6)


@pytest.mark.parametrize("robot, message", [
    ({"kind": "tank"}, "robot: Input tag 'tank' found using 'kind' does not match any of the expected tags: "
                       "'holonomic', 'diff_drive'"),
    ({"max_wheel_speed": 10.0}, "robot.max_wheel_speed: the planned max_speed 0.4 m/s of the tracked point needs "
                                "rim speeds up to 0.512 m/s"),
    ({"max_wheel_accel": 5.0}, "robot.max_wheel_accel: the planned max_input 0.2 m/s^2 of the tracked point needs "
                               "rim accelerations up to 0.256 m/s^2"),
    ({"body_radius": 0.2}, "robot.body_radius: bodies of radius 0.2 m touch at centre distance 0.4 m, above the "
                           "scenario's r_min 0.3 m"),
    ({"heading": [0.0, 1.0]}, "robot.heading: expected 4 headings, one per robot, got 2"),
    ({"offset": 0.0}, "robot.diff_drive.offset: Input should be greater than 0"),
    ({"wheel_base": None}, "robot.diff_drive.wheel_base: Input should be a valid number"),
])
def test_limits_the_robot_cannot_honour_are_refused_naming_the_field(robot, message):
    with pytest.raises(SpecError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")
                       .replace("+", r"\+")):
        parse_fleet_config(diffdrive(**robot))


def test_a_scenario_without_a_speed_bound_is_refused_for_diff_drive_robots():
    data = diffdrive()
    data["scenario"] = {k: v for k, v in data["scenario"].items() if k != "max_speed"}
    with pytest.raises(SpecError, match="^scenario.max_speed: a diff-drive fleet's scenario needs a speed bound"):
        parse_fleet_config(data)


def test_an_initial_velocity_the_wheels_cannot_give_at_the_start_heading_is_refused():
    """At rest the heading is free; moving sideways at 0.9 m/s needs omega = 9 rad/s, rims at 0.72 > 0.66 m/s."""
    data = diffdrive(heading=[1.5708, 0.0, 0.0, 0.0])
    data["scenario"]["initial"][0] = [0, 0, 0.9, 0]
    with pytest.raises(SpecError, match=r"^robot.heading\[0\]: at 1.5708 rad the initial velocity"):
        parse_fleet_config(data)


def test_the_mujoco_backend_is_refused_for_holonomic_robots_and_moving_starts():
    data = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    data["simulator"]["backend"] = "mujoco"
    with pytest.raises(SpecError, match=r"^simulator.backend: mujoco simulates diff_drive robots \(robot.kind\)"):
        parse_fleet_config(data)
    data = diffdrive()
    data["scenario"]["initial"][1] = [1, 0, 0.1, 0]
    with pytest.raises(SpecError, match=r"^simulator.backend: mujoco starts the robots at rest; scenario.initial "
                                        r"gives robots \[1\] a velocity"):
        parse_fleet_config(data)
    data["simulator"]["backend"] = "gazebo"
    with pytest.raises(SpecError, match="^simulator.backend: Input should be 'kinematic' or 'mujoco'"):
        parse_fleet_config(data)


def test_diff_drive_parameters_reach_the_simulator_the_trackers_and_the_supervisor():
    from dro_ros.ros.launch_plan import node_list

    nodes = {(n.executable, n.namespace): n.parameters for n in node_list(parse_fleet_config(diffdrive()))}
    simulator, tracker = nodes[("fleet_sim_node", "/")], nodes[("tracker_node", "/robot_1")]
    assert simulator["backend"] == "mujoco" and simulator["heading"] == [0.0, 1.5708, 3.1416, -1.5708]
    for parameters in (simulator, tracker):
        assert {k: parameters[k] for k in ("robot_kind", "wheel_base", "offset")} == \
            {"robot_kind": "diff_drive", "wheel_base": 0.16, "offset": 0.1}
    assert '"r_min": 0.5' in nodes[("supervisor_node", "/")]["scenario"]
    assert '"r_min": 0.5' in nodes[("agent_node", "/robot_0")]["params"]
