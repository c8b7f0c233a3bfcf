"""Missions through the ROS 2 action, over DDS: the 4-robot formation fleet (config/formation_small.yaml)
started with `serve`, driven by a client in the test process.

What must hold: two goals in a row succeed, the second planned from where the first left the robots (a
disc, then one position per robot); a goal sent while a mission executes is rejected with the reason; a
cancel brings every robot to rest; a malformed goal is rejected naming the field; the run's bag holds the
missions' feedback, status, plans, odometry and commands. No wait is unbounded.
"""
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from dro_ros.mission.machine import MissionStatus
from dro_ros.ros.fleet_up import Fleet
from dro_ros.ros.launch_plan import node_list
from dro_ros.spec.fleet_config import read_fleet_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fleet_client(tmp_path_factory):
    import rclpy
    from rclpy.context import Context

    config = read_fleet_file(ROOT / "config" / "formation_small.yaml")
    config["supervisor"].update(output="", summary="")
    config["record"] = str(tmp_path_factory.mktemp("bag") / "missions.mcap")
    lines: list[str] = []

    class Out:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    fleet = Fleet(node_list(config, serve=True), isolated=True, out=Out()).__enter__()
    patch = pytest.MonkeyPatch()
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        patch.setenv(key, fleet.env[key])
    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node("mission_test_client", context=context)
    stopped = []

    def stop() -> Path:
        """Stop the fleet (the recorder closes the bag) and return the bag."""
        if not stopped:
            stopped.append(True)
            node.destroy_node()
            rclpy.shutdown(context=context)
            fleet.__exit__(None, None, None)
            patch.undo()
        return Path(config["record"])

    try:
        yield node, lines, stop
    finally:
        stop()


def send(node, server_timeout=240.0, **fields):
    from dro_ros.ros.mission_client import goal_message, send_goal

    return send_goal(goal_message(fields), node=node, server_timeout=server_timeout, timeout=120.0)


def test_two_goals_in_a_row_succeed_each_from_where_the_robots_are(fleet_client):
    """One position per robot, twice (a disc target is flown, and cancelled, below). Spread goals: from a
    formation packed at r_min, Ipopt may declare the root stage locally infeasible (README, limits)."""
    node, lines, _ = fleet_client
    first = send(node, positions=[[4.0, 5.0], [5.0, 5.0], [6.0, 5.0], [7.0, 5.0]], radius=0.0)
    assert first.status is MissionStatus.SUCCEEDED, (first.reason, "".join(lines)[-3000:])
    assert first.summary["max_violation"] <= 1e-6 and first.summary["terminal_violation"] < 0.02
    second = send(node, positions=[[5.0, 8.0], [6.0, 8.0], [7.0, 8.0], [8.0, 8.0]], radius=0.2)
    assert second.status is MissionStatus.SUCCEEDED, (second.reason, "".join(lines)[-3000:])
    assert second.summary["terminal_violation"] < 0.02   # every robot within 2 cm of its own goal disc
    assert second.summary["min_separation"] >= 0.2 - 0.01
    assert re.fullmatch(r"formation_small/mission_2@\d{6}\.\d{3}/0", second.summary["run_id"])


def test_a_malformed_goal_is_rejected_naming_the_field(fleet_client):
    node, _, _ = fleet_client
    outcome = send(node, positions=[[1.0, 2.0]])
    assert outcome.status is MissionStatus.REJECTED and outcome.reason.startswith("positions:")


def test_a_goal_while_another_executes_is_rejected_and_a_cancel_brings_the_robots_to_rest(fleet_client):
    from dro_ros.ros.mission_client import goal_message, send_goal

    node, lines, _ = fleet_client
    phases: list[str] = []
    executing = threading.Event()

    def watch(feedback):
        phases.append(feedback.phase)
        if feedback.phase == "executing":
            executing.set()

    started = {}

    def cancel_when(feedback):
        if feedback.phase == "executing":
            started.setdefault("t", time.monotonic())
        return "t" in started and time.monotonic() - started["t"] > 3.0 and "busy" in started

    result = {}

    def first_goal():
        result["first"] = send_goal(goal_message({"centre": [2.0, 12.0], "radius": 1.0}), node=node,
                                    on_feedback=watch, cancel_when=cancel_when, server_timeout=240.0, timeout=120.0)

    from rclpy.context import Context
    import rclpy

    runner = threading.Thread(target=first_goal)
    runner.start()
    assert executing.wait(timeout=120.0), "".join(lines)[-3000:]
    context = Context()
    rclpy.init(context=context)
    other = rclpy.create_node("second_client", context=context)
    try:
        busy = send(other, centre=[0.0, 0.0], radius=1.0)
    finally:
        started["busy"] = True
        other.destroy_node()
        rclpy.shutdown(context=context)
    runner.join(timeout=180.0)
    assert busy.status is MissionStatus.REJECTED and "is active" in busy.reason
    canceled = result["first"]
    assert canceled.status is MissionStatus.CANCELED, (canceled.reason, "".join(lines)[-3000:])
    assert "every robot at rest" in canceled.reason
    assert "stopping" in phases


def test_the_bag_holds_every_mission(fleet_client):
    """Last in this module: stops the fleet. Plans, odometry, commands and the action's feedback and status
    of all three missions (two succeeded, one cancelled) are in the bag; `fleet report` reads it alone."""
    from rosbags.highlevel import AnyReader

    from dro_ros.fleet.recorded_run import read_run

    *_, stop = fleet_client
    bag = stop()
    with AnyReader([bag]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        plans = {reader.deserialize(raw, c.msgtype).run_id
                 for c, _, raw in reader.messages([c for c in reader.connections if c.topic == "/robot_0/plan"])}
    assert counts.get("/fleet/mission/_action/feedback", 0) > 10 and counts.get("/fleet/mission/_action/status", 0) > 0
    assert counts["/robot_0/odom"] > 100 and counts["/robot_3/cmd_vel"] > 100
    assert counts["/fleet/scenario"] >= 4 and counts["/fleet/start"] >= 4  # 3 missions + the braking plans
    ids = {re.sub(r"@\d{6}\.\d{3}/", "@T/", p) for p in plans}   # T: the supervisor's start, UTC
    assert {"formation_small/mission_1@T/0", "formation_small/mission_2@T/0"} <= ids
    assert any(p.endswith("/stop") for p in plans)
    run = read_run(bag)
    assert run.run_id.endswith("/stop") and len(run.robots) == 4
