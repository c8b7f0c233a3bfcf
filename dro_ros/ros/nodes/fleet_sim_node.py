"""`fleet_sim`: a fleet of simulated robots, standing in for Gazebo + ros_gz.

Holonomic robots (default, `robot_kind: holonomic`) are double integrators with a velocity loop
a = (v_cmd - v) / lag (`dro_ros.fleet.FleetSimulator`). Diff-drive robots (`robot_kind: diff_drive`, the
geometry parameters of `dro_ros.fleet.DiffDrive`) run on `backend` `kinematic` (`UnicycleSimulator`) or
`mujoco` (`MujocoFleet`: rigid bodies, wheel odometry that drifts, body contacts). Topics, with the robot
topics named as a ros_gz bridge names them:
- `/<robot>/cmd_vel` (geometry_msgs/Twist, in): holonomic: `linear` is the commanded velocity in the world
  frame (its first `dim` components); diff-drive: `linear.x` and `angular.z`, the body twist;
- `/fleet/start` (dro_ros/msg/FleetStart, in, RELIABLE + TRANSIENT_LOCAL depth 1): releases the robots;
- `/<robot>/odom` (nav_msgs/Odometry, out, every tick): stamp = the simulated instant, frame `frame_id`,
  child frame `<robot>/base_link`. Holonomic: pose and twist in the world frame (orientation identity).
  Diff-drive: the axle centre's pose (yaw in the orientation) and the body twist (linear.x, angular.z),
  from wheel odometry on `mujoco` (as a real base), the true state on `kinematic`;
- `/<robot>/ground_truth` (nav_msgs/Odometry, out, diff-drive only): the true pose and body twist;
- `/fleet/min_distance` (std_msgs/Float64, out, every tick): the smallest true distance of two robot centres;
- `/fleet/contacts` (std_msgs/UInt32, out, every tick, `mujoco`): body contacts since the start, each also
  logged with its pair; `/tf` only when tf2_msgs is installed.
Until FleetStart.start the robots hold their initial states, unless `running` is true (a fleet serving
missions: the robots are simulated from the first tick, at rest until commanded). From then on the
simulation follows ROS time: each tick steps by now - (last stepped instant), so timer jitter never
accumulates. Later FleetStarts are ignored.

Parameters: `robots` (string array, required), `dim` (2), `initial` (double array, required: per robot its
position then velocity, N * 2 dim values; of the tracked point for diff-drive robots), `rate` (100.0 Hz),
`lag` (0.1 s), `max_accel` (0.0 = no limit), `frame_id` (world), `running` (false), `stop_odom` (string
array: robots whose odometry stops, fault injection) and `stop_odom_after` (0.0 s after the start);
diff-drive: `robot_kind`, `body_radius`, `wheel_base`, `wheel_radius`, `max_wheel_speed`,
`max_wheel_accel`, `offset`, `heading` (double array, rad per robot; default 0), `backend` (kinematic) and
`seed` (0, the MuJoCo wheels' radius errors). A bad parameter is logged and the process exits with code 2.

Pushes: each mission's announcement on `/fleet/disturbances` (std_msgs/String, latched; `ros.disturbances`)
replaces the pushes in force; from then on each pushed robot drifts at its push's velocity from `origin +
time` for `duration` seconds (`FleetSimulator.push`), logged when each push starts and ends. Holonomic
robots only: pushes announced to diff-drive robots are refused with an error in the log. The odometry stops
(`{robot, time, kind: odometry_stop, duration}`) silence the robot's `odom` from `origin + time` for
`duration` seconds, logged when each starts and ends; the robot moves on meanwhile.
"""
from __future__ import annotations

import re

import numpy as np
from geometry_msgs.msg import TransformStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.time import Time
from std_msgs.msg import Float64, String, UInt32

from dro_ros.fleet import DiffDrive, FleetSimulator, UnicycleSimulator
from dro_ros.fleet.diff_drive import axle_centre
from dro_ros.mission.receding import OdometryStop, Push, RecedingError
from dro_ros.msg import FleetStart
from dro_ros.ros.conversions import ParameterError, read_parameter, read_robot, set_yaw
from dro_ros.ros.disturbances import DISTURBANCES_TOPIC, Announcement
from dro_ros.ros.nodes.spin import run_node
from dro_ros.ros.qos import LATCHED

try:
    from tf2_msgs.msg import TFMessage
except ImportError:  # no tf2_msgs wheel on PyPI
    TFMessage = None

ROBOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*")


class FleetSimNode(Node):
    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (`context`, `namespace`, ...)."""
        super().__init__("fleet_sim", **node_options)
        self.robots = read_parameter(self, "robots", "string_array", "names of the simulated robots")
        self.dim = read_parameter(self, "dim", "integer", "space dimension m: 1, 2 or 3", 2)
        initial = read_parameter(self, "initial", "double_array", "per robot: position then velocity")
        rate = read_parameter(self, "rate", "double", "simulation rate, Hz", 100.0)
        lag = read_parameter(self, "lag", "double", "velocity-loop lag, s", 0.1)
        max_accel = read_parameter(self, "max_accel", "double", "acceleration limit, m/s^2 (0: none)", 0.0)
        self.frame_id = read_parameter(self, "frame_id", "string", "world frame of odometry", "world")
        self.running = read_parameter(self, "running", "bool", "simulate from the first tick", False)
        self.stop_odom = read_parameter(self, "stop_odom", "string_array", "robots whose odometry stops", [])
        stop_after = read_parameter(self, "stop_odom_after", "double", "when odometry stops, s after start", 0.0)
        self.robot = read_robot(self)
        heading = read_parameter(self, "heading", "double_array", "diff-drive start headings, rad", [])
        backend = read_parameter(self, "backend", "string", "diff-drive simulator: kinematic | mujoco", "kinematic")
        seed = read_parameter(self, "seed", "integer", "seed of the MuJoCo wheels' radius errors", 0)
        bad = [name for name in self.robots if not ROBOT_NAME.fullmatch(name)]
        _require(bool(self.robots) and not bad and len(set(self.robots)) == len(self.robots), "robots",
                 f"expected distinct ROS names, got {self.robots}")
        _require(self.dim in (1, 2, 3), "dim", f"must be 1, 2 or 3, got {self.dim}")
        width = 2 * self.dim
        _require(len(initial) == len(self.robots) * width, "initial",
                 f"expected {len(self.robots)} robots x {width} values, got {len(initial)}")
        _require(rate > 0, "rate", f"must be positive, got {rate}")
        _require(set(self.stop_odom) <= set(self.robots), "stop_odom", f"unknown robots in {self.stop_odom}")
        _require(stop_after >= 0, "stop_odom_after", f"must be >= 0, got {stop_after}")
        _require(backend in ("kinematic", "mujoco"), "backend", f"expected kinematic or mujoco, got {backend!r}")
        _require(backend == "kinematic" or self.robot is not None, "backend",
                 "mujoco simulates diff-drive robots (robot_kind: diff_drive)")
        self.pushes: list[Push] = []     # the current mission's, timed from push_origin_ns
        self.push_origin_ns = 0
        self.pushing: set[int] = set()   # the pushes acting now
        self.odometry_stops: list[OdometryStop] = []   # the current mission's, timed from push_origin_ns
        self.stopped: set[int] = set()   # the odometry stops acting now
        rows = np.reshape(initial, (len(self.robots), width))
        try:
            if self.robot is None:
                self.sim = FleetSimulator(rows[:, :self.dim], rows[:, self.dim:], lag=lag, max_accel=max_accel)
            else:
                self.sim = _diff_drive_fleet(self.robot, rows, heading or [0.0] * len(self.robots), backend, seed)
        except ValueError as error:
            raise ParameterError(str(error)) from error
        self.contacts_seen = 0
        self.stop_after_ns = Duration(seconds=stop_after).nanoseconds
        self.start_ns: int | None = None
        self.sim_ns: int | None = None  # start + integrated time
        self.odom = [self.create_publisher(Odometry, f"/{robot}/odom", 10) for robot in self.robots]
        for i, robot in enumerate(self.robots):
            self.create_subscription(Twist, f"/{robot}/cmd_vel", lambda msg, i=i: self._on_cmd_vel(i, msg), 10)
        self.create_subscription(FleetStart, "/fleet/start", self._on_start, LATCHED)
        self.create_subscription(String, DISTURBANCES_TOPIC, self._on_disturbances, LATCHED)
        self.min_distance = self.create_publisher(Float64, "/fleet/min_distance", 10)
        self.truth = ([self.create_publisher(Odometry, f"/{robot}/ground_truth", 10) for robot in self.robots]
                      if self.robot is not None else [])
        self.contacts = self.create_publisher(UInt32, "/fleet/contacts", 10) if backend == "mujoco" else None
        self.tf = self.create_publisher(TFMessage, "/tf", 100) if TFMessage else None
        if self.tf is None:
            self.get_logger().info("tf2_msgs is not installed: not publishing /tf")
        self.create_timer(1.0 / rate, self._tick)

    def _on_cmd_vel(self, i: int, msg: Twist) -> None:
        try:
            if self.robot is not None:
                return self.sim.set_command(i, msg.linear.x, msg.angular.z)
            self.sim.set_command(i, [msg.linear.x, msg.linear.y, msg.linear.z][:self.dim])
        except ValueError as error:
            self.get_logger().warning(f"{self.robots[i]}/cmd_vel ignored: {error}")

    def _on_start(self, msg: FleetStart) -> None:
        if self.start_ns is not None:
            self.get_logger().debug(f"FleetStart of run '{msg.run_id}': the fleet is already started")
            return
        self.start_ns = Time.from_msg(msg.start).nanoseconds
        self.get_logger().info(f"run '{msg.run_id}': robots released at {self.start_ns * 1e-9:.3f}")

    def _on_disturbances(self, msg: String) -> None:
        try:
            announced = Announcement.from_json(msg.data, self.dim)
        except RecedingError as error:   # from the network: named and dropped
            return self.get_logger().error(f"{DISTURBANCES_TOPIC}: ignored: {error}")
        if list(announced.robots) != self.robots:
            return self.get_logger().error(f"{DISTURBANCES_TOPIC}: mission {announced.mission_id} names robots "
                                           f"{list(announced.robots)}, this simulator {self.robots}; ignored")
        if announced.pushes() and self.robot is not None:
            return self.get_logger().error(f"{DISTURBANCES_TOPIC}: mission {announced.mission_id}: only holonomic "
                                           "robots can be pushed; its pushes are ignored")
        for push in self.pushes:
            self.sim.push(push.robot, np.zeros(self.dim))
        self.pushes, self.push_origin_ns, self.pushing = announced.pushes(), announced.origin_ns, set()
        self.odometry_stops, self.stopped = announced.odometry_stops(), set()
        if self.pushes or self.odometry_stops:
            self.get_logger().info(f"mission {announced.mission_id}: {len(self.pushes)} pushes, "
                                   f"{len(self.odometry_stops)} odometry stops scripted")

    def _tick(self) -> None:
        now = self.get_clock().now().nanoseconds
        started = self.start_ns is not None and now >= self.start_ns
        if started or self.running:
            previous = self.sim_ns if self.sim_ns is not None else (now if self.running else self.start_ns)
            if self.pushes:
                self._push((previous - self.push_origin_ns) * 1e-9)
            self.sim.step((now - previous) * 1e-9)
            self.sim_ns = now
        stamp = Time(nanoseconds=now).to_msg()
        silent = set(self.stop_odom) if started and now - self.start_ns >= self.stop_after_ns else set()
        if self.odometry_stops:
            silent |= self._stopped_odometry((now - self.push_origin_ns) * 1e-9)
        odometry = self._odometries(stamp)
        for i, robot in enumerate(self.robots):
            if robot not in silent:
                self.odom[i].publish(odometry[i])
        if self.truth:
            for i, message in enumerate(self._body_odometries(stamp, self.sim.pose, *self.sim.twist())):
                self.truth[i].publish(message)
        self.min_distance.publish(Float64(data=self.sim.min_distance()[0]))
        if self.contacts is not None:
            for t, i, j in self.sim.contacts[self.contacts_seen:]:
                self.get_logger().warning(f"body contact: {self.robots[i]} and {self.robots[j]} at t = {t:.2f} s")
            self.contacts_seen = len(self.sim.contacts)
            self.contacts.publish(UInt32(data=self.contacts_seen))
        if self.tf is not None:
            self.tf.publish(TFMessage(transforms=[self._transform(i, stamp) for i in range(len(self.robots))]))

    def _push(self, t: float) -> None:
        """Each push's drift while it lasts, `t` seconds after the mission's first switch (as
        `mission.receding_sim` does)."""
        for k, push in enumerate(self.pushes):
            active = push.time <= t < push.time + push.duration
            self.sim.push(push.robot, np.array(push.velocity) if active else np.zeros(self.dim))
            if active != (k in self.pushing):
                self.pushing ^= {k}
                self.get_logger().info(f"{self.robots[push.robot]}: push {'starts' if active else 'ends'} at "
                                       f"t = {t:.2f} s (drift {list(push.velocity)} m/s)")

    def _stopped_odometry(self, t: float) -> set[str]:
        """The robots whose odometry is stopped `t` seconds after the mission's first switch."""
        for k, stop in enumerate(self.odometry_stops):
            if stop.covers(t) != (k in self.stopped):
                self.stopped ^= {k}
                self.get_logger().info(f"{self.robots[stop.robot]}: odometry {'stops' if k in self.stopped else 'resumes'}"
                                       f" at t = {t:.2f} s ({stop.duration:g} s from t = {stop.time:g} s)")
        return {self.robots[self.odometry_stops[k].robot] for k in self.stopped}

    def _odometries(self, stamp) -> list[Odometry]:
        """Each robot's odometry: holonomic in the world frame; diff-drive the base's (wheel odometry on
        mujoco)."""
        if isinstance(self.sim, FleetSimulator):
            messages = [self._message(stamp, i) for i in range(len(self.robots))]
            for msg, position, velocity in zip(messages, self.sim.position, self.sim.velocity):
                msg.pose.pose.position.x, msg.pose.pose.position.y, msg.pose.pose.position.z = _xyz(position)
                msg.pose.pose.orientation.w = 1.0
                msg.twist.twist.linear.x, msg.twist.twist.linear.y, msg.twist.twist.linear.z = _xyz(velocity)
            return messages
        if isinstance(self.sim, UnicycleSimulator):
            return self._body_odometries(stamp, self.sim.pose, *self.sim.twist())
        return self._body_odometries(stamp, self.sim.odometry, *self.sim.odometry_twist)

    def _body_odometries(self, stamp, poses: np.ndarray, v: np.ndarray, omega: np.ndarray) -> list[Odometry]:
        messages = [self._message(stamp, i) for i in range(len(self.robots))]
        for msg, (x, y, yaw), speed, turn in zip(messages, poses, v, omega):
            msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
            set_yaw(msg.pose.pose.orientation, float(yaw))
            msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(speed), float(turn)
        return messages

    def _message(self, stamp, i: int) -> Odometry:
        msg = Odometry()
        msg.header.stamp, msg.header.frame_id = stamp, self.frame_id
        msg.child_frame_id = f"{self.robots[i]}/base_link"
        return msg

    def _transform(self, i: int, stamp) -> TransformStamped:
        msg = TransformStamped()
        msg.header.stamp, msg.header.frame_id = stamp, self.frame_id
        msg.child_frame_id = f"{self.robots[i]}/base_link"
        if isinstance(self.sim, FleetSimulator):
            msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = \
                _xyz(self.sim.position[i])
            msg.transform.rotation.w = 1.0
        else:
            x, y, yaw = self.sim.pose[i]
            msg.transform.translation.x, msg.transform.translation.y = float(x), float(y)
            set_yaw(msg.transform.rotation, float(yaw))
        return msg


def _diff_drive_fleet(robot: DiffDrive, rows: np.ndarray, heading: list[float], backend: str, seed: int):
    """The diff-drive simulator of `backend`, robots placed so that their tracked points are at the initial
    positions `rows[:, :2]`, moving at `rows[:, 2:]` (the mujoco backend starts at rest)."""
    _require(rows.shape[1] == 4, "dim", "diff-drive robots move in the plane: dim must be 2")
    _require(len(heading) == len(rows), "heading", f"expected {len(rows)} headings, got {len(heading)}")
    if backend == "kinematic":
        return UnicycleSimulator.at_points(rows[:, :2], np.array(heading), robot, rows[:, 2:])
    from dro_ros.fleet.mujoco_sim import MujocoFleet, MujocoSettings

    moving = [i for i, row in enumerate(rows) if np.any(row[2:] != 0)]
    _require(not moving, "initial", f"the mujoco backend starts robots at rest; robots {moving} have a velocity")
    centres = axle_centre(rows[:, :2], np.array(heading), robot.offset)
    return MujocoFleet(np.column_stack([centres, heading]), robot, MujocoSettings(seed=seed))


def _xyz(vector: np.ndarray) -> list[float]:
    return [float(x) for x in vector] + [0.0] * (3 - len(vector))


def _require(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ParameterError(f"{name}: {message}")


def main(argv: list[str] | None = None) -> None:
    run_node(FleetSimNode, "fleet_sim", argv)


if __name__ == "__main__":
    main()
