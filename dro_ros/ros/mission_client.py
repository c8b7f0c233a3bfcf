"""A mission client: send one goal to a fleet's `/fleet/mission` action, stream its feedback, return its result.

    with rclpy.init():
        outcome = send_goal(goal_message({"centre": [30, 30], "radius": 1.0}), on_feedback=print)

`send_goal` waits `server_timeout` seconds for the action server (a fleet still starting up serves once
every agent is ready), then for the result; on `timeout` it cancels the goal and returns status FAILED
with the reason. `dro-ros fleet goal` and `dro-ros fleet up --goals` are its command-line faces.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import rclpy
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from dro_ros.action import Mission as MissionAction
from dro_ros.mission.goal import goal_fields
from dro_ros.mission.machine import MissionStatus



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
    client = ActionClient(node, MissionAction, "/fleet/mission")
    cancel: dict[str, str] = {}

    def feedback(message) -> None:
        on_feedback(message.feedback)
        if cancel_when is not None and cancel_when(message.feedback):
            cancel.setdefault("why", "")

    try:
        if not client.wait_for_server(timeout_sec=server_timeout):
            return GoalOutcome(MissionStatus.FAILED, f"no mission server on /fleet/mission within {server_timeout:g} s",
                               "", {})
        sent = client.send_goal_async(goal, feedback_callback=feedback)
        executor.spin_until_future_complete(sent, timeout_sec=10.0)
        handle = sent.result()
        if handle is None or not handle.accepted:
            return GoalOutcome(MissionStatus.REJECTED, "the server did not accept the goal", "", {})
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
        reason = "; ".join(r for r in (cancel.get("why"), answer.reason) if r)
        if answer.status not in {s.value for s in MissionStatus}:
            return GoalOutcome(MissionStatus.FAILED, reason or "the server returned no result (it failed)",
                               answer.mission_id, {})
        return GoalOutcome(MissionStatus(answer.status), reason, answer.mission_id, json.loads(answer.summary or "{}"))
    finally:
        # shutdown first: it drops the executor's suspended wait generator, which holds the client's handle;
        # left to the garbage collector, closing it later deadlocked a chaos run's harness in Fleet.start
        executor.shutdown(timeout_sec=1.0)
        client.destroy()
        if own:
            node.destroy_node()
