"""`tracker`: makes one robot follow its plan (`dro_ros.fleet.TrackingLaw`); run it in namespace /<robot>.

Topics (relative names resolve to /<robot>/...):
- `plan` (dro_ros/msg/TrajectoryPlan, in, RELIABLE + TRANSIENT_LOCAL depth 1): the latest valid plan is
  followed; a malformed one is logged, naming the field, and ignored;
- `/fleet/start` (dro_ros/msg/FleetStart, in, latched): starts the plan whose run_id it names (an empty
  run_id on either side matches). A robot keeps following its current plan (extrapolated at its terminal
  velocity after T) until the next start instant, so a new mission's plan never leaves it uncommanded;
- `odom` (nav_msgs/Odometry, in) and `cmd_vel` (geometry_msgs/Twist, out): holonomic robots get a
  world-frame `linear`; diff-drive robots (`robot_kind: diff_drive`) `linear.x` and `angular.z` only;
- `/fleet/states` (nav_msgs/Odometry, in and out, best effort, with `separation` > 0): a
  robot off its plan announces itself. While its tracking error exceeds `share_error`, or its filter acts,
  and for `odom_timeout` after, the tracker shares its robot's state at `state_rate` Hz (child frame the
  robot's name, the odometry's stamp and position (a diff-drive robot's tracked point), the velocity
  differenced from those positions, so a push shows in it); it hears the others' (a robot on its plan is
  kept clear of by the plans);
- `/diagnostics` (diagnostic_msgs/DiagnosticArray, out, once a second): status `dro_ros/<robot>/tracker`,
  level OK, or STALE while odometry is stale; values state, tracking_error (m), t (s since the start),
  filtered (ticks the separation filter changed the command), shared (states published).
It ticks on each odometry message (at most `rate` times a second), so a command follows the odometry at
once, and on a timer at `rate` while odometry does not come (one wake-up per sample, not two). Each tick
from the start on, with fresh odometry (received within `odom_timeout`), it publishes
v_cmd = v_ref(t) + lag a_ref(t) + gain (s_ref(t_odom) - s(t_odom)): the feedforward at the current time t,
the error at the odometry's stamp t_odom, against the plan that was being followed at t_odom (odometry
stamped before a switch is compared with the previous plan, not with the new one extrapolated backwards);
a diff-drive robot gets `UnicycleLaw`'s twist for its tracked point (`offset` ahead of the odometry's
pose), the reference taken at the odometry's stamp from the plan followed then. Before the start it
publishes nothing. While odometry is stale a holonomic robot is commanded the plan's feedforward alone,
v_ref + lag a_ref at the current time (dead reckoning along its plan, which ends at rest: holding the last
command instead would carry it off the plan the others avoid); a diff-drive robot gets nothing (it holds
its last command).

With `separation` > 0, each command with fresh odometry then passes the
`dro_ros.fleet.SeparationFilter`: the command closest to it that keeps the robot `separation` metres from
every robot heard on `/fleet/states` within the last `odom_timeout`, each extrapolated to now at its shared
velocity, and `clearance` metres from the `obstacles` (a reactive layer under the plans, for what they
cannot foresee: a pushed neighbour), against the robot's own motion beyond its commands too (its velocity
differenced from the odometry less what its commands explain through `lag`: a push, `DisturbanceEstimate`).
A diff-drive robot's filter acts on its tracked point, the point its plans move: the point velocity
`UnicycleLaw` asks for is filtered, then turned into the twist (the wheel limits scale it by one factor,
which keeps every filter row that held). Its shared state is the tracked point's, and its filter counters
no push (the simulator cannot push a diff-drive robot).

Parameters: `robot_id` (default: the last namespace segment), `rate` (50.0 Hz), `gain` (2.5 1/s),
`lag` (0.1 s), `odom_timeout` (0.5 s), `separation` (0.0 m = no filter; `dro-ros fleet up` sets
r_min - separation_tolerance / 2), `separation_rate` (2.0 1/s, the filter's `rate`), `state_rate` (10.0 Hz),
`share_error` (0.005 m), `obstacles` (the scenario's `obstacles` as a JSON list; default none) and
`clearance` (0.0 m; `dro-ros fleet up` sets the problem's less separation_tolerance / 2); diff-drive: `robot_kind`, the geometry of `dro_ros.fleet.DiffDrive`,
and `odom_origin` ([x, y, yaw] in the world of the odometry's zero, e.g. Gazebo DiffDrive's spawn pose;
default [0, 0, 0]). A bad parameter is logged and the process exits with code 2.
"""
from __future__ import annotations

import json
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.time import Time

from dro_ros.fleet import DisturbanceEstimate, PlanError, SeparationFilter, TrackingLaw, UnicycleLaw
from dro_ros.fleet.diff_drive import in_world, tracked_point
from dro_ros.msg import FleetStart, TrajectoryPlan
from dro_ros.ros.conversions import ParameterError, plan_from_msg, read_parameter, read_robot, yaw_of
from dro_ros.ros.nodes.spin import run_node
from dro_ros.ros.qos import LATCHED, SHARED_STATES
from dro_ros.trajectory.obstacles import ObstacleError, obstacles_from_config


VELOCITY_WINDOW_NS = 50_000_000   # odometry positions this far apart give the shared velocity
MAX_HEARD = 256                    # robots whose shared states a tracker keeps
MAX_SHARED_SPEED = 20.0            # m/s: a shared state faster than this is not a robot's


class TrackerNode(Node):
    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (`context`, `namespace`, ...)."""
        super().__init__("tracker", **node_options)
        namespace = self.get_namespace().rsplit("/", 1)[-1]
        self.robot = read_parameter(self, "robot_id", "string", "the robot's name", namespace)
        rate = read_parameter(self, "rate", "double", "command rate, Hz", 50.0)
        gain = read_parameter(self, "gain", "double", "position gain, 1/s", 2.5)
        lag = read_parameter(self, "lag", "double", "the robot's velocity-loop lag, s", 0.1)
        timeout = read_parameter(self, "odom_timeout", "double", "odometry older than this is stale, s", 0.5)
        if not self.robot:
            raise ParameterError("robot_id: empty; set it or run the node in namespace /<robot>")
        for name, value in (("rate", rate), ("odom_timeout", timeout)):
            if not value > 0:
                raise ParameterError(f"{name}: must be positive, got {value}")
        robot = read_robot(self)
        origin = read_parameter(self, "odom_origin", "double_array", "world pose of the odometry's zero",
                                [0.0, 0.0, 0.0])
        if len(origin) != 3:
            raise ParameterError(f"odom_origin: expected [x, y, yaw], got {origin}")
        self.origin = np.array(origin)
        try:
            self.law = TrackingLaw(gain=gain, lag=lag) if robot is None else UnicycleLaw(robot, gain=gain)
        except ValueError as error:
            raise ParameterError(str(error)) from error
        self.timeout_ns = Duration(seconds=timeout).nanoseconds
        separation = read_parameter(self, "separation", "double", "distance kept from the others, m (0: off)", 0.0)
        separation_rate = read_parameter(self, "separation_rate", "double", "separation filter's rate, 1/s", 2.0)
        obstacles = read_parameter(self, "obstacles", "string", "static obstacles, a JSON list", "")
        clearance = read_parameter(self, "clearance", "double", "distance kept from the obstacles, m", 0.0)
        state_rate = read_parameter(self, "state_rate", "double", "rate the robot's state is shared, Hz", 10.0)
        share_error = read_parameter(self, "share_error", "double", "tracking error that shares the state, m", 0.005)
        for name, value in (("separation", separation), ("share_error", share_error)):
            if not value >= 0:
                raise ParameterError(f"{name}: must be >= 0, got {value}")
        if not state_rate > 0:
            raise ParameterError(f"state_rate: must be positive, got {state_rate}")
        self.share_error = share_error
        self.filter = None
        if separation > 0:
            try:
                obstacles = obstacles_from_config(json.loads(obstacles)) if obstacles else ()
            except (ValueError, ObstacleError) as error:
                raise ParameterError(f"obstacles: {error}") from error
            try:
                self.filter = SeparationFilter(separation, rate=separation_rate, obstacles=obstacles,
                                               clearance=clearance)
            except ValueError as error:
                raise ParameterError(f"separation filter: {error}") from error
        self.period = 1.0 / rate
        self.ticked = 0   # ns: the latest tick
        self.disturbance = DisturbanceEstimate(lag=lag)   # the robot's motion beyond its commands (a push)
        self.recent: deque[tuple[int, np.ndarray]] = deque(maxlen=64)  # (stamp, position) of the odometry
        self.others: dict[str, tuple[int, int, np.ndarray, np.ndarray]] = {}  # (received, stamp, s, v)
        self.filtered, self.filtering, self.shared = 0, False, 0
        self.share_until, self.sharing = 0, False   # ns: the state is shared until then
        self.last_shared, self.share_period = 0, 0   # ns: the latest look at sharing, and the least between
        self.plans: dict[str, object] = {}               # received plans by run_id, the latest last
        self.plan = None                                 # the plan being followed
        self.plan_start = 0                              # its start instant (ns)
        self.previous: tuple[object, int] | None = None  # the plan followed before it, and its start (ns)
        self.start: tuple[int, str] | None = None       # the latest FleetStart: (start, run_id)
        self.odom: tuple[int, int, np.ndarray] | None = None  # (received, stamp, (x, y, z, yaw))
        self.state, self.error, self.t = "waiting_for_plan", float("nan"), float("nan")
        self.create_subscription(TrajectoryPlan, "plan", self._on_plan, LATCHED)
        self.create_subscription(FleetStart, "/fleet/start", self._on_start, LATCHED)
        self.create_subscription(Odometry, "odom", self._on_odom, 10)
        self.cmd_vel = self.create_publisher(Twist, "cmd_vel", 10)
        self.diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.ticker = self.create_timer(self.period, self._tick)   # reset by each odometry message
        self.create_timer(1.0, self._report)
        if self.filter is not None:
            self.states = self.create_publisher(Odometry, "/fleet/states", SHARED_STATES)
            self.create_subscription(Odometry, "/fleet/states", self._on_state, SHARED_STATES)
            self.share_period = Duration(seconds=1.0 / state_rate).nanoseconds   # shared from the ticks

    def _on_plan(self, msg: TrajectoryPlan) -> None:
        try:
            plan = plan_from_msg(msg)
            if plan.robot not in ("", self.robot):
                raise PlanError(f"robot: the plan is for '{plan.robot}', this is '{self.robot}'")
        except PlanError as error:
            self.get_logger().error(f"ignoring a malformed plan: {error}")
            return
        self.plans.pop(plan.run_id, None)
        self.plans[plan.run_id] = plan
        while len(self.plans) > 4:
            self.plans.pop(next(iter(self.plans)))
        self.get_logger().info(f"plan of run '{plan.run_id}': H = {plan.horizon}, T = {plan.duration:g} s")

    def _on_start(self, msg: FleetStart) -> None:
        """A start naming robots is for those only (a receding-horizon replan switches the parts that planned
        in time; the others keep their plans)."""
        if msg.robots and self.robot not in msg.robots:
            return
        self.start = (Time.from_msg(msg.start).nanoseconds, msg.run_id)

    def _on_odom(self, msg: Odometry) -> None:
        """Stores the odometry and, at most `rate` times a second, ticks on it at once (the timer then
        waits a whole period again: it ticks only while odometry does not come)."""
        p = msg.pose.pose.position
        now = self.get_clock().now().nanoseconds
        self.odom = (now, Time.from_msg(msg.header.stamp).nanoseconds,
                     np.array([p.x, p.y, p.z, yaw_of(msg.pose.pose.orientation)]))
        self.recent.append((self.odom[1], self._planned_point(self.odom[2])))
        self.ticker.reset()   # while odometry comes, it drives the ticks
        if now - self.ticked >= 0.8 * self.period * 1e9:
            self._tick()

    def _planned_point(self, odom: np.ndarray) -> np.ndarray:
        """The point the plans move (x, y, z) in the world: the odometry's position, or a diff-drive
        robot's tracked point."""
        if isinstance(self.law, UnicycleLaw):
            return np.r_[tracked_point(in_world(self.origin, odom[[0, 1, 3]]), self.law.robot.offset), 0.0]
        return odom[:3]

    def _velocity(self) -> np.ndarray:
        """The robot's velocity (x, y, z) differenced from its odometry's positions over the latest
        VELOCITY_WINDOW (zero until two samples that far apart are in)."""
        stamp, position = self.recent[-1]
        for old_stamp, old in reversed(self.recent):
            if stamp - old_stamp >= VELOCITY_WINDOW_NS:
                return (position - old) / ((stamp - old_stamp) * 1e-9)
        return np.zeros(3)

    def _share(self, now: int) -> None:
        """Publishes the robot's latest odometry position and differenced velocity on /fleet/states, while
        it is off its plan (`share_until`), at most every `share_period` (called from the ticks: a timer of
        its own woke every tracker at `state_rate` also while nothing was shared)."""
        if now - self.last_shared < self.share_period:
            return
        self.last_shared = now
        sharing = bool(self.recent) and now <= self.share_until
        if sharing != self.sharing:
            self.get_logger().info(f"off its plan (tracking error {self.error:.3f} m): sharing its state"
                                   if sharing else "back on its plan: no longer sharing its state")
            self.sharing = sharing
        if not sharing:
            return
        stamp, position = self.recent[-1]
        msg = Odometry()
        msg.header.stamp = Time(nanoseconds=stamp).to_msg()
        msg.child_frame_id = self.robot
        msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = (float(v) for v in position)
        velocity = msg.twist.twist.linear
        velocity.x, velocity.y, velocity.z = (float(v) for v in self._velocity())
        self.states.publish(msg)
        self.shared += 1

    def _on_state(self, msg: Odometry) -> None:
        """Another robot's shared state; non-finite ones and ones faster than MAX_SHARED_SPEED are dropped
        (logged), and new names once MAX_HEARD robots were heard within `odom_timeout`."""
        p, v = msg.pose.pose.position, msg.twist.twist.linear
        position, velocity = np.array([p.x, p.y, p.z]), np.array([v.x, v.y, v.z])
        if msg.child_frame_id == self.robot:
            return
        if not (np.all(np.isfinite(np.r_[position, velocity])) and np.linalg.norm(velocity) <= MAX_SHARED_SPEED):
            self.get_logger().warning(f"ignoring {msg.child_frame_id!r}'s state on /fleet/states: twist.linear "
                                      f"{velocity.tolist()} or pose.position {position.tolist()} is not finite or "
                                      f"faster than {MAX_SHARED_SPEED:g} m/s", throttle_duration_sec=5.0)
            return
        now = self.get_clock().now().nanoseconds
        if msg.child_frame_id not in self.others and len(self.others) >= MAX_HEARD:
            self.others = {name: state for name, state in self.others.items() if now - state[0] <= self.timeout_ns}
            if len(self.others) >= MAX_HEARD:
                return   # a flood of names: the robots already heard keep their places
        self.others[msg.child_frame_id] = (now, Time.from_msg(msg.header.stamp).nanoseconds, position, velocity)

    def _separated(self, command: np.ndarray, now: int) -> np.ndarray:
        """`command` through the separation filter, with the robot and the others heard within
        `odom_timeout` extrapolated to `now` at their velocities."""
        if self.filter is None:
            return command
        fresh = [state for state in self.others.values() if now - state[0] <= self.timeout_ns]
        dim = len(command)
        stamp, position = self.recent[-1]
        velocity = self._velocity()[:dim]
        own = position[:dim] + velocity * (now - stamp) * 1e-9
        neighbours = np.array([s[:dim] + v[:dim] * (now - t) * 1e-9 for _, t, s, v in fresh]).reshape(-1, dim)
        velocities = np.array([v[:dim] for _, _, _, v in fresh]).reshape(-1, dim)
        # a diff-drive robot cannot be pushed in simulation, and its commands reach the point through turns
        pushed = np.zeros(dim) if isinstance(self.law, UnicycleLaw) else self.disturbance.estimate(velocity)
        safe = self.filter.command(command, own, neighbours, velocities, on_plan=self.error <= self.share_error,
                                   disturbance=pushed)
        changed = not np.array_equal(safe, command)
        self.filtered += changed
        if changed or self.error > self.share_error:
            self.share_until = now + self.timeout_ns
        if changed != self.filtering:
            self.get_logger().info("separation filter acting" if changed else "separation filter idle")
            self.filtering = changed
        return safe

    def _started_plan(self, now: int):
        """The plan named by the latest FleetStart once its instant has come, else None."""
        if self.start is None or not self.plans or now < self.start[0]:
            return None
        start, run_id = self.start
        latest = next(reversed(self.plans.values()))
        return self.plans.get(run_id) or (latest if "" in (run_id, latest.run_id) else None)

    def _tick(self) -> None:
        now = self.ticked = self.get_clock().now().nanoseconds
        started = self._started_plan(now)
        if started is not None and (started is not self.plan or self.start[0] != self.plan_start):
            self.previous = (self.plan, self.plan_start) if self.plan is not None else None
            self.plan, self.plan_start = started, self.start[0]
        plan, start = self.plan, self.plan_start
        if plan is None:
            return self._enter("waiting_for_start" if self.plans else "waiting_for_plan")
        self.t = (now - start) * 1e-9
        if self.odom is None or now - self.odom[0] > self.timeout_ns:
            if not isinstance(self.law, UnicycleLaw):
                reference = plan.reference(self.t)
                self._publish_velocity(self.law.command(reference, reference[0]))
            return self._enter("stale")
        _, stamp, odom = self.odom
        reference = self._reference_at(stamp)
        if isinstance(self.law, UnicycleLaw):
            pose = in_world(self.origin, odom[[0, 1, 3]])
            self.error = float(np.linalg.norm(reference[0] - tracked_point(pose, self.law.robot.offset)))
            point_velocity = self._separated(self.law.point_velocity(reference, pose), now)
            twist = Twist()
            twist.linear.x, twist.angular.z = (float(v) for v in self.law.twist(point_velocity, float(pose[2])))
            self.cmd_vel.publish(twist)
        else:
            self.error = float(np.linalg.norm(reference[0] - odom[:plan.dim]))
            _, v_ref, a_ref = plan.reference(self.t)
            command = self.law.command((reference[0], v_ref, a_ref), odom[:plan.dim])
            self._publish_velocity(self._separated(command, now))
        if self.filter is not None:
            self._share(now)
        self._enter("done" if self.t >= plan.duration else "tracking")

    def _reference_at(self, stamp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(s, v, a) at the instant `stamp` (ns) of the plan being followed then: the previous plan for
        odometry taken before the current one started."""
        plan, start = self.plan, self.plan_start
        if stamp < start and self.previous is not None:
            plan, start = self.previous
        return plan.reference((stamp - start) * 1e-9)

    def _publish_velocity(self, v_cmd: np.ndarray) -> None:
        """A holonomic robot's world-frame velocity command, held until the next tick."""
        self.disturbance.commanded(v_cmd, self.period)
        twist = Twist()
        twist.linear.x, twist.linear.y, twist.linear.z = (float(v) for v in list(v_cmd) + [0.0] * (3 - len(v_cmd)))
        self.cmd_vel.publish(twist)

    def _enter(self, state: str) -> None:
        if state != self.state and state == "stale":
            self.get_logger().warning(f"{self.state} -> stale: no fresh odometry")
        elif state != self.state:
            self.get_logger().info(f"{self.state} -> {state}")
        self.state = state

    def _report(self) -> None:
        now = self.get_clock().now().nanoseconds
        status = DiagnosticStatus(name=f"dro_ros/{self.robot}/tracker", hardware_id=self.robot,
                                  level=DiagnosticStatus.OK, message=self.state.replace("_", " "))
        if self.state == "stale":
            status.level = DiagnosticStatus.STALE
            status.message = ("no odometry received" if self.odom is None
                              else f"odometry stale for {(now - self.odom[0]) * 1e-9:.2f} s")
        status.values = [KeyValue(key="state", value=self.state),
                         KeyValue(key="tracking_error", value=f"{self.error:.6g}"),
                         KeyValue(key="t", value=f"{self.t:.3f}"),
                         KeyValue(key="filtered", value=str(self.filtered)),
                         KeyValue(key="shared", value=str(self.shared))]
        report = DiagnosticArray(status=[status])
        report.header.stamp = Time(nanoseconds=now).to_msg()
        self.diagnostics.publish(report)


def main(argv: list[str] | None = None) -> None:
    run_node(TrackerNode, "tracker", argv)


if __name__ == "__main__":
    main()
