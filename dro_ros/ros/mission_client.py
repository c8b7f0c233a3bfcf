"""A mission client: send one goal to a fleet's `/fleet/mission` action, stream its feedback, return its result.

    with rclpy.init():
        outcome = send_goal(goal_message({"centre": [30, 30], "radius": 1.0}), on_feedback=print)

`send_goal` waits `server_timeout` seconds for the action server (a fleet still starting up serves once
every agent is ready), then for the result; on `timeout` it cancels the goal and returns status FAILED
with the reason. `dro-ros fleet goal` and `dro-ros fleet up --goals` are its command-line faces.

A goal's response can be lost on the way back: Fast DDS drops a service response whose reader the server
has not matched within the writer's `max_blocking_time` ("failed to send response (timeout)"), which
happens at start-up under load. The server then flies a mission its client never heard of. So the client
also watches the action's status topic: a goal listed there was accepted, and is followed to its result
as if the response had come (`GoalOutcome.reason` says so). A goal neither answered nor listed within
`RESPONSE_TIMEOUT` is reported FAILED with that reason, never as rejected.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import rclpy
from action_msgs.msg import GoalStatus, GoalStatusArray
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_action_status_default
from unique_identifier_msgs.msg import UUID

from dro_ros.action import Mission as MissionAction
from dro_ros.mission.goal import goal_fields
from dro_ros.mission.machine import MissionStatus

MISSION_ACTION = "/fleet/mission"
MISSION_STATUS_TOPIC = "/fleet/mission/_action/status"
RESPONSE_TIMEOUT = 10.0
"""Seconds to wait for a goal's response, or for the goal to appear in the action's status."""
LISTED_GRACE = 1.0
"""Seconds a goal listed in the status may still wait for its own response before it is followed without."""


@dataclass
class GoalOutcome:
    status: MissionStatus
    reason: str
    mission_id: str
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status.name, "reason": self.reason, "mission_id": self.mission_id,
                "summary": self.summary}


def goal_message(fields: dict[str, Any]) -> MissionAction.Goal:
    """The action goal from a mapping of its fields (`positions` may be a list of rows), checked by
    `mission.goal_fields` (a `GoalError` names the bad field)."""
    return MissionAction.Goal(**goal_fields(fields))


def send_goal(goal: MissionAction.Goal, *, on_feedback: Callable[[MissionAction.Feedback], None] = lambda f: None,
              cancel_when: Callable[[MissionAction.Feedback], bool] | None = None, server_timeout: float = 60.0,
              timeout: float | None = None, node: Node | None = None,
              give_up: Callable[[], str] = lambda: "") -> GoalOutcome:
    """Send `goal` and wait for its result. The goal is cancelled when `cancel_when(feedback)` first holds,
    or after `timeout` seconds (then the reason says so). While waiting for the result, when `give_up()`
    returns a reason, stop waiting and return FAILED with it (the goal is left as it is, e.g. its server is
    gone)."""
    own = node is None
    node = node or rclpy.create_node("dro_ros_mission_client")
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    client = ActionClient(node, MissionAction, MISSION_ACTION)
    listed = _StatusWatch(node)
    cancel: dict[str, str] = {}

    def feedback(message) -> None:
        on_feedback(message.feedback)
        if cancel_when is not None and cancel_when(message.feedback):
            cancel.setdefault("why", "")

    try:
        if not client.wait_for_server(timeout_sec=server_timeout):
            return GoalOutcome(MissionStatus.FAILED, f"no mission server on {MISSION_ACTION} within {server_timeout:g} s",
                               "", {})
        goal_id = UUID(uuid=list(uuid.uuid4().bytes))
        sent = client.send_goal_async(goal, feedback_callback=feedback, goal_uuid=goal_id)
        handle = _goal_handle(executor, client, sent, listed, goal_id)
        if handle is None:
            return GoalOutcome(MissionStatus.FAILED, f"no answer to the goal within {RESPONSE_TIMEOUT:g} s, and "
                               f"{MISSION_ACTION}'s status does not list it", "", {})
        if not handle.accepted:
            return GoalOutcome(MissionStatus.REJECTED, "the server did not accept the goal", "", {})
        lost = "" if sent.done() else "the goal's response was lost; followed through the action's status"
        result = handle.get_result_async()
        deadline = None if timeout is None else time.monotonic() + timeout
        cancelled = False
        while not result.done():
            executor.spin_once(timeout_sec=0.05)
            abandoned = give_up()
            if abandoned:
                return GoalOutcome(MissionStatus.FAILED, abandoned, "", {})
            if deadline is not None and time.monotonic() > deadline:
                if "timeout" in cancel:
                    return GoalOutcome(MissionStatus.FAILED, f"no result within {timeout:g} s, nor 60 s after the "
                                       "cancel", "", {})
                cancel.update(timeout="yes", why=f"no result within {timeout:g} s; cancel requested")
                deadline = time.monotonic() + 60.0  # for the cancelled mission to bring the robots to rest
            if "why" in cancel and not cancelled:
                handle.cancel_goal_async()
                cancelled = True
        answer = result.result().result
        reason = "; ".join(r for r in (lost, cancel.get("why"), answer.reason) if r)
        if answer.status not in {s.value for s in MissionStatus}:
            return GoalOutcome(MissionStatus.FAILED, reason or "the server returned no result (it failed)",
                               answer.mission_id, {})
        return GoalOutcome(MissionStatus(answer.status), reason, answer.mission_id, json.loads(answer.summary or "{}"))
    finally:
        # shutdown first: it drops the executor's suspended wait generator, which holds the client's handle;
        # left to the garbage collector, closing it later deadlocked a chaos run's harness in Fleet.start
        executor.shutdown(timeout_sec=1.0)
        client.destroy()
        listed.destroy()
        if own:
            node.destroy_node()


class _StatusWatch:
    """The goal ids the action's status topic has listed (any status: the server accepted them)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.ids: set[bytes] = set()
        self.subscription = node.create_subscription(GoalStatusArray, MISSION_STATUS_TOPIC, self._on_status,
                                                     qos_profile_action_status_default)

    def _on_status(self, message: GoalStatusArray) -> None:
        self.ids.update(bytes(status.goal_info.goal_id.uuid) for status in message.status_list
                        if status.status != GoalStatus.STATUS_UNKNOWN)

    def destroy(self) -> None:
        self.node.destroy_subscription(self.subscription)


def _goal_handle(executor: SingleThreadedExecutor, client: ActionClient, sent, listed: _StatusWatch,
                 goal_id: UUID) -> ClientGoalHandle | None:
    """The goal's handle: from its response; else, once the status lists the goal and `LISTED_GRACE` more
    seconds brought no response, an accepted handle made here; None when neither came within
    `RESPONSE_TIMEOUT`."""
    key = bytes(goal_id.uuid)
    deadline = time.monotonic() + RESPONSE_TIMEOUT
    listed_at = None
    while not sent.done():
        now = time.monotonic()
        if listed_at is None and key in listed.ids:
            listed_at = now
        if listed_at is not None and now - listed_at >= LISTED_GRACE:
            break
        if now > deadline:
            return None
        executor.spin_once(timeout_sec=0.05)
    if sent.done():
        return sent.result()
    return ClientGoalHandle(client, goal_id, MissionAction.Impl.SendGoalService.Response(accepted=True))
