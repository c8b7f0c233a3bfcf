"""`supervisor_node`: the operator's side of a fleet: it serves missions and reports how they went.

It takes no part in the optimization (the agents talk only to their neighbours). The mission decisions
live in `dro_ros.mission.Mission`; this node adapts them to ROS 2 (`RosFleet` below is the mission's
`FleetPort`):

* **serve** (`serve: true`, `dro-ros fleet up --serve`): once every agent reports ready, it serves the
  action `/fleet/mission` (dro_ros/action/Mission) until shut down. Each goal is planned from the robots'
  current odometry; a goal that arrives while another mission is active is REJECTED (cancel the active
  one first). Each result is printed as a summary and one JSON line.
* **one-shot** (default, `make demo` before missions existed): one mission on the config's own problem
  (its stated initial states), then exit 0 on success, 1 on failure. Without a `scenario` (agent fleets:
  averaging, COHDA, ADMM) it runs one planning run and prints each robot's result.

A scenario with `receding_horizon` makes every mission (one-shot, or each served goal re-posed from the
odometry) a receding-horizon mission: `mission.receding_loop` over `ros.receding_fleet.RosRecedingFleet`,
one window every period planned by the agents of each connected part, switched on `/fleet/start`; at its
first switch the mission's scripted disturbances are announced on `/fleet/disturbances`
(`ros.disturbances`: the simulator pushes, the launcher's injector silences or kills agents); the
summary holds the loop's figures (`RecedingRun.summary`). A served receding mission is not cancellable and
publishes no feedback while it runs.

Robots talk to it through `/diagnostics` (agent status: ready, planning, done, failed), the
`/<robot>/agent/start_plan` and `abort_plan` services, the latched `/<robot>/plan`, `/<robot>/odom` and
`/fleet/min_distance` (and, for diff-drive robots, `/<robot>/<truth_topic>` and `/fleet/contacts`); it
publishes `/fleet/start` (latched) and, to stop a cancelled mission, braking plans on `/<robot>/plan`.
Every wait has a timeout (`ready_timeout`, `plan_timeout`, `rejoin_timeout`, `odom_timeout`, see
`MissionSettings`).
"""
from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.time import Time
from std_msgs.msg import Float64, String, UInt32
from std_srvs.srv import Trigger

from dro_ros.action import Mission as MissionAction
from dro_ros.fleet.diff_drive import tracked_point, tracked_velocity
from dro_ros.fleet.plan import Plan
from dro_ros.fleet.recording import SCENARIO_TOPIC
from dro_ros.fleet.summary import SEPARATION_TOLERANCE, Track
from dro_ros.mission import (GoalError, Mission, MissionGoal, MissionResult, MissionSettings, MissionStatus,
                             PlanningOutcome, RobotState)
from dro_ros.mission.machine import Execution
from dro_ros.msg import FleetStart, TrajectoryPlan
from dro_ros.ros.conversions import ParameterError, plan_from_msg, plan_to_msg, read_parameter, yaw_of
from dro_ros.ros.disturbances import DISTURBANCES_TOPIC, INJECTOR_NODE, Announcement
from dro_ros.ros.nodes.spin import run_node
from dro_ros.ros.qos import LATCHED
from dro_ros.spec import AgentState, AgentStatus
from dro_ros.srv import StartPlan

PARAMETERS: dict[str, tuple[str, str, Any]] = {  # name: (kind, description, default), as `read_parameter` takes
    "robots": ("string_array", "the fleet's robots, in order", []),
    "problem_id": ("string", "prefix of the run and mission ids", "fleet"),
    "scenario": ("string", "the trajectory scenario as JSON; empty for agent fleets", ""),
    "algorithm": ("string", "the fleet's trajectory algorithm, for goals that name none", "path_sweep"),
    "serve": ("bool", "serve missions on /fleet/mission instead of one run", False),
    "ready_timeout": ("double", "s for every agent to report ready", 120.0),
    "plan_timeout": ("double", "s for a planning run", 600.0),
    "stale_after": ("double", "s without an agent's status before it counts as gone", 5.0),
    "retries": ("integer", "planning runs to retry after a failure", 0),
    "rejoin_timeout": ("double", "s for every robot to be back before a retry", 60.0),
    "lead": ("double", "s between the release and the plans' t = 0", 1.0),
    "settle": ("double", "s recorded after T before the verification", 1.0),
    "odom_timeout": ("double", "s without a robot's odometry before it is stale", 1.0),
    "position_tolerance": ("double", "m of terminal position error allowed", 0.05),
    "velocity_tolerance": ("double", "m/s of terminal velocity error allowed", 0.05),
    "separation_tolerance": ("double", "m below r_min tolerated (execution, and a mission's start)",
                             SEPARATION_TOLERANCE),
    "stop_decel": ("double", "m/s^2 of a cancel's braking plans; 0 = the problem's u_bar", 0.0),
    "switch_lead": ("double", "s a receding-horizon switch is announced ahead: plans back later miss it", 0.1),
    "frame_id": ("string", "frame of published plans", "world"),
    "output": ("string", "trajectory figure (PNG) of a one-shot run; empty = none", ""),
    "summary": ("string", "summary JSON of each mission; empty = none", ""),
    "tracked_offset": ("double", "m ahead of a diff-drive odometry's pose: the planned point; 0 = holonomic", 0.0),
    "truth_topic": ("string", "verify on /<robot>/<truth_topic> (nav_msgs/Odometry) instead of odom", ""),
}


class RosFleet:
    """The mission's `FleetPort` over ROS 2 topics and services (see the module docstring)."""

    def __init__(self, node: Node, robots: list[str], dim: int, stale_after: float, offset: float = 0.0,
                 truth_topic: str = "") -> None:
        self.node, self.robots, self.dim, self.stale_after = node, robots, dim, stale_after
        self.offset = offset     # > 0: diff-drive robots; odometry is the base's pose, the plans its point's
        self.contacts: tuple[int, int] | None = None   # body contacts from the simulator: (so far, at release)
        self.lock = threading.Lock()
        self.news = threading.Condition(self.lock)   # notified when an agent status or a plan arrives
        self.heard = 0                               # statuses and plans received so far
        self.status: dict[str, tuple[float, AgentStatus]] = {}          # robot -> (received, status)
        self.plans: dict[tuple[str, str], TrajectoryPlan] = {}         # (robot, run_id) -> plan
        self.latest: dict[str, tuple[float, np.ndarray, np.ndarray]] = {}  # robot -> (received, s, v)
        self.samples: dict[str, list[tuple[float, np.ndarray, np.ndarray]]] = {r: [] for r in robots}
        self.released_at: Time | None = None     # the current plans' start instant
        self.own_runs: set[str] = set()          # the runs this supervisor started (never orphans)
        self.min_distance = float("inf")
        group = ReentrantCallbackGroup()
        node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 100, callback_group=group)
        self.start_clients = {r: node.create_client(StartPlan, f"/{r}/agent/start_plan", callback_group=group)
                              for r in robots}
        self.abort_clients = {r: node.create_client(Trigger, f"/{r}/agent/abort_plan", callback_group=group)
                              for r in robots}
        self.go = node.create_publisher(FleetStart, "/fleet/start", LATCHED)
        self.scenario_out = node.create_publisher(String, SCENARIO_TOPIC, LATCHED)  # each mission's problem
        self.disturbances_out = node.create_publisher(String, DISTURBANCES_TOPIC, LATCHED)
        self.plan_out = {r: node.create_publisher(TrajectoryPlan, f"/{r}/plan", LATCHED) for r in robots}
        for robot in robots:
            node.create_subscription(TrajectoryPlan, f"/{robot}/plan", self._on_plan, LATCHED, callback_group=group)
            node.create_subscription(Odometry, f"/{robot}/odom",
                                     lambda m, r=robot: self._on_odom(r, m, not truth_topic), 50, callback_group=group)
            if truth_topic:
                node.create_subscription(Odometry, f"/{robot}/{truth_topic}",
                                         lambda m, r=robot: self._on_truth(r, m), 50, callback_group=group)
        node.create_subscription(Float64, "/fleet/min_distance", self._on_min_distance, 50, callback_group=group)
        node.create_subscription(UInt32, "/fleet/contacts", self._on_contacts, 50, callback_group=group)

    # --- callbacks (executor threads) ---------------------------------------------------------------
    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            robot = status.hardware_id
            if robot in self.robots and status.name == f"dro_ros/{robot}/agent":
                try:
                    parsed = AgentStatus.from_values({kv.key: kv.value for kv in status.values})
                except ValueError as error:  # from the network: named and dropped, never trusted
                    self.node.get_logger().warning(f"{robot}: malformed agent status ignored: {error}")
                    continue
                with self.lock:
                    self.status[robot] = (time.monotonic(), parsed)
                    self._heard_news()

    def _on_plan(self, message: TrajectoryPlan) -> None:
        with self.lock:
            self.plans[(message.robot, message.run_id)] = message
            self._heard_news()

    def _heard_news(self) -> None:
        """With `lock` held: a status or plan arrived; wake `await_news`."""
        self.heard += 1
        self.news.notify_all()

    def await_news(self, seen: int, timeout: float) -> None:
        """Wait until a status or plan arrives after the first `seen` (a value of `heard`), at most `timeout`
        seconds. The planning loops wake on news instead of polling."""
        with self.lock:
            self.news.wait_for(lambda: self.heard != seen, timeout)

    def _point(self, message: Odometry) -> tuple[np.ndarray, np.ndarray]:
        """The planned point's position and velocity: the odometry's (holonomic), or those of the point
        `offset` ahead of a diff-drive base's pose (`fleet.diff_drive`, eq. 1)."""
        p, v = message.pose.pose.position, message.twist.twist.linear
        if not self.offset:
            return np.array([p.x, p.y, p.z])[:self.dim], np.array([v.x, v.y, v.z])[:self.dim]
        yaw = yaw_of(message.pose.pose.orientation)
        return (tracked_point(np.array([p.x, p.y, yaw]), self.offset),
                tracked_velocity(yaw, v.x, message.twist.twist.angular.z, self.offset))

    def _on_odom(self, robot: str, message: Odometry, record: bool = True) -> None:
        s, velocity = self._point(message)
        with self.lock:
            self.latest[robot] = (time.monotonic(), s, velocity)
        if record:
            self._on_truth(robot, message)

    def _on_truth(self, robot: str, message: Odometry) -> None:
        s, velocity = self._point(message)
        with self.lock:
            if self.released_at is not None:
                stamp = Time.from_msg(message.header.stamp, clock_type=self.released_at.clock_type)
                self.samples[robot].append(((stamp - self.released_at).nanoseconds * 1e-9, s, velocity))

    def _on_contacts(self, message: UInt32) -> None:
        with self.lock:
            self.contacts = (message.data, self.contacts[1] if self.contacts else 0)

    def _on_min_distance(self, message: Float64) -> None:
        if self.released_at is not None:
            self.min_distance = min(self.min_distance, message.data)

    # --- FleetPort ------------------------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def robot_states(self) -> dict[str, RobotState]:
        now = time.monotonic()
        with self.lock:
            return {r: RobotState(s, v, now - received) for r, (received, s, v) in self.latest.items()}

    def agent_states(self) -> dict[str, tuple[float, AgentStatus]]:
        with self.lock:
            return dict(self.status)

    def wait_ready(self, timeout: float) -> str:
        """Wait until every agent is ready (or done with its last run); returns "" or the reason naming robots.
        An agent planning a run this supervisor did not start is in a run nobody will use (e.g. one a
        supervisor started before it was restarted), and is asked once to abort it. A run it started is
        waited for: the start-up wait and a mission's runs can overlap (a goal sent as the server appears)."""
        deadline = time.monotonic() + timeout
        orphans: set[tuple[str, str]] = set()
        while True:
            now, states = time.monotonic(), self.agent_states()
            missing = {}
            for r in self.robots:
                if r not in states:
                    missing[r] = "no status"
                elif now - states[r][0] > self.stale_after:
                    missing[r] = f"no status for {now - states[r][0]:.1f} s"
                elif states[r][1].state is not AgentState.READY and not states[r][1].state.final:
                    missing[r] = states[r][1].state.value
                    run = (r, states[r][1].run_id)
                    if (states[r][1].state is AgentState.PLANNING and run not in orphans
                            and run[1] not in self.own_runs):
                        orphans.add(run)
                        self.node.get_logger().warning(f"{r}: still in run {run[1]}, which no mission waits for: "
                                                       "asked to abort it")
                        self.abort([r])
            if not missing:
                return ""
            if now > deadline:
                return "not ready within %g s: %s" % (timeout, ", ".join(f"{r} ({s})" for r, s in sorted(missing.items())))
            time.sleep(0.1)

    def wait_odometry(self, timeout: float) -> str:
        """Wait until every robot's odometry has been heard once; returns "" or the reason naming robots."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                silent = [r for r in self.robots if r not in self.latest]
            if not silent:
                return ""
            if time.monotonic() > deadline:
                return f"no odometry within {timeout:g} s from " + ", ".join(silent)
            time.sleep(0.05)

    def plan(self, run_id: str, scenario: dict[str, Any] | None, algorithm: str, timeout: float,
             cancelled: Callable[[], bool], robots: list[str] | None = None) -> PlanningOutcome:
        """One planning run on every agent (or on `robots`, the scenario's `robots`): start it, wait for every
        outcome, collect the plans. `scenario` None and `algorithm` "" run the agents' configured problem
        (built at start-up)."""
        robots = self.robots if robots is None else robots
        finished, reason = self.run_agents(run_id, json.dumps(scenario) if scenario else "", algorithm, timeout,
                                           cancelled, robots)
        traffic = dict(messages=sum(a.messages or 0 for a in finished.values()),
                       bytes=sum(a.bytes or 0 for a in finished.values()))
        if reason:
            return PlanningOutcome(reason=reason, **traffic)
        paths = [a.critical_path for a in finished.values() if a.critical_path is not None]
        critical_path = max(paths) if paths else None
        deadline = time.monotonic() + 10.0
        while True:
            with self.lock:
                plans = {r: self.plans[(r, run_id)] for r in robots if (r, run_id) in self.plans}
                seen = self.heard
            if len(plans) == len(robots):
                break
            if time.monotonic() > deadline:
                return PlanningOutcome(reason="no plan received from " + ", ".join(
                    r for r in robots if r not in plans), **traffic)
            self.await_news(seen, 0.05)
        return PlanningOutcome(plans={r: plan_from_msg(m) for r, m in plans.items()}, critical_path=critical_path,
                               **traffic)

    def run_agents(self, run_id: str, scenario: str, algorithm: str, timeout: float,
                   cancelled: Callable[[], bool] = lambda: False, robots: list[str] | None = None
                   ) -> tuple[dict[str, AgentStatus], str]:
        """Start `run_id` on every robot (or on `robots`) and wait for the outcome: (final statuses, "" or
        the reason).

        A robot that does not accept is left out; the others still run, so its neighbours' reports (no
        contact, or stalled waiting for it) say what it cost them."""
        robots = self.robots if robots is None else robots
        began = time.monotonic()
        deadline = began + timeout
        refused = self._start_everywhere(run_id, scenario, algorithm, robots, min(5.0, max(timeout, 0.1)),
                                         self.node.get_clock().now() + Duration(seconds=timeout))
        started = time.monotonic() - began
        while True:
            seen = self.heard
            now, states = time.monotonic(), self.agent_states()
            this_run = {r: v for r, (_, v) in states.items() if v.run_id == run_id and r in robots}
            finished = {r: v for r, v in this_run.items() if v.state.final}
            gone = [r for r in robots if r not in finished and r not in refused and (
                r not in states or now - states[r][0] > self.stale_after)]
            if len(finished) + len(gone) + len(refused) == len(robots):
                break
            if cancelled():
                self.abort(robots)
                return finished, "canceled"
            if now > deadline:
                self.abort(robots)
                return finished, f"not finished within {timeout:g} s: " + ", ".join(
                    r for r in robots if r not in finished)
            self.await_news(seen, min(0.05, max(0.0, deadline - now)))
        self.node.get_logger().info(f"run {run_id}: started on {len(robots) - len(refused)} of {len(robots)} agents "
                                    f"in {started:.2f} s, all finished after {now - began:.2f} s")
        heard = {r: now - states[r][0] for r in gone if r in states}
        reasons = [f"{r}: start_plan {why}" for r, why in refused.items()]
        reasons += [f"{r}: stopped responding" + (f" (last status {heard[r]:.1f} s ago)" if r in heard else "")
                    for r in gone]
        reasons += [f"{r}: {v.status or v.state.value}" + (f", waiting for {','.join(v.waiting_for)}"
                                                            if v.waiting_for else "")
                    + (f" ({v.error})" if v.error else "")
                    for r, v in sorted(finished.items()) if v.state is not AgentState.DONE]
        return finished, "; ".join(reasons)

    def _start_everywhere(self, run_id: str, scenario: str, algorithm: str, robots: list[str],
                          timeout: float, deadline: Time) -> dict[str, str]:
        """Send the run's start to `robots` (refused by an agent that gets it after `deadline`, the run's end)
        and wait at most `timeout` for the answers; returns the robots that did not accept, with why."""
        futures, refused = {}, {}
        with self.lock:
            self.own_runs.add(run_id)
        request = StartPlan.Request(run_id=run_id, scenario=scenario, algorithm=algorithm, deadline=deadline.to_msg())
        # the robots that serve now first: waiting for a silent robot's service first held up the rest
        ready = {robot: self.start_clients[robot].service_is_ready() for robot in robots}
        for robot in sorted(robots, key=lambda r: not ready[r]):
            client = self.start_clients[robot]
            if ready[robot] or client.wait_for_service(timeout_sec=0.5):
                futures[robot] = client.call_async(request)
            else:
                refused[robot] = "service not available"
        _wait_all(futures.values(), timeout)
        for robot, future in futures.items():
            if not future.done():
                refused[robot] = f"not answered within {timeout:g} s"
            elif not future.result().accepted:
                refused[robot] = f"refused: {future.result().message}"
        return refused

    def abort(self, robots: list[str]) -> None:
        """Ask `robots` to abort their runs. The answers are not awaited: a silent agent never answers, and
        an agent still in its run refuses the next start, which the next run reports."""
        for robot in robots:
            if self.abort_clients[robot].service_is_ready():
                self.abort_clients[robot].call_async(Trigger.Request())

    def release(self, run_id: str, lead: float, scenario: dict[str, Any]) -> None:
        recorded = {**scenario, "tracked_offset": self.offset} if self.offset else scenario  # for `fleet report`
        self.scenario_out.publish(String(data=json.dumps(recorded)))
        start = self.node.get_clock().now() + Duration(seconds=lead)
        with self.lock:
            self.samples = {r: [] for r in self.robots}
            self.released_at, self.min_distance = start, float("inf")
            if self.contacts:
                self.contacts = (self.contacts[0], self.contacts[0])
        self.go.publish(FleetStart(start=start.to_msg(), run_id=run_id, robots=self.robots))
        self.node.get_logger().info(f"run {run_id}: robots released in {lead:g} s")

    def start_at(self, run_id: str, at: float, robots: list[str], scenario: dict[str, Any] | None = None) -> int:
        """Start the plans of `run_id` on `robots` at `at` (this port's clock, `now`); the others keep theirs.
        With `scenario`, recording starts there too (the first plans of a receding-horizon mission). Returns
        the start instant in ROS time (ns)."""
        start = self.node.get_clock().now() + Duration(seconds=at - time.monotonic())
        if scenario is not None:
            self.scenario_out.publish(String(data=json.dumps(scenario)))
            with self.lock:
                self.samples = {r: [] for r in self.robots}
                self.released_at, self.min_distance = start, float("inf")
        self.go.publish(FleetStart(start=start.to_msg(), run_id=run_id, robots=robots))
        return start.nanoseconds

    def announce(self, announcement: Announcement) -> None:
        """Publish a mission's scripted disturbances (`ros.disturbances`), latched."""
        self.disturbances_out.publish(String(data=announcement.to_json()))

    def injector_listening(self, wait: float = 5.0) -> bool:
        """Whether the launcher's dropout injector (`ros.dropouts`) subscribes to the announcements (waiting
        up to `wait` seconds for its discovery)."""
        deadline = time.monotonic() + wait
        while True:
            if any(info.node_name == INJECTOR_NODE
                   for info in self.node.get_subscriptions_info_by_topic(DISTURBANCES_TOPIC)):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def halt(self, run_id: str, plans: dict[str, Plan], lead: float) -> None:
        stamp = self.node.get_clock().now().to_msg()
        frame = self.node.get_parameter("frame_id").value
        for robot, plan in plans.items():
            self.plan_out[robot].publish(plan_to_msg(plan, stamp, frame))
        start = self.node.get_clock().now() + Duration(seconds=lead)
        self.go.publish(FleetStart(start=start.to_msg(), run_id=run_id, robots=self.robots))
        self.node.get_logger().info(f"{run_id}: braking plans released")

    def log(self, text: str) -> None:
        self.node.get_logger().info(text)

    def execution(self) -> Execution:
        with self.lock:
            tracks = {r: Track(*(np.array(column) for column in zip(*rows))) for r, rows in self.samples.items()
                      if rows}
            closest = self.min_distance
            contacts = self.contacts[0] - self.contacts[1] if self.contacts else None
        return Execution(tracks, closest if np.isfinite(closest) else None, offset=self.offset, contacts=contacts)


class SupervisorNode(Node):
    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (`context`, `namespace`, ...)."""
        super().__init__("supervisor", **node_options)
        self.p = {name: read_parameter(self, name, *spec) for name, spec in PARAMETERS.items()}
        self.robots: list[str] = self.p["robots"]
        self.scenario: dict[str, Any] | None = json.loads(self.p["scenario"]) if self.p["scenario"] else None
        dim = 3
        if self.scenario is not None:
            from dro_ros.trajectory.scenarios import scenario_from_config

            dim = scenario_from_config(self.scenario).problem.dim
        self.dim = dim
        self.fleet = RosFleet(self, self.robots, dim, self.p["stale_after"], self.p["tracked_offset"],
                              self.p["truth_topic"])
        self.settings = MissionSettings(**{name: self.p[name] for name in (
            "algorithm", "odom_timeout", "plan_timeout", "retries", "rejoin_timeout", "lead", "settle",
            "position_tolerance", "velocity_tolerance", "separation_tolerance", "stop_decel")})
        self.missions = 0
        started = time.time()   # names this supervisor's missions: a restarted one must not reuse run ids
        self.session = time.strftime("%H%M%S", time.gmtime(started)) + f".{int(started * 1000) % 1000:03d}"
        self.active: str | None = None
        self.active_lock = threading.Lock()
        if self.scenario is not None and self.p["serve"]:
            self.server = ActionServer(self, MissionAction, "/fleet/mission", execute_callback=self._execute,
                                       goal_callback=lambda goal: GoalResponse.ACCEPT,
                                       cancel_callback=lambda handle: CancelResponse.ACCEPT,
                                       callback_group=ReentrantCallbackGroup())

    # --- the action ---------------------------------------------------------------------------------
    def _execute(self, handle) -> MissionAction.Result:
        goal = handle.request
        with self.active_lock:
            self.missions += 1
            mission_id = f"{self.p['problem_id']}/mission_{self.missions}@{self.session}"
            busy, self.active = self.active, self.active or mission_id
        if busy:
            result = MissionResult(MissionStatus.REJECTED, f"mission {busy} is active; cancel it first", mission_id,
                                   {"mission_id": mission_id})
        else:
            try:
                result = self.run_goal(mission_id, goal, handle)
            except Exception as error:  # reported to the client and the log, never swallowed
                self.get_logger().error(f"{mission_id} raised: {error!r}\n{traceback.format_exc()}")
                result = MissionResult(MissionStatus.FAILED, f"supervisor error: {error!r}", mission_id,
                                       {"mission_id": mission_id})
            finally:
                with self.active_lock:
                    self.active = None
        report(result, self.p["summary"])
        {MissionStatus.SUCCEEDED: handle.succeed, MissionStatus.CANCELED: handle.canceled}.get(
            result.status, handle.abort)()
        return MissionAction.Result(status=result.status.value, reason=result.reason, mission_id=result.mission_id,
                                    summary=json.dumps(result.summary, default=str))

    def run_goal(self, mission_id: str, goal, handle) -> MissionResult:
        try:
            parsed = MissionGoal.from_fields(n_robots=len(self.robots), dim=self.dim, centre=goal.centre,
                                             radius=goal.radius, velocity=goal.velocity, positions=goal.positions,
                                             duration=goal.duration, algorithm=goal.algorithm)
        except GoalError as error:
            return MissionResult(MissionStatus.REJECTED, str(error), mission_id, {"mission_id": mission_id})
        missing = self.fleet.wait_ready(self.p["ready_timeout"]) or self.fleet.wait_odometry(self.p["ready_timeout"])
        if missing:
            return MissionResult(MissionStatus.REJECTED, f"fleet {missing}", mission_id, {"mission_id": mission_id})
        self.get_logger().info(f"{mission_id}: {parsed.describe()}")
        if self.scenario.get("receding_horizon") is not None:
            return self._receding_goal(mission_id, parsed)

        def feedback(state) -> None:
            handle.publish_feedback(MissionAction.Feedback(
                phase=state.phase.value, elapsed=state.elapsed, planning_time=state.planning_time,
                messages=state.messages, progress=state.progress, distance_to_goal=_finite(state.distance_to_goal),
                min_separation=_finite(state.min_separation)))

        mission = Mission(mission_id, parsed, self.scenario, self.fleet, self.settings, feedback=feedback,
                          cancel_requested=lambda: handle.is_cancel_requested)
        return mission.run()

    def _receding_goal(self, mission_id: str, goal: MissionGoal) -> MissionResult:
        """A goal to a receding-horizon fleet: the config's scenario re-posed from the robots' odometry
        (`mission.scenario`) with the config's obstacles, receding-horizon settings and scripted disturbances
        (timed from this mission's first switch), then `run_receding`."""
        from dro_ros.mission.scenario import mission_scenario

        states = self.fleet.robot_states()
        stale = [r for r in self.robots if r not in states or states[r].age > self.settings.odom_timeout]
        if stale:
            return MissionResult(MissionStatus.REJECTED, "no fresh odometry from " + ", ".join(stale), mission_id,
                                 {"mission_id": mission_id})
        rows = np.stack([np.concatenate([states[r].position, states[r].velocity]) for r in self.robots])
        try:
            config = mission_scenario(self.scenario, goal, rows, self.settings.separation_tolerance)
        except GoalError as error:
            return MissionResult(MissionStatus.REJECTED, str(error), mission_id, {"mission_id": mission_id})
        config.update({key: self.scenario[key] for key in ("obstacles", "clearance", "receding_horizon",
                                                          "disturbances") if key in self.scenario})
        return self.run_receding(mission_id, config, goal.algorithm or self.settings.algorithm)

    # --- one-shot -----------------------------------------------------------------------------------
    def run_once(self) -> MissionResult:
        mission_id = self.p["problem_id"]
        missing = self.fleet.wait_ready(self.p["ready_timeout"])
        if missing:
            return MissionResult(MissionStatus.FAILED, missing, mission_id, {"mission_id": mission_id})
        if self.scenario is not None:
            missing = self.fleet.wait_odometry(self.p["ready_timeout"])
            if missing:
                return MissionResult(MissionStatus.FAILED, missing, mission_id, {"mission_id": mission_id})
            if self.scenario.get("receding_horizon") is not None:
                return self.run_receding(mission_id, self.scenario, self.settings.algorithm)
            return Mission(mission_id, None, self.scenario, self.fleet, self.settings).run()
        return self.plan_only(mission_id)

    def run_receding(self, mission_id: str, config: dict[str, Any], algorithm: str) -> MissionResult:
        """`config` (a scenario with `receding_horizon`) as a receding-horizon mission (`mission.receding_loop`
        on `ros.receding_fleet`): SUCCEEDED when every robot reached its goal and the executed odometry kept
        r_min and the obstacles' clearance within `separation_tolerance`."""
        from dro_ros.mission.receding import Dropout, RecedingError, receding_from_config
        from dro_ros.mission.receding_loop import FirstWindowFailed, RecedingLoop
        from dro_ros.ros.receding_fleet import RosRecedingFleet
        from dro_ros.trajectory.scenarios import scenario_from_config

        summary: dict[str, Any] = {"mission_id": mission_id, "mode": "receding_horizon"}
        try:
            scenario = scenario_from_config(config)
            problem = scenario.problem
            horizon, disturbances = receding_from_config(config, problem.n_agents, problem.dim)
            port = RosRecedingFleet(self.fleet, config, algorithm, stall=horizon.stall, lead=self.p["switch_lead"],
                                    first_timeout=self.settings.plan_timeout, mission_id=mission_id,
                                    disturbances=disturbances, odom_timeout=self.settings.odom_timeout)
            loop = RecedingLoop(problem, horizon, port, algorithm=algorithm, communication=config["communication"],
                                eas=scenario.eas)
        except (RecedingError, ValueError) as error:
            return MissionResult(MissionStatus.FAILED, f"scenario: {error}", mission_id, summary)
        if any(isinstance(d, Dropout) for d in disturbances) and not self.fleet.injector_listening():
            self.get_logger().warning("scenario.disturbances: no dropout injector listens (it runs in `dro-ros "
                                      "fleet up`): the scripted dropouts will not happen")
        self.get_logger().info(f"{mission_id}: receding horizon, a {horizon.steps}-step window every "
                               f"{horizon.period:g} s for at most {horizon.duration:g} s")
        try:
            run = loop.run()
        except FirstWindowFailed as error:
            return MissionResult(MissionStatus.FAILED, str(error), mission_id, summary)
        summary.update(run.summary())
        tolerance = self.settings.separation_tolerance
        problems = [f"robot {i} did not reach its goal ({why}" + ("; dropped: its agent silent at the end)"
                                                                   if i in run.dropped_at_end else ")")
                    for i, why in run.unreached(horizon.goal_tolerance).items()]
        if run.min_separation < problem.r_min - tolerance:
            problems.append(f"separation {run.min_separation:.4f} m < r_min {problem.r_min:g} - {tolerance:g}")
        if run.min_clearance < problem.clearance - tolerance:
            problems.append(f"obstacle distance {run.min_clearance:.4f} m < clearance {problem.clearance:g} - "
                            f"{tolerance:g}")
        status = MissionStatus.FAILED if problems else MissionStatus.SUCCEEDED
        return MissionResult(status, "; ".join(problems), mission_id, summary)

    def plan_only(self, mission_id: str) -> MissionResult:
        """Agent fleets (and trajectory fleets with `scenario: ""`): one planning run, the robots' results."""
        summary: dict[str, Any] = {"mission_id": mission_id}
        started = time.monotonic()
        for attempt in range(self.settings.retries + 1):
            run_id = f"{mission_id}/{attempt}"
            finished, reason = self.fleet.run_agents(run_id, "", "", self.settings.plan_timeout)
            if not reason:
                break
            self.get_logger().error(f"planning run {run_id} failed: {reason}")
            if attempt == self.settings.retries:
                return MissionResult(MissionStatus.FAILED, f"planning run {run_id} failed: {reason}", mission_id, summary)
            summary.setdefault("recovered_from", []).append(f"planning run {run_id} failed: {reason}")
            self.get_logger().info(f"waiting up to {self.settings.rejoin_timeout} s for every robot to rejoin")
            missing = self.fleet.wait_ready(self.settings.rejoin_timeout)
            if missing:
                return MissionResult(MissionStatus.FAILED, missing, mission_id, summary)
        summary.update(run_id=run_id, attempts=attempt + 1, planning_time=time.monotonic() - started,
                       messages=sum(a.messages or 0 for a in finished.values()),
                       bytes=sum(a.bytes or 0 for a in finished.values()))
        paths = [a.critical_path for a in finished.values() if a.critical_path is not None]
        if paths:
            summary["critical_path"] = max(paths)
        summary["agents"] = {r: a.result for r, a in finished.items()}
        return MissionResult(MissionStatus.SUCCEEDED, "", mission_id, summary)


def report(result: MissionResult, summary_file: str = "") -> None:
    """Print the outcome (one aligned line per number, then one JSON line) and write it to `summary_file`."""
    outcome = {**result.summary, "status": result.status.name, "ok": result.ok}
    outcome["problems"] = list(outcome.get("problems") or ([result.reason] if result.reason else []))
    lines = [f"mission {result.mission_id}: {result.status.name}" + (f" ({result.reason})" if result.reason else "")]
    lines += [f"  {key:26} {value:.6g}" if isinstance(value, float) else f"  {key:26} {value}"
              for key, value in outcome.items() if key not in ("ok", "problems", "agents", "recovered_from", "status")]
    lines += [f"  recovered from: {p}" for p in outcome.get("recovered_from", [])]
    lines += [f"  problem: {p}" for p in outcome["problems"]]
    print("\n".join(lines), flush=True)
    print(json.dumps(outcome, default=str), flush=True)
    if summary_file:
        Path(summary_file).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_file).write_text(json.dumps(outcome, indent=2, default=str))


def _wait_all(futures, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(not f.done() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.01)


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else -1.0


def main(argv: list[str] | None = None) -> None:
    """Serve missions until SIGINT or SIGTERM, or fly the config's one-shot mission; exit code 0 when it
    succeeded, 1 when it failed or the fleet never became ready, 130 after a signal, 2 for a bad
    parameter."""
    run_node(SupervisorNode, "supervisor", argv, threads=4, work=_supervise, interrupted=130)


def _supervise(node: SupervisorNode, stop: threading.Event) -> int:
    if node.p["serve"] and node.scenario is not None:
        missing = node.fleet.wait_ready(node.p["ready_timeout"]) or node.fleet.wait_odometry(node.p["ready_timeout"])
        if missing:
            node.get_logger().error(missing)
            return 1
        node.get_logger().info(f"fleet ready: serving missions on /fleet/mission ({len(node.robots)} robots)")
        while not stop.wait(1.0):
            pass
        return 0
    result = node.run_once()
    report(result, node.p["summary"])
    if node.p["output"] and result.ok and node.scenario is not None and "run_id" in result.summary:
        _figure(node, result)
    return 0 if result.ok else 1


def _figure(node: SupervisorNode, result: MissionResult) -> None:
    from dro_ros.fleet.plots import execution_figure
    from dro_ros.fleet.summary import summarize
    from dro_ros.trajectory.scenarios import scenario_from_config

    problem = scenario_from_config(node.scenario).problem
    run_id = result.summary["run_id"]
    with node.fleet.lock:
        plans = {i: plan_from_msg(node.fleet.plans[(r, run_id)]) for i, r in enumerate(node.robots)}
    record = node.fleet.execution()
    tracks = {node.robots.index(r): track for r, track in record.tracks.items()}
    execution_figure(problem, plans, tracks, summarize(problem, plans, tracks, record.min_distance),
                     node.p["output"])


if __name__ == "__main__":
    main(sys.argv)
