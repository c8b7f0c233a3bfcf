"""A differential-drive robot's geometry and wheel limits, and the point of it that the planner plans.

The robot is a unicycle: pose (x, y, theta) of the axle centre c, body twist (v, omega). Its wheels turn at
phi_r, phi_l (rad/s) with rim speeds r phi = v +- omega b / 2 (b the wheel base, r the wheel radius).

The planner keeps its double integrator for the tracked point p = c + d e(theta), d > 0 ahead of the axle
(e(theta) = (cos theta, sin theta), e_perp = (-sin theta, cos theta)). Differentiating,

    p' = v e + d omega e_perp,                                                                   (1)
    p'' = (v' - d omega^2) e + (v omega + d omega') e_perp,                                      (2)

so [v, d omega] is p' rotated into the body frame: any velocity of p is reachable from any heading (the
offset point is flat; d > 0 is what makes it trackable, the axle centre itself cannot move sideways).
A point speed |p'| = V in body direction phi needs rim speeds |v| + |omega| b / 2 = V (|cos phi| +
b / (2 d) |sin phi|) <= V sqrt(1 + (b / (2 d))^2) =: V kappa, so the planner's bounds are trackable when

    v_bar kappa <= r phi_max   (speed),     u_bar kappa <= r alpha_max   (the plan's acceleration part of
                                                                           (2); the d omega^2, v omega terms
                                                                           are left to saturation).

The bodies are discs of radius `body_radius` about c. Since |c_i - c_j| >= |p_i - p_j| - 2 d, planning the
tracked points r_min + 2 d apart keeps the centres r_min apart; r_min >= 2 body_radius keeps the bodies
from touching (`planned_separation`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class DiffDriveError(ValueError):
    """Limits a diff-drive robot cannot honour; the message starts with the offending field."""


@dataclass(frozen=True)
class DiffDrive:
    """Geometry (m) and wheel limits (rad/s, rad/s^2) of one differential-drive robot."""

    body_radius: float
    wheel_base: float
    wheel_radius: float
    max_wheel_speed: float
    max_wheel_accel: float
    offset: float

    def __post_init__(self) -> None:
        for name in ("body_radius", "wheel_base", "wheel_radius", "max_wheel_speed", "max_wheel_accel", "offset"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise DiffDriveError(f"{name}: must be positive and finite, got {value}")

    @property
    def kappa(self) -> float:
        """sqrt(1 + (b / (2 d))^2): the largest rim speed per unit speed of the tracked point."""
        return math.hypot(1.0, self.wheel_base / (2 * self.offset))

    @property
    def max_rim_speed(self) -> float:
        return self.wheel_radius * self.max_wheel_speed

    def max_point_speed(self) -> float:
        """The largest speed of the tracked point that the wheels reach in every direction."""
        return self.max_rim_speed / self.kappa

    def planned_separation(self, r_min: float) -> float:
        """The separation of the tracked points that keeps the axle centres `r_min` apart: r_min + 2 d."""
        return r_min + 2 * self.offset

    def require_trackable(self, r_min: float, max_speed: float | None, max_input: float | None) -> None:
        """DiffDriveError naming the field when the plan's bounds ask more than the robot gives."""
        if r_min < 2 * self.body_radius:
            raise DiffDriveError(f"body_radius: bodies of radius {self.body_radius} m touch at centre distance "
                                 f"{2 * self.body_radius} m, above the scenario's r_min {r_min} m")
        if max_speed is None:
            raise DiffDriveError("max_speed: a diff-drive fleet's scenario needs a speed bound (the wheels have one)")
        if max_speed * self.kappa > self.max_rim_speed:
            raise DiffDriveError(
                f"max_wheel_speed: the planned max_speed {max_speed} m/s of the tracked point needs rim speeds up "
                f"to {max_speed * self.kappa:.3f} m/s (max_speed sqrt(1 + (wheel_base / (2 offset))^2)); the "
                f"wheels give wheel_radius max_wheel_speed = {self.max_rim_speed:.3f} m/s")
        if max_input is None:
            raise DiffDriveError("max_input: a diff-drive fleet's scenario needs an input bound (the wheels have one)")
        if max_input * self.kappa > self.wheel_radius * self.max_wheel_accel:
            raise DiffDriveError(
                f"max_wheel_accel: the planned max_input {max_input} m/s^2 of the tracked point needs rim "
                f"accelerations up to {max_input * self.kappa:.3f} m/s^2; the wheels give wheel_radius "
                f"max_wheel_accel = {self.wheel_radius * self.max_wheel_accel:.3f} m/s^2")

    def wheel_speeds(self, v: np.ndarray | float, omega: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(phi_r, phi_l) in rad/s for body twists (v, omega)."""
        v, omega = np.asarray(v, dtype=float), np.asarray(omega, dtype=float)
        half = omega * self.wheel_base / 2
        return (v + half) / self.wheel_radius, (v - half) / self.wheel_radius

    def twist(self, right: np.ndarray | float, left: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """(v, omega) from wheel speeds (rad/s)."""
        right, left = np.asarray(right, dtype=float), np.asarray(left, dtype=float)
        return (self.wheel_radius * (right + left) / 2,
                self.wheel_radius * (right - left) / self.wheel_base)

    def saturate(self, v: float, omega: float) -> tuple[float, float]:
        """(v, omega) scaled by one factor so that both wheels are within max_wheel_speed: the path's
        curvature omega / v is kept, only the speed along it drops."""
        right, left = self.wheel_speeds(v, omega)
        fastest = max(abs(float(right)), abs(float(left)))
        scale = min(1.0, self.max_wheel_speed / fastest) if fastest > 0 else 1.0
        return v * scale, omega * scale

    def body_twist(self, heading: float, point_velocity: np.ndarray) -> tuple[float, float]:
        """(v, omega) that move the tracked point at `point_velocity` (2,) at `heading`: eq. (1) inverted."""
        c, s = math.cos(heading), math.sin(heading)
        wx, wy = float(point_velocity[0]), float(point_velocity[1])
        return c * wx + s * wy, (-s * wx + c * wy) / self.offset


def tracked_point(pose: np.ndarray, offset: float) -> np.ndarray:
    """p = c + d e(theta) for poses (..., 3) = (x, y, theta); returns (..., 2)."""
    pose = np.asarray(pose, dtype=float)
    theta = pose[..., 2]
    return pose[..., :2] + offset * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def tracked_velocity(theta: np.ndarray | float, v: np.ndarray | float, omega: np.ndarray | float,
                     offset: float) -> np.ndarray:
    """p' = v e + d omega e_perp (eq. 1); (..., 2)."""
    theta, v, omega = np.asarray(theta, float), np.asarray(v, float), np.asarray(omega, float)
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([v * c - offset * omega * s, v * s + offset * omega * c], axis=-1)


def axle_centre(point: np.ndarray, heading: np.ndarray | float, offset: float) -> np.ndarray:
    """c = p - d e(theta): where to put a robot whose tracked point is at `point` (..., 2)."""
    point, heading = np.asarray(point, float), np.asarray(heading, float)
    return point - offset * np.stack([np.cos(heading), np.sin(heading)], axis=-1)


def in_world(origin: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """The world pose of `pose` (x, y, theta) given in a frame whose zero is at world pose `origin`."""
    c, s = math.cos(origin[2]), math.sin(origin[2])
    return np.array([origin[0] + c * pose[0] - s * pose[1], origin[1] + s * pose[0] + c * pose[1],
                     origin[2] + pose[2]])


def yaw(w, x, y, z):
    """The yaw (rad) of unit quaternions (w, x, y, z): scalars or arrays."""
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
