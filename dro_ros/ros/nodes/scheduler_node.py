"""`scheduler_node`: the MOSAIC scheduler as a ROS 2 service.

Services (relative names, so namespaces and remapping work):
- `schedule` (dro_ros/srv/Schedule): solve a problem; replies with a `ScheduleResult`.
- `cancel` (std_srvs/srv/Trigger): stop every running solve; each replies with its incumbent.

Topic: `latest_schedule` (dro_ros/msg/ScheduleResult), RELIABLE + TRANSIENT_LOCAL depth 1: latched, so
a robot that joins late still receives the last schedule.

Parameters: `solver` (cbc), `time_limit` (60.0 s; 0 = none), `gap` (0.01), `threads` (1): the defaults
a request falls back to (see srv/Schedule.srv); `semantics` ("fixed", or "mosaic" for MOSAIC's model
exactly, defects included; see `scheduling/semantics.py`) applies to every request.
"""
from __future__ import annotations

import threading

from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from std_srvs.srv import Trigger

from dro_ros.msg import ScheduleResult
from dro_ros.ros.nodes.spin import run_node
from dro_ros.ros.qos import LATCHED
from dro_ros.scheduling.service import ScheduleReply, ScheduleRequest, answer
from dro_ros.srv import Schedule


class SchedulerNode(Node):
    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (`context`, `namespace`, ...)."""
        super().__init__("scheduler", **node_options)
        self.declare_parameter("solver", "cbc")
        self.declare_parameter("time_limit", 60.0)
        self.declare_parameter("gap", 0.01)
        self.declare_parameter("threads", 1)
        self.declare_parameter("semantics", "fixed")
        group = ReentrantCallbackGroup()  # `cancel` must run while `schedule` is solving
        self.create_service(Schedule, "schedule", self._on_schedule, callback_group=group)
        self.create_service(Trigger, "cancel", self._on_cancel, callback_group=group)
        self._latest = self.create_publisher(ScheduleResult, "latest_schedule", LATCHED)
        self._running: set[threading.Event] = set()
        self._lock = threading.Lock()

    def _on_schedule(self, request: Schedule.Request, response: Schedule.Response) -> Schedule.Response:
        cancel = threading.Event()
        with self._lock:
            self._running.add(cancel)
        try:
            reply = answer(self._with_defaults(request), cancel)
        finally:
            with self._lock:
                self._running.discard(cancel)
        response.result = self._to_msg(reply)
        self.get_logger().info(f"schedule: {reply.status}, objective {reply.objective:.6g}, "
                               f"solve {reply.solve_time:.2f} s" + (f" ({reply.message})" if reply.message else ""))
        if reply.schedule_json:
            self._latest.publish(response.result)
        return response

    def _on_cancel(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self._lock:
            running = list(self._running)
        for event in running:
            event.set()
        response.success = bool(running)
        response.message = f"cancelled {len(running)} running solve(s)"
        return response

    def _with_defaults(self, request: Schedule.Request) -> ScheduleRequest:
        parameter = lambda name: self.get_parameter(name).value  # noqa: E731
        time_limit = request.time_limit if request.time_limit > 0 else float(parameter("time_limit"))
        return ScheduleRequest(
            problem_json=request.problem_json, model=request.model or "tv",
            semantics=str(parameter("semantics")),
            solver=request.solver or parameter("solver"), time_limit=time_limit if time_limit > 0 else None,
            gap=request.gap if request.gap >= 0 else float(parameter("gap")),
            threads=request.threads or int(parameter("threads")))

    def _to_msg(self, reply: ScheduleReply) -> ScheduleResult:
        message = ScheduleResult(status=reply.status, message=reply.message, objective=reply.objective,
                                 gap=reply.gap, build_time=reply.build_time, solve_time=reply.solve_time,
                                 schedule_json=reply.schedule_json)
        message.stamp = self.get_clock().now().to_msg()
        return message


def main(args: list[str] | None = None) -> None:
    run_node(SchedulerNode, "scheduler", args, threads=4)   # `cancel` runs while `schedule` solves


if __name__ == "__main__":
    main()
