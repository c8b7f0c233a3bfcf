"""Twist (v, omega) that makes a differential-drive robot's tracked point follow a plan's reference.

Feedback linearization of the offset point p = c + d e(theta) (`diff_drive`, eq. 1): the desired point
velocity

    w = v_ref + gain (s_ref - p)

is rotated into the body frame, [v, d omega] = R(theta)^T w, i.e. v = e . w, omega = e_perp . w / d. Without
saturation p' = w exactly, so the point's error e = s_ref - p obeys e' = -gain e from any heading (a pure
exponential, no oscillation); the start heading, stops (w -> 0) and turning in place (w along e_perp gives
v = 0) need no special case. The heading is the zero dynamics: moving forward along a constant w it turns
towards w (theta' = |w| sin(angle(w) - theta) / d); a robot that starts facing exactly away from its path
follows it in reverse.

Wheel limits: when a wheel would exceed max_wheel_speed, (v, omega) is scaled by one factor
(`DiffDrive.saturate`), which keeps the curvature omega / v: the robot stays on the arc and slows along it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dro_ros.fleet.diff_drive import DiffDrive, tracked_point


@dataclass
class UnicycleLaw:
    robot: DiffDrive
    gain: float = 2.5   # 1/s, the rate of the point's error decay

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gain) and self.gain > 0):
            raise ValueError(f"gain: must be positive, got {self.gain}")

    def point_velocity(self, reference: tuple[np.ndarray, np.ndarray, np.ndarray], pose: np.ndarray) -> np.ndarray:
        """w = v_ref + gain (s_ref - p) (2,), p the tracked point of `pose` (x, y, theta)."""
        s_ref, v_ref, _ = reference
        return np.asarray(v_ref, float)[:2] + self.gain * (np.asarray(s_ref, float)[:2]
                                                           - tracked_point(pose, self.robot.offset))

    def command(self, reference: tuple[np.ndarray, np.ndarray, np.ndarray], pose: np.ndarray) -> tuple[float, float]:
        """(linear.x, angular.z) from the reference (s_ref, v_ref, a_ref) and the pose (x, y, theta)."""
        return self.twist(self.point_velocity(reference, pose), float(pose[2]))

    def twist(self, point_velocity: np.ndarray, heading: float) -> tuple[float, float]:
        """(linear.x, angular.z) that move the tracked point at `point_velocity` (2,), within the wheel limits.
        Saturation scales the point's velocity by one factor in (0, 1], so a filter row n . w >= -rate h
        that held for w still holds while h >= 0 (`SeparationFilter` on the tracked point)."""
        v, omega = self.robot.body_twist(heading, point_velocity)
        return self.robot.saturate(v, omega)
