"""One robot's planned trajectory of the double integrator (eq. 5.5-5.6) and its continuous-time reference.

Sample k (k = 0..H) is at time k * step after the fleet start; the input u_k is held from k * step to
(k + 1) * step (zero-order hold), so between samples the reference is exact, not interpolated:

    s(t) = s_k + v_k d + u_k d^2 / 2,   v(t) = v_k + u_k d,   a(t) = u_k,   k = floor(t / step), d = t - k step.

Before the start (t < 0) the reference is the initial state (s_0, v_0) with a = 0; from T = H step on it
extrapolates at the terminal velocity: s(t) = s_H + v_H (t - T), v(t) = v_H, a(t) = 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class PlanError(ValueError):
    """Inconsistent plan data; the message starts with the offending field."""


@dataclass(frozen=True, eq=False)
class Plan:
    """Samples of one robot's plan: position, velocity (H+1, m) and input (H, m); read-only arrays."""

    robot: str
    step: float
    position: np.ndarray
    velocity: np.ndarray
    input: np.ndarray
    cost: float
    run_id: str = ""

    def __post_init__(self) -> None:
        _require(np.isfinite(self.step) and self.step > 0, "step", f"must be positive and finite, got {self.step}")
        _require(np.isfinite(self.cost), "cost", f"must be finite, got {self.cost}")
        for name in ("position", "velocity", "input"):
            value = np.array(getattr(self, name), dtype=float)
            _require(value.ndim == 2 and value.shape[1] in (1, 2, 3), name,
                     f"expected shape (rows, m) with m in 1..3, got {value.shape}")
            _require(bool(np.all(np.isfinite(value))), name, "contains a non-finite value")
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        rows, m = self.position.shape
        _require(rows >= 2, "position", f"expected H + 1 >= 2 rows, got {rows}")
        _require(self.velocity.shape == (rows, m), "velocity",
                 f"expected shape {(rows, m)} like position, got {self.velocity.shape}")
        _require(self.input.shape == (rows - 1, m), "input",
                 f"expected shape {(rows - 1, m)} (H rows), got {self.input.shape}")

    @property
    def horizon(self) -> int:
        """H, the number of input steps."""
        return len(self.input)

    @property
    def dim(self) -> int:
        """m, the space dimension."""
        return self.position.shape[1]

    @property
    def duration(self) -> float:
        """T = H step, in seconds."""
        return self.horizon * self.step

    def reference(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(s(t), v(t), a(t)), each (m,), at t seconds after the start."""
        position, velocity, acceleration = self.reference_many(np.array([t]))
        return position[0], velocity[0], acceleration[0]

    def reference_many(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(s, v, a), each (n, m), at the n times `times` (seconds after the start)."""
        t = np.asarray(times, dtype=float).reshape(-1)
        if not np.all(np.isfinite(t)):
            raise PlanError("times: contains a non-finite value")
        # + 1e-9: a sample instant k step, however rounded, starts interval k (its input u_k)
        k = np.clip(np.floor(t / self.step + 1e-9).astype(int), 0, self.horizon - 1)
        d = (t - k * self.step)[:, None]
        s_k, v_k, u_k = self.position[k], self.velocity[k], self.input[k]
        position, velocity, acceleration = s_k + v_k * d + u_k * d * d / 2, v_k + u_k * d, u_k.copy()
        before, after = t < 0, t >= self.duration
        position[before], velocity[before], acceleration[before] = self.position[0], self.velocity[0], 0.0
        position[after] = self.position[-1] + self.velocity[-1] * (t[after] - self.duration)[:, None]
        velocity[after], acceleration[after] = self.velocity[-1], 0.0
        return position, velocity, acceleration


def rolled_out_plan(problem: Any, agent: int, inputs: np.ndarray, robot: str, run_id: str = "") -> Plan:
    """Agent `agent` of `problem` (a `FleetProblem`) as a Plan: its inputs u(t) (H, m) rolled out from its
    initial state by the dynamics (eq. 5.5-5.6), with cost sum ||u||^2."""
    inputs = np.asarray(inputs, dtype=float)
    states = problem.rollout(inputs, problem.initial[agent])
    m = problem.dim
    return Plan(robot=robot, step=problem.step, position=states[:, :m], velocity=states[:, m:], input=inputs,
                cost=float(np.sum(inputs ** 2)), run_id=run_id)


def plan_from_message(message: Any) -> Plan:
    """The Plan in a dro_ros/msg/TrajectoryPlan: an rclpy message or one decoded from a bag (any object
    with its fields; arrays row-major, `dim` columns). PlanError names the first malformed field."""
    if message.dim not in (1, 2, 3):
        raise PlanError(f"dim: must be 1, 2 or 3, got {message.dim}")
    arrays = {}
    for name in ("position", "velocity", "input"):
        flat = np.asarray(getattr(message, name), dtype=float)
        if flat.size % message.dim:
            raise PlanError(f"{name}: {flat.size} values are not rows of dim {message.dim}")
        arrays[name] = flat.reshape(-1, message.dim)
    return Plan(robot=message.robot, step=message.step, cost=message.cost, run_id=message.run_id, **arrays)


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise PlanError(f"{field_name}: {message}")
