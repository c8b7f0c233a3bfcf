"""An agent's status, typed: what `agent_node` publishes as the key-values of its `DiagnosticStatus`.

`AgentStatus.to_values()` gives the flat string key-values (a `DiagnosticStatus.values` entry each) and
`AgentStatus.from_values()` reads them back, naming the key of a malformed value; one round-trips the
other. Unset fields are left out. Pure Python: no rclpy.
"""
from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, fields
from typing import Any, Mapping


class AgentState(enum.Enum):
    UNCONFIGURED = "unconfigured"   # parameters not (yet) valid
    INACTIVE = "inactive"           # configured, not activated
    READY = "ready"                 # active, waiting for a run
    PLANNING = "planning"           # a run is in progress
    DONE = "done"                   # the last run completed
    FAILED = "failed"               # the last run failed (`error`)
    ABORTED = "aborted"             # the last run was aborted

    @property
    def final(self) -> bool:
        """A run ended in this state."""
        return self in (AgentState.DONE, AgentState.FAILED, AgentState.ABORTED)


@dataclass(frozen=True)
class AgentStatus:
    """One agent's state and, once a run has started, that run's figures."""

    state: AgentState
    run_id: str | None = None
    status: str | None = None             # the run's `RunStatus` value
    planning_time: float | None = None    # s, the run's wall time on this agent
    messages: int | None = None           # sent by this agent in the run
    bytes: int | None = None              # sent by this agent in the run
    rejected: dict[str, int] | None = None  # incoming messages refused, by kind (`TrafficStats.rejected_by`)
    shed: dict[str, int] | None = None      # messages dropped at a `Limits` bound: inbox, backlog
    waiting_for: tuple[str, ...] = ()     # neighbours this agent still waited for when the run ended
    error: str | None = None
    critical_path: float | None = None    # s, trajectory agents (`trajectory.outcome`)
    compute: float | None = None          # s of this agent's own solves
    solves: int | None = None
    cost: float | None = None             # the own plan's cost, sum ||u(t)||^2
    result: Any = None                    # a non-trajectory agent's result, JSON-able

    def to_values(self) -> dict[str, str]:
        """Flat string key-values; unset fields (None, no waiting_for) are left out."""
        values: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or value == ():
                continue
            if item.name == "state":
                values["state"] = value.value
            elif item.name == "waiting_for":
                values["waiting_for"] = ",".join(value)
            elif item.name in ("result", "rejected", "shed"):
                values[item.name] = json.dumps(value)
            else:
                values[item.name] = repr(value) if isinstance(value, float) else str(value)
        return values

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> "AgentStatus":
        """Inverse of `to_values`; `ValueError` naming the key for an unknown key or a malformed value."""
        known = {item.name: item for item in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{unknown[0]}: not a key of an agent status")
        if "state" not in values:
            raise ValueError("state: missing")
        parsed: dict[str, Any] = {}
        for key, text in values.items():
            try:
                parsed[key] = _PARSERS.get(key, str)(text)
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
        return cls(**parsed)


def _state(text: str) -> AgentState:
    try:
        return AgentState(text)
    except ValueError:
        raise ValueError(f"expected one of {[s.value for s in AgentState]}, got {text!r}") from None


def _seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected a non-negative number, got {text!r}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected a non-negative integer, got {text!r}")
    return value


def _counts(text: str) -> dict[str, int]:
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                              for n in value.values()):
        raise ValueError(f"expected a JSON object of non-negative counts, got {text!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in text.split(",") if name)


_PARSERS = {"state": _state, "planning_time": _seconds, "messages": _count, "bytes": _count,
            "waiting_for": _names, "critical_path": _seconds, "compute": _seconds, "solves": _count,
            "cost": float, "result": json.loads,
            "rejected": _counts, "shed": _counts}
