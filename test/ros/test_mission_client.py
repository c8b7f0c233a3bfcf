"""The mission client when the goal's response does not come back, over real DDS in one process.

Fast DDS drops a service response whose reader the server has not matched in time; the server then flies
a mission its client never heard of (chaos run 1). The loss cannot be forced through DDS itself, so the
server here is `/fleet/mission` built from its parts (the action's three services and status topic)
whose goal service never sends its response: it lists the goal in the status and answers the result
request (once cancelled, when the test cancels), or (`lists=False`) does neither, as a server that never got
the goal.
"""
import threading

import pytest

rclpy = pytest.importorskip("rclpy")

from action_msgs.msg import GoalInfo, GoalStatus, GoalStatusArray  # noqa: E402
from rclpy.callback_groups import ReentrantCallbackGroup  # noqa: E402
from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.qos import qos_profile_action_status_default  # noqa: E402

from dro_ros.action import Mission  # noqa: E402
from dro_ros.mission.machine import MissionStatus  # noqa: E402
from dro_ros.ros import mission_client  # noqa: E402
from dro_ros.ros.mission_client import goal_message, send_goal  # noqa: E402


def mute_server(node, lists: bool, released: threading.Event, cancels: bool = False) -> None:
    """`/fleet/mission` on `node`, whose goal responses are lost: each goal is accepted (listed as executing
    in the status when `lists`), but the goal service answers only once `released` is set (at the test's
    end). The result is a success at once; with `cancels`, it comes once a cancel request has come, and is
    CANCELED. Spin `node` with a multithreaded executor (the goal and result services block)."""
    status = node.create_publisher(GoalStatusArray, "/fleet/mission/_action/status", qos_profile_action_status_default)
    cancelled = threading.Event()

    def on_goal(request, response):
        if lists:
            status.publish(GoalStatusArray(status_list=[GoalStatus(
                goal_info=GoalInfo(goal_id=request.goal_id), status=GoalStatus.STATUS_EXECUTING)]))
        released.wait()
        return response

    def on_cancel(request, response):
        response.goals_canceling = [request.goal_info]
        cancelled.set()
        return response

    def on_result(request, response):
        outcome = MissionStatus.SUCCEEDED
        if cancels:
            cancelled.wait(timeout=30.0)
            outcome = MissionStatus.CANCELED
        response.status = GoalStatus.STATUS_CANCELED if cancels else GoalStatus.STATUS_SUCCEEDED
        response.result = Mission.Result(status=outcome.value, mission_id="fleet/mission_1", summary="{}")
        return response

    group = ReentrantCallbackGroup()
    node.create_service(Mission.Impl.SendGoalService, "/fleet/mission/_action/send_goal", on_goal, callback_group=group)
    node.create_service(Mission.Impl.CancelGoalService, "/fleet/mission/_action/cancel_goal", on_cancel,
                        callback_group=group)
    node.create_service(Mission.Impl.GetResultService, "/fleet/mission/_action/get_result", on_result,
                        callback_group=group)
    node.create_publisher(Mission.Impl.FeedbackMessage, "/fleet/mission/_action/feedback", 10)


@pytest.fixture
def serve():
    """Start a mute mission server (`mute_server(node, lists, ..., cancels)`); return the client's node."""
    started = []
    released = threading.Event()

    def start(lists: bool, cancels: bool = False):
        rclpy.init(domain_id=92)
        server_node = rclpy.create_node("mute_mission_server")
        mute_server(server_node, lists, released, cancels)
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(server_node)
        threading.Thread(target=executor.spin, daemon=True).start()
        client_node = rclpy.create_node("mission_client_test")
        started.append((executor, server_node, client_node))
        return client_node

    yield start
    released.set()
    for executor, server_node, client_node in started:
        executor.shutdown(timeout_sec=1.0)
        client_node.destroy_node()
        server_node.destroy_node()
        rclpy.shutdown()


def test_an_accepted_goal_whose_response_is_lost_is_followed_to_its_result(serve):
    node = serve(lists=True)
    outcome = send_goal(goal_message({"centre": [1.0, 2.0], "radius": 0.5}), node=node, server_timeout=20.0,
                        timeout=30.0)
    assert outcome.status is MissionStatus.SUCCEEDED, outcome
    assert outcome.mission_id == "fleet/mission_1"
    assert "response was lost" in outcome.reason


def test_a_goal_neither_answered_nor_listed_fails_saying_so_and_is_not_called_rejected(serve, monkeypatch):
    monkeypatch.setattr(mission_client, "RESPONSE_TIMEOUT", 2.0)
    node = serve(lists=False)
    outcome = send_goal(goal_message({"centre": [1.0, 2.0], "radius": 0.5}), node=node, server_timeout=20.0,
                        timeout=30.0)
    assert outcome.status is MissionStatus.FAILED, outcome
    assert "no answer to the goal within 2 s" in outcome.reason


def test_a_goal_followed_without_its_response_is_cancelled_after_its_timeout(serve):
    """The handle made from the status alone carries the cancel: the server gets it and ends the goal."""
    node = serve(lists=True, cancels=True)
    outcome = send_goal(goal_message({"centre": [1.0, 2.0], "radius": 0.5}), node=node, server_timeout=20.0,
                        timeout=3.0)
    assert outcome.status is MissionStatus.CANCELED, outcome
    assert "response was lost" in outcome.reason and "no result within 3 s; cancel requested" in outcome.reason
