"""Bags written by `dro_ros.fleet.recording` and read back without ROS: by rosbags (what `fleet report`
uses) and by the MCAP library's ROS 2 decoder (the ros2msg schemas Foxglove decodes with).

What must hold: every message comes back on its topic, with its type and value; the stored definitions
are the installed ones (their RIHS01 hashes are those the ROS build generated); a bag whose recorder was
killed keeps every message up to its last flush; a recorded run gives the summary of its plans and tracks.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.highlevel import AnyReader

from dro_ros.fleet.plan import Plan
from dro_ros.fleet.recorded_run import read_run
from dro_ros.fleet.recording import BagWriter, InterfaceDefinitions, RecordingError, interface_prefixes, recover
from dro_ros.fleet.summary import summarize
from dro_ros.trajectory.scenarios import scenario_from_config

ROOT = Path(__file__).resolve().parents[2]
SECOND = 10**9
T0 = 1_800_000_000 * SECOND


@pytest.fixture(scope="module")
def definitions():
    return InterfaceDefinitions()


def odometry(definitions, stamp, x, vx=0.0, heading=0.0, turn=0.0):
    """A nav_msgs/Odometry: position x, linear velocity vx (world or body frame), yaw `heading`, yaw rate
    `turn`."""
    types = definitions.typestore.types
    msg = types["nav_msgs/msg/Odometry"](
        header=types["std_msgs/msg/Header"](stamp=types["builtin_interfaces/msg/Time"](
            sec=stamp // SECOND, nanosec=stamp % SECOND), frame_id="world"),
        child_frame_id="base_link",
        pose=types["geometry_msgs/msg/PoseWithCovariance"](
            pose=types["geometry_msgs/msg/Pose"](position=types["geometry_msgs/msg/Point"](x=x[0], y=x[1], z=0.0),
                                                 orientation=types["geometry_msgs/msg/Quaternion"](
                                                     x=0.0, y=0.0, z=np.sin(heading / 2), w=np.cos(heading / 2))),
            covariance=np.zeros(36)),
        twist=types["geometry_msgs/msg/TwistWithCovariance"](
            twist=types["geometry_msgs/msg/Twist"](linear=types["geometry_msgs/msg/Vector3"](x=vx[0], y=vx[1], z=0.0),
                                                   angular=types["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=turn)),
            covariance=np.zeros(36)))
    return serialize(definitions, msg, "nav_msgs/msg/Odometry")


def serialize(definitions, message, msgtype):
    return bytes(definitions.typestore.serialize_cdr(message, msgtype))


def message(definitions, msgtype, **fields):
    definitions.require(msgtype)
    return serialize(definitions, definitions.typestore.types[msgtype](**fields), msgtype)


def time_msg(definitions, stamp):
    definitions.require("builtin_interfaces/msg/Time")
    return definitions.typestore.types["builtin_interfaces/msg/Time"](sec=stamp // SECOND, nanosec=stamp % SECOND)


def test_messages_come_back_with_their_topics_types_and_values(tmp_path, definitions):
    definitions.require("nav_msgs/msg/Odometry")
    with BagWriter(tmp_path / "run.mcap", definitions) as bag:
        for k in range(50):
            stamp = T0 + k * SECOND // 50
            odom = odometry(definitions, stamp, (0.1 * k, 0.0), (1.0, 0.0))
            bag.write("/robot_0/odom", "nav_msgs/msg/Odometry", odom, stamp)
        bag.write("/fleet/min_distance", "std_msgs/msg/Float64", message(definitions, "std_msgs/msg/Float64",
                                                                         data=0.5), T0)
        bag.write_text("/fleet/scenario", '{"name": "x"}', T0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.mcap"]  # one file, the directory is gone
    with AnyReader([tmp_path / "run.mcap"]) as reader:
        topics = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        xs = [reader.deserialize(raw, c.msgtype).pose.pose.position.x
              for c, _, raw in reader.messages() if c.topic == "/robot_0/odom"]
    assert topics == {"/robot_0/odom": ("nav_msgs/msg/Odometry", 50),
                      "/fleet/min_distance": ("std_msgs/msg/Float64", 1), "/fleet/scenario": ("std_msgs/msg/String", 1)}
    assert xs == pytest.approx([0.1 * k for k in range(50)])
    with open(tmp_path / "run.mcap", "rb") as stream:  # the MCAP library's own ROS 2 decoder, as Foxglove
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        schemas = {s.name: s for s in reader.get_summary().schemas.values()}
        decoded = [(channel.topic, m) for _, channel, _, m in reader.iter_decoded_messages()]
        [metadata] = [m for m in reader.iter_metadata() if m.name == "rosbag2"]
    assert len(decoded) == 52 and [m.data for topic, m in decoded if topic == "/fleet/scenario"] == ['{"name": "x"}']
    assert schemas["nav_msgs/msg/Odometry"].encoding == "ros2msg"
    assert b"MSG: geometry_msgs/PoseWithCovariance" in schemas["nav_msgs/msg/Odometry"].data  # with dependencies
    assert yaml.safe_load(metadata.metadata["serialized_metadata"])["message_count"] == 52


def test_stored_definitions_are_the_installed_ones(definitions):
    """rosbags hashes the parsed definition (RIHS01, REP 2011); the ROS build wrote the same hash."""
    for msgtype in ("nav_msgs/msg/Odometry", "dro_ros/msg/TrajectoryPlan", "dro_ros/msg/Envelope"):
        package, kind, name = msgtype.split("/")
        [description] = [p / "share" / package / kind / f"{name}.json" for p in interface_prefixes()
                         if (p / "share" / package / kind / f"{name}.json").is_file()][:1]
        definitions.require(msgtype)
        generated = json.loads(description.read_text())["type_hashes"][0]
        assert generated["type_name"] == msgtype
        assert definitions.typestore.hash_rihs01(msgtype) == generated["hash_string"]


def test_action_topic_types_come_from_the_action_file(tmp_path):
    (tmp_path / "share" / "demo_actions" / "action").mkdir(parents=True)
    (tmp_path / "share" / "demo_actions" / "action" / "Reach.action").write_text(
        "float64[] target\n---\nbool ok\nstring reason\n---\nstring phase\nfloat64 progress\n")
    definitions = InterfaceDefinitions([tmp_path, *interface_prefixes()])
    definitions.require("demo_actions/action/Reach_FeedbackMessage")
    fields = definitions.typestore.fielddefs
    assert [name for name, _ in fields["demo_actions/action/Reach_FeedbackMessage"][1]] == ["goal_id", "feedback"]
    assert [name for name, _ in fields["demo_actions/action/Reach_Feedback"][1]] == ["phase", "progress"]
    definitions.require("demo_actions/action/Reach_Result")
    assert [name for name, _ in fields["demo_actions/action/Reach_Result"][1]] == ["ok", "reason"]


def test_a_type_without_definition_and_a_taken_file_are_named(tmp_path, definitions):
    with pytest.raises(RecordingError, match="no_such_msgs/msg/Thing.msg: no interface file"):
        definitions.require("no_such_msgs/msg/Thing")
    (tmp_path / "run.mcap").write_bytes(b"")
    with pytest.raises(RecordingError, match="run.mcap exists"):
        BagWriter(tmp_path / "run.mcap", definitions)
    with pytest.raises(RecordingError, match="must end in .mcap"):
        BagWriter(tmp_path / "run.bag", definitions)


def test_a_killed_recording_keeps_every_message_up_to_its_last_flush(tmp_path, definitions):
    bag = BagWriter(tmp_path / "run.mcap", definitions, flush_period=0.5).open()
    for k in range(40):  # 4 s at 10 Hz; a write 0.5 s after the last flush flushes (k = 0, 5, ..., 35)
        bag.write("/fleet/min_distance", "std_msgs/msg/Float64",
                  message(definitions, "std_msgs/msg/Float64", data=float(k)), T0 + k * SECOND // 10)
    written = (tmp_path / "run" / "run.mcap").read_bytes()   # what a SIGKILL leaves on disk
    (tmp_path / "killed.mcap").write_bytes(written[:-3])      # cut inside the last chunk's message index
    bag.close()
    with pytest.raises(Exception, match="magic"):
        AnyReader([tmp_path / "killed.mcap"]).open()
    assert recover(tmp_path / "killed.mcap", tmp_path / "recovered.mcap") == 36  # k = 0..35
    with AnyReader([tmp_path / "recovered.mcap"]) as reader:
        values = [reader.deserialize(raw, c.msgtype).data for c, _, raw in reader.messages()]
    assert values == [float(k) for k in range(36)]
    with pytest.raises(RecordingError, match="no /fleet/scenario"):  # read_run recovers it, then reads
        read_run(tmp_path / "killed.mcap")


def write_straight_run(path, definitions, offset=0.0, odom_error=0.0):
    """Robots on straight constant-velocity plans (zero input) of config/trajectory/formation4.yaml, released
    at T0 + 2 s, their odometry at 50 Hz exactly on the plans from T0 + 1 s. With `offset`, diff-drive
    robots: the scenario carries `tracked_offset`, the true poses on /<robot>/ground_truth put the planned
    point `offset` ahead of the axle, heading along the velocity, and /<robot>/odom is off by `odom_error` m
    in x. Returns (scenario config, robots, plans, release)."""
    scenario_config = yaml.safe_load((ROOT / "config" / "trajectory" / "formation4.yaml").read_text())
    problem = scenario_from_config(scenario_config).problem
    robots = [f"robot_{i}" for i in range(problem.n_agents)]
    release, horizon, step = T0 + 2 * SECOND, problem.horizon, problem.step
    plans = {}
    for i, robot in enumerate(robots):
        s0, v0 = problem.initial[i, :2], problem.initial[i, 2:]
        k = np.arange(horizon + 1)[:, None]
        plans[i] = Plan(robot, step, s0 + v0 * k * step, np.repeat(v0[None], horizon + 1, 0),
                        np.zeros((horizon, 2)), 0.0, run_id="r/0")
    types = definitions.typestore.types
    for name in ("dro_ros/msg/TrajectoryPlan", "dro_ros/msg/FleetStart"):
        definitions.require(name)
    recorded = {**scenario_config, "tracked_offset": offset} if offset else scenario_config
    with BagWriter(path, definitions) as bag:
        bag.write_text("/fleet/scenario", json.dumps(recorded), T0)
        for i, robot in enumerate(robots):
            plan = types["dro_ros/msg/TrajectoryPlan"](
                stamp=time_msg(definitions, T0), robot=robot, run_id="r/0", frame_id="world", step=step, dim=2,
                position=plans[i].position.ravel(), velocity=plans[i].velocity.ravel(), input=plans[i].input.ravel(),
                cost=0.0)
            bag.write(f"/{robot}/plan", "dro_ros/msg/TrajectoryPlan",
                      serialize(definitions, plan, "dro_ros/msg/TrajectoryPlan"), T0, latched=True)
        start = types["dro_ros/msg/FleetStart"](start=time_msg(definitions, release), run_id="r/0", robots=robots)
        bag.write("/fleet/start", "dro_ros/msg/FleetStart", serialize(definitions, start, "dro_ros/msg/FleetStart"),
                  T0 + SECOND)
        for tick in range(50 * 14):  # 12 s of odometry from T0 + 1 s
            stamp = T0 + SECOND + tick * SECOND // 50
            t = (stamp - release) / SECOND
            for i, robot in enumerate(robots):
                s, v, _ = plans[i].reference(t)
                if not offset:
                    bag.write(f"/{robot}/odom", "nav_msgs/msg/Odometry", odometry(definitions, stamp, s, v), stamp)
                    continue
                heading, speed = np.arctan2(v[1], v[0]), np.linalg.norm(v)
                centre = s - offset * np.array([np.cos(heading), np.sin(heading)])
                for topic, error in (("ground_truth", 0.0), ("odom", odom_error)):
                    bag.write(f"/{robot}/{topic}", "nav_msgs/msg/Odometry",
                              odometry(definitions, stamp, centre + [error, 0.0], [speed, 0.0], heading), stamp)
            bag.write("/fleet/min_distance", "std_msgs/msg/Float64",
                      message(definitions, "std_msgs/msg/Float64", data=0.42), stamp)
    return scenario_config, robots, plans, release


def test_a_recorded_run_gives_the_summary_of_its_plans_and_tracks(tmp_path, definitions):
    """Odometry exactly on the plans: the bag's summary is the one of the same plans and tracks, with zero
    tracking error."""
    _, robots, plans, _ = write_straight_run(tmp_path / "run.mcap", definitions)
    run = read_run(tmp_path / "run.mcap")
    assert run.run_id == "r/0" and run.robots == robots and not run.recovered
    assert run.counts["/robot_0/odom"] == 700 and run.min_distance == 0.42
    assert all(np.allclose(run.plans[i].position, plans[i].position) for i in plans)
    summary = summarize(run.problem, run.plans, run.tracks)
    horizon, step = run.plans[0].horizon, run.plans[0].step
    duration = horizon * step
    grid = np.linspace(0.0, duration, 201)
    expected = min(np.linalg.norm(plans[a].reference_many(grid)[0] - plans[b].reference_many(grid)[0], axis=1).min()
                   for a in plans for b in plans if a < b)
    assert summary.min_separation == pytest.approx(expected, abs=1e-3)
    assert summary.max_tracking_error < 1e-9 and summary.terminal_position_error < 1e-9
    assert run.tracks[0].times[0] == pytest.approx(-1.0) and run.tracks[0].times[-1] <= duration + 1.0


def test_a_diff_drive_run_is_read_on_the_tracked_point_of_its_ground_truth(tmp_path, definitions):
    """Diff-drive robots whose planned point (0.1 m ahead of the axle) is exactly on the plans while their
    wheel odometry is 5 cm off: the run is read from the ground truth, as the point: zero tracking error;
    the simulator's distance of centres is kept apart from the points' separation."""
    write_straight_run(tmp_path / "run.mcap", definitions, offset=0.1, odom_error=0.05)
    run = read_run(tmp_path / "run.mcap")
    summary = summarize(run.problem, run.plans, run.tracks, run.min_distance)
    assert summary.max_tracking_error < 1e-9 and summary.terminal_velocity_error < 1e-9
    assert run.min_distance is None and run.min_centre_distance == 0.42


def test_a_bag_without_a_release_says_so(tmp_path, definitions):
    with BagWriter(tmp_path / "run.mcap", definitions) as bag:
        bag.write_text("/fleet/scenario", "{}", T0)
    with pytest.raises(RecordingError, match="no /fleet/start message"):
        read_run(tmp_path / "run.mcap")
    with pytest.raises(RecordingError, match="no such bag"):
        read_run(tmp_path / "missing.mcap")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_an_action_feedback_topic_is_recorded_and_read_back(tmp_path):
    """The mission action's feedback topic (nested `<pkg>/action/` types, which rosbags' own definition
    generator refuses) is written with a self-contained definition and decodes from the bag alone."""
    from dro_ros.fleet.recording import BagWriter, InterfaceDefinitions

    action = tmp_path / "share" / "demo_actions" / "action"
    action.mkdir(parents=True)
    (action / "Reach.action").write_text("float64[] centre\n---\nbool ok\n---\nstring phase\nfloat64 progress\n")
    definitions = InterfaceDefinitions([tmp_path] + InterfaceDefinitions().prefixes)
    msgtype = "demo_actions/action/Reach_FeedbackMessage"
    definitions.require(msgtype)
    store = definitions.typestore
    message = store.types[msgtype](goal_id=store.types["unique_identifier_msgs/msg/UUID"](
        uuid=np.arange(16, dtype=np.uint8)), feedback=store.types["demo_actions/action/Reach_Feedback"](
            phase="executing", progress=0.25))
    with BagWriter(tmp_path / "run.mcap", definitions) as bag:
        bag.write("/reach/_action/feedback", msgtype, bytes(store.serialize_cdr(message, msgtype)), 1)
    with AnyReader([tmp_path / "run.mcap"]) as reader:
        [(connection, _, raw)] = list(reader.messages())
        decoded = reader.deserialize(raw, connection.msgtype)
    assert decoded.feedback.phase == "executing" and decoded.feedback.progress == 0.25
    assert list(decoded.goal_id.uuid) == list(range(16))
