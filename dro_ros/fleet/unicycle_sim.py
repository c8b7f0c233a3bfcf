"""N differential-drive robots, kinematic: unicycles whose wheels follow the commanded twist within limits.

Each step, robot i's commanded twist (v, omega) becomes wheel speed targets (`DiffDrive.wheel_speeds`),
each clipped to +-max_wheel_speed; each wheel speed moves towards its target by at most
max_wheel_accel h (a motor driver's ramp). The pose follows the unicycle

    x' = v cos theta,   y' = v sin theta,   theta' = omega,   (v, omega) from the wheel speeds,

integrated over sub-steps h <= `max_substep` with the wheel speeds held and the arc exact:
theta_1 = theta_0 + omega h, (x, y) += v h sinc(omega h / 2) e(theta_0 + omega h / 2). No slip: the
odometry is the pose (`mujoco_sim` has slip and wheel odometry).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from dro_ros.fleet.diff_drive import DiffDrive, tracked_point, tracked_velocity


class DiffDriveFleet:
    """What every diff-drive simulator offers: commands (N, 2) = (v, omega), true poses `pose` (N, 3) and
    body twists `twist()`, and from them the tracked points and the closest pair of centres."""

    robot: DiffDrive
    command: np.ndarray

    @property
    def n_robots(self) -> int:
        return len(self.command)

    @property
    def pose(self) -> np.ndarray:
        raise NotImplementedError

    def twist(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def set_command(self, i: int, v: float, omega: float) -> None:
        """Robot i drives at body twist (v, omega) from now on (Twist linear.x, angular.z)."""
        if not 0 <= i < self.n_robots:
            raise IndexError(f"robot index {i} out of range 0..{self.n_robots - 1}")
        if not (math.isfinite(v) and math.isfinite(omega)):
            raise ValueError(f"twist: expected finite (v, omega), got ({v}, {omega})")
        self.command[i] = (v, omega)

    def points(self) -> np.ndarray:
        """The true tracked points (N, 2)."""
        return tracked_point(self.pose, self.robot.offset)

    def point_velocities(self) -> np.ndarray:
        """The true tracked points' velocities (N, 2)."""
        v, omega = self.twist()
        return tracked_velocity(self.pose[:, 2], v, omega, self.robot.offset)

    def min_distance(self) -> tuple[float, tuple[int, int] | None]:
        """The smallest true distance between two axle centres and the pair (i, j), i < j; (inf, None) for one."""
        if self.n_robots < 2:
            return math.inf, None
        centres = self.pose[:, :2]
        i, j = _pairs(self.n_robots)
        distances = np.linalg.norm(centres[i] - centres[j], axis=1)
        best = int(np.argmin(distances))
        return float(distances[best]), (int(i[best]), int(j[best]))


@functools.lru_cache(maxsize=8)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i < j, of n robots."""
    return np.triu_indices(n, k=1)


class UnicycleSimulator(DiffDriveFleet):
    """State `pose` (N, 3) = (x, y, theta) of the axle centres and `wheels` (N, 2) = (right, left) rad/s;
    `command` (N, 2) = (v, omega) starts at the initial wheels' twist; `time` is the integrated time."""

    def __init__(self, pose: np.ndarray, robot: DiffDrive, wheels: np.ndarray | None = None,
                 max_substep: float = 0.005) -> None:
        pose = np.array(pose, dtype=float)
        if pose.ndim != 2 or pose.shape[0] < 1 or pose.shape[1] != 3:
            raise ValueError(f"pose: expected shape (N, 3) with N >= 1, got {pose.shape}")
        wheels = np.zeros((len(pose), 2)) if wheels is None else np.array(wheels, dtype=float)
        if wheels.shape != (len(pose), 2):
            raise ValueError(f"wheels: expected shape {(len(pose), 2)}, got {wheels.shape}")
        if not (np.all(np.isfinite(pose)) and np.all(np.isfinite(wheels))):
            raise ValueError("pose, wheels: contain a non-finite value")
        if not (math.isfinite(max_substep) and max_substep > 0):
            raise ValueError(f"max_substep: must be positive, got {max_substep}")
        self.robot, self._pose, self.wheels, self.max_substep = robot, pose, wheels, float(max_substep)
        self.command = np.column_stack(robot.twist(wheels[:, 0], wheels[:, 1]))
        self.time = 0.0

    @classmethod
    def at_points(cls, points: np.ndarray, headings: np.ndarray, robot: DiffDrive,
                  point_velocity: np.ndarray | None = None) -> "UnicycleSimulator":
        """Robots whose tracked points are at `points` (N, 2) with `headings` (N,), moving the points at
        `point_velocity` (N, 2; default at rest)."""
        points, headings = np.asarray(points, float), np.asarray(headings, float)
        centres = points - robot.offset * np.column_stack([np.cos(headings), np.sin(headings)])
        wheels = np.zeros((len(points), 2))
        if point_velocity is not None:
            for i, (heading, velocity) in enumerate(zip(headings, np.asarray(point_velocity, float))):
                wheels[i] = robot.wheel_speeds(*robot.body_twist(heading, velocity))
        return cls(np.column_stack([centres, headings]), robot, wheels)

    @property
    def pose(self) -> np.ndarray:
        """The axle poses (N, 3), integrated in place by `step`."""
        return self._pose

    def twist(self) -> tuple[np.ndarray, np.ndarray]:
        """(v, omega) (N,) of the current wheel speeds."""
        return self.robot.twist(self.wheels[:, 0], self.wheels[:, 1])

    def step(self, dt: float) -> None:
        """Advance every robot by dt >= 0 seconds."""
        if not (math.isfinite(dt) and dt >= 0):
            raise ValueError(f"dt: must be finite and >= 0, got {dt}")
        n = max(1, math.ceil(dt / self.max_substep))
        h = dt / n
        limit = self.robot.max_wheel_speed
        target = np.clip(np.column_stack(self.robot.wheel_speeds(self.command[:, 0], self.command[:, 1])),
                         -limit, limit)
        ramp = self.robot.max_wheel_accel * h
        for _ in range(n):
            self.wheels += np.clip(target - self.wheels, -ramp, ramp)
            v, omega = self.twist()
            half = omega * h / 2
            mid = self.pose[:, 2] + half
            chord = v * h * np.sinc(half / np.pi)   # numpy's sinc(x) = sin(pi x) / (pi x)
            self.pose[:, 0] += chord * np.cos(mid)
            self.pose[:, 1] += chord * np.sin(mid)
            self.pose[:, 2] = np.angle(np.exp(1j * (self.pose[:, 2] + 2 * half)))
        self.time += dt
