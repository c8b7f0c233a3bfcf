"""scheduler_node in its own process over DDS: the service, the latched topic, bad input and cancel."""
import json
import sys
import time
from pathlib import Path

import pytest
from ros_client import call_idempotent as call, process_and_client

from dro_ros.scheduling.scenarios import SCENARIOS, generate

DATA = Path(__file__).resolve().parents[1] / "scheduling" / "data"


@pytest.fixture(scope="module")
def ros(request):
    """A scheduler_node process and, in this process, an rclpy node on the same private domain."""
    with process_and_client([sys.executable, "-m", "dro_ros.ros.nodes.scheduler_node"],
                            "scheduler_test_client") as client:
        yield client


def schedule_request(problem_json, **fields):
    from dro_ros.srv import Schedule

    return Schedule.Request(problem_json=problem_json, solver=fields.get("solver", "highs"),
                            time_limit=fields.get("time_limit", 0.0), gap=fields.get("gap", 0.0))


def test_the_service_returns_the_optimal_schedule_and_late_joiners_receive_it(ros):
    import rclpy

    from dro_ros.msg import ScheduleResult
    from dro_ros.ros.qos import LATCHED
    from dro_ros.srv import Schedule

    node, context = ros
    client = node.create_client(Schedule, "schedule")
    response = call(node, context, client, schedule_request((DATA / "chain_window.json").read_text()))
    assert response.result.status == "optimal" and abs(response.result.objective - 5.001) < 1e-6
    assert [e["name"] for e in json.loads(response.result.schedule_json)["tasks"]][-1] == "analyse"

    received = []
    node.create_subscription(ScheduleResult, "latest_schedule", received.append, LATCHED)  # joins after
    deadline = time.monotonic() + 20
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    while not received and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.1)
    executor.remove_node(node)
    assert received and received[0].schedule_json == response.result.schedule_json


def test_a_malformed_problem_gets_an_invalid_reply_naming_the_field(ros):
    from dro_ros.srv import Schedule

    node, context = ros
    data = json.loads((DATA / "independent.json").read_text())
    data["Time"]["Thor"] = 2.5
    response = call(node, context, node.create_client(Schedule, "schedule"), schedule_request(json.dumps(data)))
    assert response.result.status == "invalid" and response.result.message.startswith("Time")
    assert response.result.schedule_json == ""


def test_cancel_stops_a_long_solve_which_still_replies_with_a_schedule(ros):
    from std_srvs.srv import Trigger

    from dro_ros.srv import Schedule

    node, context = ros
    schedule = node.create_client(Schedule, "schedule")
    cancel = node.create_client(Trigger, "cancel")
    assert schedule.wait_for_service(timeout_sec=30.0) and cancel.wait_for_service(timeout_sec=30.0)
    problem = json.dumps(generate(**SCENARIOS["rovers9_30"]))
    future = schedule.call_async(schedule_request(problem, solver="cbc", time_limit=600.0, gap=0.0))
    import rclpy

    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.spin_until_future_complete(future, timeout_sec=8.0)  # past the build (seconds on a loaded machine)
    assert not future.done()
    cancelled = cancel.call_async(Trigger.Request())
    executor.spin_until_future_complete(cancelled, timeout_sec=10.0)
    executor.spin_until_future_complete(future, timeout_sec=30.0)
    executor.remove_node(node)
    assert cancelled.result().success
    result = future.result().result
    assert result.status == "cancelled" and json.loads(result.schedule_json)["tasks"]


def test_the_semantics_parameter_makes_the_node_answer_as_mosaic():
    """ti_capacity: MOSAIC's allocator lets both 6 bits/s products use the 10 bits/s link (objective
    -5 + 12e-8, every task runs); the default would drop c2."""
    from dro_ros.srv import Schedule

    command = [sys.executable, "-m", "dro_ros.ros.nodes.scheduler_node",
               "--ros-args", "-r", "__ns:=/as_mosaic", "-p", "semantics:=mosaic"]  # beside the module's node
    with process_and_client(command, "scheduler_semantics_client") as (node, context):
        request = schedule_request((DATA / "ti_capacity.json").read_text())
        request.model = "ti"
        response = call(node, context, node.create_client(Schedule, "/as_mosaic/schedule"), request)
    assert response.result.status == "optimal" and abs(response.result.objective - (-5 + 12e-8)) < 1e-9
    assert {e["name"] for e in json.loads(response.result.schedule_json)["tasks"]} >= {"p1", "p2", "c1", "c2"}
