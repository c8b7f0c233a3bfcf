"""The outcome of a run, shared by the in-process container and the ROS runtime."""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from dro_ros.core.carrier import TrafficStats


class RunStatus(enum.Enum):
    COMPLETED = "completed"        # every agent finished
    QUIESCENT = "quiescent"        # in-process: nothing left to do, yet some agent never finished
    STALLED = "stalled"            # ROS: an unfinished agent heard nothing for `stall_timeout` seconds
    NO_CONTACT = "no_contact"      # ROS: a neighbour's inbox was not discovered within the timeout
    FAILED = "failed"              # an agent's handler raised (a failed local solve, bad input)
    TIME_LIMIT = "time_limit"      # in-process: the virtual clock reached `max_time`
    WALL_TIMEOUT = "wall_timeout"  # the wall-clock budget ran out


@dataclass
class RunReport:
    """Per-agent results, who did not finish (and whom it was waiting for), failures and traffic."""

    status: RunStatus
    wall_time: float
    results: dict[str, Any]
    unfinished: dict[str, list[str]]
    failures: dict[str, str]
    traffic: dict[str, TrafficStats]
    simulated_time: float = 0.0
    contact_time: float = 0.0   # s until every neighbour was heard (the ROS carrier's handshake)

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.COMPLETED

    @property
    def messages(self) -> int:
        return sum(stats.sent for stats in self.traffic.values())

    @property
    def bytes(self) -> int:
        return sum(stats.bytes_sent for stats in self.traffic.values())


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and numpy values as plain JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def collect(carriers: list, status: RunStatus | None, wall_time: float, *, simulated_time: float = 0.0,
            limit_hit: RunStatus | None = None) -> RunReport:
    """Build a report from carriers (`.address`, `.agent`, `.stats`, `.error`).

    Without an explicit `status`: FAILED if a handler raised, else `limit_hit` if given, else
    QUIESCENT when an agent is unfinished, else COMPLETED.
    """
    results, unfinished, failures = {}, {}, {}
    for carrier in carriers:
        agent = carrier.agent
        if hasattr(agent, "result"):
            results[carrier.address] = agent.result()
        if not getattr(agent, "finished", True):
            unfinished[carrier.address] = list(agent.waiting_for()) if hasattr(agent, "waiting_for") else []
        if carrier.error is not None:
            failures[carrier.address] = carrier.error
    if status is None:
        if failures:
            status = RunStatus.FAILED
        elif limit_hit is not None:
            status = limit_hit
        else:
            status = RunStatus.QUIESCENT if unfinished else RunStatus.COMPLETED
    return RunReport(status=status, wall_time=wall_time, results=results, unfinished=unfinished,
                     failures=failures, traffic={c.address: c.stats for c in carriers},
                     simulated_time=simulated_time)
