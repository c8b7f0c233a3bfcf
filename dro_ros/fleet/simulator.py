"""N double-integrator robots in R^m, each tracking a commanded velocity through a first-order velocity loop.

The loop stands for a robot's motor controller (or a Gazebo velocity plugin):

    s' = v,   v' = a,   a = (v_cmd - v) / lag,   ||a|| saturated at max_accel when max_accel > 0.

An external drift d_i (m/s, zero unless `push` sets it) moves a robot on top of its own motion,
s' = v + d: a shove, a slip, or being carried, which the robot's loop does not sense.

`step(dt)` holds a constant over the step (zero-order hold) and integrates exactly:
s += v dt + a dt^2 / 2, v += a dt. That explicit hold is unstable for dt > 2 lag, so a longer dt (a stalled
timer) is split into equal sub-steps of at most lag / 4.
"""
from __future__ import annotations

import math

import numpy as np


class FleetSimulator:
    """State `position`, `velocity` (N, m); commands `command` (N, m) start at the initial velocities, so a
    robot that is never commanded keeps its velocity; `time` is the integrated time in seconds."""

    def __init__(self, position: np.ndarray, velocity: np.ndarray, lag: float = 0.1, max_accel: float = 0.0) -> None:
        position, velocity = np.array(position, dtype=float), np.array(velocity, dtype=float)
        if position.ndim != 2 or position.shape[0] < 1 or position.shape[1] not in (1, 2, 3):
            raise ValueError(f"position: expected shape (N, m) with N >= 1 and m in 1..3, got {position.shape}")
        if velocity.shape != position.shape:
            raise ValueError(f"velocity: expected shape {position.shape} like position, got {velocity.shape}")
        if not (np.all(np.isfinite(position)) and np.all(np.isfinite(velocity))):
            raise ValueError("position, velocity: contain a non-finite value")
        if not (math.isfinite(lag) and lag > 0):
            raise ValueError(f"lag: must be positive, got {lag}")
        if not (math.isfinite(max_accel) and max_accel >= 0):
            raise ValueError(f"max_accel: must be >= 0 (0 = no limit), got {max_accel}")
        self.position, self.velocity, self.command = position, velocity, velocity.copy()
        self.drift = np.zeros_like(position)
        self.lag, self.max_accel, self.time = float(lag), float(max_accel), 0.0

    @property
    def n_robots(self) -> int:
        return self.position.shape[0]

    @property
    def dim(self) -> int:
        return self.position.shape[1]

    def set_command(self, i: int, v_cmd: np.ndarray) -> None:
        """Robot i tracks velocity v_cmd (m,) from now on."""
        if not 0 <= i < self.n_robots:
            raise IndexError(f"robot index {i} out of range 0..{self.n_robots - 1}")
        v_cmd = np.asarray(v_cmd, dtype=float)
        if v_cmd.shape != (self.dim,) or not np.all(np.isfinite(v_cmd)):
            raise ValueError(f"v_cmd: expected {self.dim} finite values, got {v_cmd!r}")
        self.command[i] = v_cmd

    def push(self, i: int, drift: np.ndarray) -> None:
        """Robot i drifts at `drift` (m,) m/s from now on, on top of its own motion (zero ends the push)."""
        drift = np.asarray(drift, dtype=float)
        if drift.shape != (self.dim,) or not np.all(np.isfinite(drift)):
            raise ValueError(f"drift: expected {self.dim} finite values, got {drift!r}")
        self.drift[i] = drift

    def acceleration(self) -> np.ndarray:
        """a = (v_cmd - v) / lag per robot (N, m), its norm saturated at max_accel."""
        accel = (self.command - self.velocity) / self.lag
        if self.max_accel > 0:
            norm = np.linalg.norm(accel, axis=1, keepdims=True)
            accel *= np.minimum(1.0, self.max_accel / np.maximum(norm, 1e-300))
        return accel

    def step(self, dt: float) -> None:
        """Advance every robot by dt >= 0 seconds."""
        if not (math.isfinite(dt) and dt >= 0):
            raise ValueError(f"dt: must be finite and >= 0, got {dt}")
        n = max(1, math.ceil(dt / (self.lag / 4)))
        h = dt / n
        for _ in range(n):
            accel = self.acceleration()
            self.position += (self.velocity + self.drift) * h + accel * (h * h / 2)
            self.velocity += accel * h
        self.time += dt

    def min_distance(self) -> tuple[float, tuple[int, int] | None]:
        """The smallest distance between two robots and the pair (i, j), i < j; (inf, None) for one robot."""
        if self.n_robots < 2:
            return math.inf, None
        i, j = np.triu_indices(self.n_robots, k=1)
        distances = np.linalg.norm(self.position[i] - self.position[j], axis=1)
        best = int(np.argmin(distances))
        return float(distances[best]), (int(i[best]), int(j[best]))
