"""A mission goal: where the fleet should go, validated against the fleet before anything moves.

The fields mirror `action/Mission.action`. A goal targets either one shared terminal disc/ball with a
terminal velocity (the formation's eq. 5.15-5.16) or one position per robot (within `radius`, at rest).
`MissionGoal.from_fields` is the one validator: the supervisor applies it to every goal it receives and
`dro-ros fleet goal` to what it is about to send, so a malformed goal is refused with the same message,
naming the field, on both sides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, Union

import numpy as np

from dro_ros.spec.registry import trajectory_algorithms

class GoalError(ValueError):
    """A malformed goal; the message starts with the offending field."""


GOAL_FIELDS = ("centre", "radius", "velocity", "positions", "duration", "algorithm")


def goal_fields(data: Any, where: str = "goal") -> dict[str, Any]:
    """A goal written as a mapping of the action's fields (an entry of a `--goals` file), checked and in the
    action's types: `centre`, `velocity` and `positions` (rows flattened) lists of finite floats, `radius`
    and `duration` finite floats, `algorithm` a string; absent fields are left out. Errors name
    `where.field`. `MissionGoal.from_fields` then checks the goal against the fleet."""
    if not isinstance(data, dict):
        raise GoalError(f"{where}: expected a mapping of goal fields, got {data!r}")
    unknown = sorted(str(key) for key in set(data) - set(GOAL_FIELDS))
    if unknown:
        raise GoalError(f"{where}.{unknown[0]}: unknown goal field; expected one of {', '.join(GOAL_FIELDS)}")
    fields: dict[str, Any] = {}
    for name in ("centre", "velocity", "positions"):
        if data.get(name) is not None:
            rows = data[name]
            if not isinstance(rows, (list, tuple)):
                raise GoalError(f"{where}.{name}: expected a list of numbers, got {rows!r}")
            flat = [v for row in rows for v in (row if isinstance(row, (list, tuple)) else [row])] \
                if name == "positions" else list(rows)
            fields[name] = [_finite_number(value, f"{where}.{name}") for value in flat]
    for name in ("radius", "duration"):
        if data.get(name) is not None:
            fields[name] = _finite_number(data[name], f"{where}.{name}")
    if data.get("algorithm") is not None:
        if not isinstance(data["algorithm"], str):
            raise GoalError(f"{where}.algorithm: expected a name, got {data['algorithm']!r}")
        fields["algorithm"] = data["algorithm"]
    return fields


def _finite_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GoalError(f"{where}: expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise GoalError(f"{where}: expected a finite number, got {value!r}")
    return number


@dataclass(frozen=True)
class DiscTarget:
    """||s_i(T) - centre|| <= radius and v_i(T) = velocity for every robot (eq. 5.15-5.16)."""

    centre: np.ndarray
    radius: float
    velocity: np.ndarray


@dataclass(frozen=True)
class PositionsTarget:
    """||s_i(T) - positions[i]|| <= radius (exactly when radius = 0) and v_i(T) = 0."""

    positions: np.ndarray   # (N, m)
    radius: float


Target = Union[DiscTarget, PositionsTarget]


@dataclass(frozen=True)
class MissionGoal:
    target: Target
    duration: float | None = None     # T in seconds; None = the fleet config's
    algorithm: str | None = None      # None = the fleet config's

    @classmethod
    def from_fields(cls, *, n_robots: int, dim: int, centre: Sequence[float] = (), radius: float = 0.0,
                    velocity: Sequence[float] = (), positions: Sequence[float] = (), duration: float = 0.0,
                    algorithm: str = "") -> "MissionGoal":
        """Validate the action's fields for a fleet of `n_robots` robots in `dim` dimensions."""
        centre, velocity, positions = (_finite(name, values) for name, values in
                                       (("centre", centre), ("velocity", velocity), ("positions", positions)))
        if not math.isfinite(radius) or radius < 0:
            raise GoalError(f"radius: expected a finite number >= 0, got {radius!r}")
        if not math.isfinite(duration) or duration < 0:
            raise GoalError(f"duration: expected a finite number of seconds >= 0 (0 = the config's), got {duration!r}")
        if algorithm and algorithm not in trajectory_algorithms():
            raise GoalError(f"algorithm: expected one of {', '.join(trajectory_algorithms())}, got {algorithm!r}")
        if len(centre) and len(positions):
            raise GoalError("centre, positions: give one target, a centre or one position per robot, not both")
        if not len(centre) and not len(positions):
            raise GoalError("centre, positions: no target; give a centre (with radius) or one position per robot")
        if len(velocity) not in (0, dim):
            raise GoalError(f"velocity: expected {dim} values (or none for rest), got {len(velocity)}")
        velocity = velocity if len(velocity) else np.zeros(dim)
        if len(centre):
            if len(centre) != dim:
                raise GoalError(f"centre: expected {dim} values, got {len(centre)}")
            target: Target = DiscTarget(centre, float(radius), velocity)
        else:
            if len(positions) != n_robots * dim:
                raise GoalError(f"positions: expected {n_robots} robots x {dim} values = {n_robots * dim}, "
                                f"got {len(positions)}")
            if np.any(velocity):
                raise GoalError("velocity: a positions target ends at rest; leave velocity empty")
            target = PositionsTarget(positions.reshape(n_robots, dim), float(radius))
        return cls(target, float(duration) or None, algorithm or None)

    def describe(self) -> str:
        target = self.target
        if isinstance(target, DiscTarget):
            text = f"disc centre {target.centre.tolist()} radius {target.radius:g} velocity {target.velocity.tolist()}"
        else:
            text = f"{len(target.positions)} goal positions" + (f" within {target.radius:g} m" if target.radius else "")
        return text + (f", T = {self.duration:g} s" if self.duration else "") + (
            f", {self.algorithm}" if self.algorithm else "")


def _finite(name: str, values: Sequence[float]) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise GoalError(f"{name}: expected numbers, got {values!r}") from None
    if not np.all(np.isfinite(array)):
        raise GoalError(f"{name}: contains a non-finite value")
    return array
