"""The launch files' node lists, built by the pure function they share with `dro-ros fleet up`."""
import ast
import json
from pathlib import Path

import pytest

from dro_ros.ros.fleet_up import label, node_command
from dro_ros.ros.launch_plan import gazebo_plan, load_config, node_list
from dro_ros.spec import AgentSpec, SpecError
from dro_ros.spec.fleet_config import read_fleet_file

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = {"formation": "formation2d.yaml", "platoon": "platoon.yaml", "cohda_fleet": "cohda_fleet.yaml",
                "scheduler": "scheduler.yaml", "averaging": "averaging_ring6.yaml"}


def nodes_of(config_name):
    return node_list(load_config(ROOT / "config" / config_name))


def spec_of(node):
    return AgentSpec.from_parameters(node.parameters)


def test_formation_fleet_has_the_simulator_a_tracker_and_an_agent_per_robot_and_the_supervisor():
    nodes = nodes_of("formation2d.yaml")
    by_kind = {}
    for node in nodes:
        by_kind.setdefault(node.executable, []).append(node)
    assert {k: len(v) for k, v in by_kind.items()} == {"fleet_sim_node": 1, "tracker_node": 8, "agent_node": 8,
                                                        "supervisor_node": 1}
    assert [n.namespace for n in by_kind["agent_node"]] == [f"/robot_{i}" for i in range(8)]
    assert [n.required for n in nodes] == [False] * 17 + [True]
    # eq. 5.13 at r_com = 2: robot_2 at (3, 1) is 2, 2, 1.41, 1.41 m from robots 1, 3, 4, 5 and 2.24 m from 6
    spec = spec_of(by_kind["agent_node"][2])
    assert spec.algorithm == "path_sweep" and spec.neighbours == ["robot_1", "robot_3", "robot_4", "robot_5"]
    assert spec.params["eas"] is True and spec.params["index"] == 2 and spec.params["scenario"]["horizon"] == 500
    assert spec.timeouts == {"discovery": 60.0, "stall": 30.0, "wall": 600.0}
    simulator = by_kind["fleet_sim_node"][0].parameters
    assert simulator["initial"][:4] == [6.5, 1.0, 1.0, 1.5] and len(simulator["initial"]) == 32
    assert by_kind["supervisor_node"][0].parameters["robots"] == [f"robot_{i}" for i in range(8)]
    # the separation filter keeps r_min 0.2 less half the 0.01 m separation_tolerance
    assert [n.parameters["separation"] for n in by_kind["tracker_node"]] == pytest.approx([0.195] * 8)


def test_agent_parameters_round_trip_through_the_spec():
    node = nodes_of("cohda_fleet.yaml")[0]
    spec = spec_of(node)
    assert AgentSpec.from_parameters(spec.to_parameters()) == spec
    assert spec.params["target"] == [6, 9, 5, 4] and spec.params["credit_delay"] == 0.05
    spec.build_agent()


def test_the_configs_limits_reach_every_agent_node():
    node = nodes_of("formation2d.yaml")[-2]
    assert (node.executable, node.parameters["limits.inbox"], node.parameters["limits.backlog"]) == \
           ("agent_node", 10000, 10000)
    assert spec_of(node).limits == {"inbox": 10000, "backlog": 10000}


@pytest.mark.parametrize("limits, message", [({"inbox": 0}, "limits.inbox: expected a positive number"),
                                             ({"queue": 5}, "limits.queue: unknown limit")])
def test_a_bad_agent_spec_limit_names_the_field(limits, message):
    spec = {"address": "a", "fleet": ["a"], "algorithm": "averaging", "params": {"initial": 1.0}, "limits": limits}
    with pytest.raises(SpecError, match=message):
        AgentSpec.from_dict(spec)


def test_platoon_fleet_runs_the_branch_sweep_on_a_path_graph():
    agents = [n for n in nodes_of("platoon.yaml") if n.executable == "agent_node"]
    assert [spec_of(n).neighbours for n in agents] == [["robot_1"], ["robot_0", "robot_2"],
                                                        ["robot_1", "robot_3"], ["robot_2"]]
    assert {spec_of(n).algorithm for n in agents} == {"branch_sweep"}


def test_averaging_config_gives_one_agent_node_per_robot_with_its_ring_neighbours():
    nodes = nodes_of("averaging_ring6.yaml")
    spec = spec_of(nodes[0])
    assert spec.neighbours == ["robot_1", "robot_5"] and spec.params["diameter_bound"] == 3
    assert spec.params["initial"] == 4.2 and nodes[-1].executable == "supervisor_node"


def test_scheduler_config_starts_the_scheduler_node_with_its_defaults():
    [node] = nodes_of("scheduler.yaml")
    assert (node.executable, node.parameters["solver"], node.parameters["time_limit"]) == ("scheduler_node", "cbc",
                                                                                          60.0)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(initial=[1.0, 2.0]), "initial: expected 6 entries, one per robot"),
    (lambda c: c.update(algorithm="gossip"), "algorithm: expected one of"),
    (lambda c: c.update(timeouts={"stall": -1}), r"timeouts.stall: Input should be greater than or equal to 0"),
    (lambda c: c.update(supervisor=[1]), "supervisor: Input should be a valid dictionary"),
    (lambda c: c.update(supervisor={"lead": -1.0}), "supervisor.lead: Input should be greater than or equal to 0"),
    (lambda c: c.update(supervisor={"leed": 1.0}), "supervisor.leed: Extra inputs are not permitted"),
    (lambda c: c.pop("kind"), "kind: expected one of trajectory, agents, coordinated, scheduler"),
    (lambda c: c.update(topology={"kind": "star", "n": 6}), "topology.kind: Input should be"),
    (lambda c: c.update(limits={"inbox": 0}), "limits.inbox: Input should be greater than 0"),
])
def test_a_bad_config_names_the_field(change, message):
    config = read_fleet_file(ROOT / "config" / "averaging_ring6.yaml")
    change(config)
    with pytest.raises(SpecError, match=message):
        node_list(config)


def test_a_bad_trajectory_config_names_the_field():
    config = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    config["scenario"]["r_min"] = -1
    with pytest.raises(SpecError, match="scenario.r_min: must be >= 0"):
        node_list(config)
    config = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    config["algorithm"] = "cohda"
    with pytest.raises(SpecError, match="algorithm: a trajectory fleet runs one of"):
        node_list(config)


def test_fleet_up_command_sets_name_namespace_and_parameter_file(tmp_path):
    node = nodes_of("formation_small.yaml")[1]
    command = node_command(node, tmp_path / "p.yaml")
    assert command[1:] == ["-m", "dro_ros.ros.nodes.tracker_node", "--ros-args", "-r", "__node:=tracker",
                           "-r", "__ns:=/robot_0", "--params-file", str(tmp_path / "p.yaml")]
    assert label(node) == "robot_0/tracker"


@pytest.mark.parametrize("launch_file, config", sorted(LAUNCH_FILES.items()))
def test_launch_files_use_the_shared_plan_with_an_existing_default_config(launch_file, config):
    tree = ast.parse((ROOT / "launch" / f"{launch_file}.launch.py").read_text())
    [function] = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "generate_launch_description"]
    [call] = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
    assert call.func.id == "fleet_launch_description" and call.args[0].value == config
    assert (ROOT / "config" / config).is_file()
    json.dumps([n.parameters for n in nodes_of(config)])  # parameters are plain data


def test_admm_fleet_puts_the_coordinator_at_the_centre_of_a_star():
    nodes = nodes_of("admm_fleet.yaml")
    coordinator = nodes[0]
    assert (coordinator.executable, coordinator.namespace) == ("coordinator_node", "/coordinator")
    assert spec_of(coordinator).neighbours == [f"robot_{i}" for i in range(4)]
    assert {tuple(spec_of(n).neighbours) for n in nodes[1:5]} == {("coordinator",)}
    assert nodes[-1].parameters["robots"] == ["coordinator"] + [f"robot_{i}" for i in range(4)]


def test_gazebo_plan_replaces_the_simulator_with_spawned_bridged_robots():
    nodes, robots = gazebo_plan(load_config(ROOT / "config" / "formation2d.yaml"))
    assert "fleet_sim_node" not in {n.executable for n in nodes} and len(nodes) == 17
    assert robots[0].position == (6.5, 1.0, 0.0)
    assert robots[3].bridges == ("/robot_3/odom@nav_msgs/msg/Odometry[gz.msgs.Odometry",
                                 "/robot_3/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist")
    ast.parse((ROOT / "launch" / "gazebo.launch.py").read_text())
    with pytest.raises(SpecError, match="kind: gazebo.launch.py runs trajectory fleets"):
        gazebo_plan(load_config(ROOT / "config" / "cohda_fleet.yaml"))


def test_record_starts_the_recorder_first_and_refuses_a_taken_file(tmp_path):
    config = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    config["record"] = str(tmp_path / "run.mcap")
    recorder = node_list(config)[0]
    assert (recorder.executable, recorder.namespace) == ("recorder_node", "/")
    assert recorder.parameters["output"] == str(tmp_path / "run.mcap")
    assert json.loads(recorder.parameters["scenario"]) == config["scenario"]  # fleet report reads it
    (tmp_path / "run.mcap").write_bytes(b"")
    with pytest.raises(SpecError, match="record: .*run.mcap exists"):
        node_list(config)


def test_gazebo_plan_spawns_diff_drive_models_on_the_simulator_topics():
    """Each robot's model (checked as XML): DiffDrive on the wheel joints it defines with the config's
    geometry and the limits its wheels give, on /<robot>/cmd_vel and /<robot>/odom; OdometryPublisher on
    /<robot>/ground_truth; spawned with its axle centre offset behind the planned point at its heading,
    which its tracker gets as the odometry's origin."""
    import xml.etree.ElementTree as ElementTree

    config = load_config(ROOT / "config" / "formation_small_diffdrive.yaml")
    nodes, robots = gazebo_plan(config)
    assert "fleet_sim_node" not in {n.executable for n in nodes}
    robot = robots[2]   # planned point (0, 1), heading 3.1416: the axle 0.1 m further along +x
    assert robot.position == pytest.approx((0.1, 1.0, 0.0), abs=1e-4) and robot.heading == 3.1416
    assert robot.bridges == ("/robot_2/odom@nav_msgs/msg/Odometry[gz.msgs.Odometry",
                             "/robot_2/ground_truth@nav_msgs/msg/Odometry[gz.msgs.Odometry",
                             "/robot_2/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist")
    [tracker] = [n for n in nodes if n.executable == "tracker_node" and n.namespace == "/robot_2"]
    assert tracker.parameters["odom_origin"] == pytest.approx([0.1, 1.0, 3.1416], abs=1e-4)
    assert tracker.parameters["robot_kind"] == "diff_drive" and tracker.parameters["offset"] == 0.1
    assert tracker.parameters["separation"] == pytest.approx(0.5 - 0.05 / 2)   # between tracked points
    supervisor = nodes[-1].parameters
    assert (supervisor["tracked_offset"], supervisor["truth_topic"]) == (0.1, "ground_truth")
    model = ElementTree.fromstring(robot.sdf.split("?>", 1)[1]).find("model")
    plugins = {p.get("name"): p for p in model.findall("plugin")}
    drive = plugins["gz::sim::systems::DiffDrive"]
    joints = {j.get("name"): j for j in model.findall("joint")}
    assert {drive.findtext("left_joint"), drive.findtext("right_joint")} == set(joints)
    assert {j.findtext("child") for j in joints.values()} <= {link.get("name") for link in model.findall("link")}
    assert float(drive.findtext("wheel_separation")) == 0.16 and float(drive.findtext("wheel_radius")) == 0.033
    assert float(drive.findtext("max_linear_velocity")) == pytest.approx(0.033 * 20.0)
    assert float(drive.findtext("max_angular_velocity")) == pytest.approx(2 * 0.033 * 20.0 / 0.16)
    assert (drive.findtext("topic"), drive.findtext("odom_topic")) == ("/robot_2/cmd_vel", "/robot_2/odom")
    truth = plugins["gz::sim::systems::OdometryPublisher"]
    assert truth.findtext("odom_topic") == "/robot_2/ground_truth"
    tree = ast.parse((ROOT / "launch" / "gazebo.launch.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {"-Y", "-string", "ros_gz_sim", "ros_gz_bridge", "parameter_bridge"} <= strings


@pytest.mark.parametrize("entry, message", [
    ({"robot": 4, "time": 8.0, "kind": "dropout", "duration": 6.0},
     r"scenario.disturbances\[1\].robot: expected a robot index in 0..3, got 4"),
    ({"robot": 3, "time": 8.0, "kind": "dropout", "duration": -6.0},
     r"scenario.disturbances\[1\].duration: must be positive, got -6.0"),
    ({"robot": 3, "time": 8.0, "kind": "dropout", "duration": 6.0, "mode": "pause"},
     r"scenario.disturbances\[1\].mode: expected one of \['silent', 'kill'\], got 'pause'"),
    ({"robot": 3, "time": 8.0, "kind": "dropout", "duration": 6.0, "mod": "kill"},
     r"scenario.disturbances\[1\].mod: unknown key of a dropout"),
])
def test_a_bad_scripted_dropout_is_refused_before_the_fleet_starts_naming_the_field(entry, message):
    config = read_fleet_file(ROOT / "config" / "mpc_formation_small.yaml")
    config["scenario"]["disturbances"].append(entry)
    with pytest.raises(SpecError, match=message):
        node_list(config)


def test_pushes_of_diff_drive_robots_are_refused_naming_the_disturbance():
    config = read_fleet_file(ROOT / "config" / "formation_small_diffdrive.yaml")
    config["scenario"]["disturbances"] = [{"robot": 0, "time": 1.0, "kind": "push", "velocity": [0.1, 0.0]}]
    with pytest.raises(SpecError, match=r"scenario.disturbances\[0\]: only holonomic robots can be pushed"):
        node_list(config)

def test_a_fleet_config_sets_values_of_its_scenario_file_without_a_copy(tmp_path):
    """config/mpc_formation.yaml adds a dropout to the bench's scenario file, which keeps only its push; a
    `set` that is not a mapping of dotted keys is refused naming it."""
    import yaml

    config = read_fleet_file(ROOT / "config" / "mpc_formation.yaml")
    assert [d["kind"] for d in config["scenario"]["disturbances"]] == ["push", "dropout"]
    assert "set" not in config
    scenario = yaml.safe_load((ROOT / "config" / "trajectory" / "mpc_formation.yaml").read_text())
    assert [d["kind"] for d in scenario["disturbances"]] == ["push"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: trajectory\nset: [scenario.r_min, 0.3]\n")
    with pytest.raises(SpecError, match=r"set: expected a mapping of dotted keys"):
        read_fleet_file(bad)


def test_trackers_of_a_fleet_with_obstacles_get_them_for_the_separation_filter():
    """config/mpc_formation.yaml: three discs, clearance r_min / 2 = 0.1 kept less half the 0.01 m tolerance;
    `tracker.separation_filter: false` turns the filter off."""
    from dro_ros.spec.fleet_config import parse_fleet_config, set_value

    path = ROOT / "config" / "mpc_formation.yaml"
    tracker = next(n for n in node_list(load_config(path)) if n.executable == "tracker_node").parameters
    assert [o["kind"] for o in json.loads(tracker["obstacles"])] == ["disc"] * 3
    assert (tracker["separation"], tracker["clearance"]) == pytest.approx((0.195, 0.095))
    raw = read_fleet_file(str(path))
    set_value(raw, "tracker.separation_filter", False)
    tracker = next(n for n in node_list(parse_fleet_config(raw, str(path))) if n.executable == "tracker_node")
    assert not {"separation", "obstacles", "clearance", "separation_filter"} & set(tracker.parameters)
