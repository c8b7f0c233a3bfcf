"""What a trajectory agent reports, and how a fleet run's report becomes one checked result.

Every trajectory agent keeps a *critical-path clock*: the compute time of the longest chain of local
solves that led to its current knowledge. A message carries the sender's clock (`ready`); on receipt
the receiver takes the max, and each local solve adds its duration, measured as the CPU time of the
thread that ran it. With one processor per robot and no latency this is the fleet's elapsed time (the
thesis subtracts latency the same way, Sec. 5.1), and it does not depend on how many cores the
simulating machine has or how many agents shared them.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dro_ros.core.carrier import Carrier
from dro_ros.core.report import RunReport
from dro_ros.trajectory.checker import CheckReport, check
from dro_ros.trajectory.problem import FleetProblem


class FleetStatus(enum.Enum):
    SOLVED = "solved"              # every agent holds a trajectory and the checker found them feasible
    VIOLATED = "violated"          # trajectories exist but the independent checker found a violation
    STAGE_FAILED = "stage_failed"  # a local solve failed or was infeasible (see `failure`)
    INCOMPLETE = "incomplete"      # the run ended without every agent holding a trajectory


@dataclass
class CriticalPath:
    """The per-agent critical-path clock of the module docstring."""

    ready: float = 0.0
    spent: float = 0.0   # this agent's own compute (thread CPU seconds)

    def heard(self, ready: float) -> None:
        self.ready = max(self.ready, ready)

    async def compute(self, carrier: Carrier, function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
        """Run `function` off the event loop through `carrier.compute` and add its thread CPU time to the
        clock; returns (result, seconds)."""
        result, seconds = await self.measure(carrier, function, *args)
        self.ready += seconds
        return result, seconds

    async def measure(self, carrier: Carrier, function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
        """As `compute`, but the caller places the work on the clock itself (only `spent` grows)."""
        def measured() -> tuple[Any, float]:
            started = time.thread_time()
            outcome = function(*args)
            return outcome, time.thread_time() - started

        result, seconds = await carrier.compute(measured)
        self.spent += seconds
        return result, seconds


def agent_names(n: int) -> list[str]:
    """The addresses of a fleet run's agents: robot_<i> for agent i."""
    return [f"robot_{i}" for i in range(n)]


@dataclass
class AgentOutcome:
    """One agent's result: its own inputs u_i(t) (H, m), or why it has none."""

    agent: int
    inputs: np.ndarray | None
    critical_path: float
    compute: float
    solves: int = 0
    failure: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class FleetResult:
    """A fleet solve, distributed or centralized, checked: the numbers every trajectory benchmark reports.
    A centralized solve has one processor (critical path = wall time), no messages, and counts Ipopt
    iterations as its rounds."""

    algorithm: str
    status: FleetStatus
    objective: float
    max_violation: float
    wall_time: float
    critical_path: float
    compute: dict[int, float]
    rounds: int                      # sweep stages, ADMM iterations, or (centralized) Ipopt iterations
    messages: int
    bytes: int
    inputs: np.ndarray | None = field(repr=False, default=None)      # (N, H, m)
    check: CheckReport | None = field(repr=False, default=None)
    failure: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is FleetStatus.SOLVED

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers (no arrays)."""
        return {"algorithm": self.algorithm, "status": self.status.value, "objective": self.objective,
                "max_violation": self.max_violation, "wall_time": self.wall_time,
                "critical_path": self.critical_path, "rounds": self.rounds, "messages": self.messages,
                "bytes": self.bytes, "failure": self.failure}


ROW_COUNTS = ("eas_rounds", "exact_solves")   # counts in `details` that a benchmark row reports


def fleet_row(name: str, result: FleetResult) -> dict[str, Any]:
    """A benchmark row: `result.summary()` under `name`, times with their unit (`wall_s`, `critical_path_s`),
    and the `ROW_COUNTS` the result has."""
    row = result.summary()
    times = {"wall_s": row.pop("wall_time"), "critical_path_s": row.pop("critical_path")}
    return {**row, **times, "algorithm": name, **{key: result.details[key] for key in ROW_COUNTS
                                                 if key in result.details}}


def fleet_result(algorithm: str, problem: FleetProblem, report: RunReport, rounds: int,
                 tolerance: float = 1e-6, details: dict[str, Any] | None = None) -> FleetResult:
    """Assemble the agents' `AgentOutcome`s of `report` (keyed by address) and check them."""
    outcomes = {o.agent: o for o in report.results.values() if isinstance(o, AgentOutcome)}
    failures = [f"agent {o.agent}: {o.failure}" for o in sorted(outcomes.values(), key=lambda o: o.agent)
                if o.failure]
    failures += [f"{address}: {error}" for address, error in sorted(report.failures.items())]
    common = dict(algorithm=algorithm, wall_time=report.wall_time,
                  critical_path=max((o.critical_path for o in outcomes.values()), default=0.0),
                  compute={o.agent: o.compute for o in outcomes.values()}, rounds=rounds, messages=report.messages,
                  bytes=report.bytes, details=details or {})
    missing = [i for i in range(problem.n_agents) if i not in outcomes or outcomes[i].inputs is None]
    if failures or missing:
        status = FleetStatus.STAGE_FAILED if failures else FleetStatus.INCOMPLETE
        reason = "; ".join(failures) if failures else f"no trajectory for agents {missing} ({report.status.value})"
        return failed_result(status, reason, **common)
    inputs = np.stack([outcomes[i].inputs for i in range(problem.n_agents)])
    return checked_result(problem, inputs, tolerance, **common)


def failed_result(status: FleetStatus, reason: str, **figures: Any) -> FleetResult:
    """A run without a trajectory for every agent: no objective, `failure` says why."""
    return FleetResult(status=status, objective=float("nan"), max_violation=float("nan"), failure=reason, **figures)


def checked_result(problem: FleetProblem, inputs: np.ndarray, tolerance: float = 1e-6, **figures: Any) -> FleetResult:
    """Inputs (N, H, m) for every agent, checked by the independent checker: SOLVED when feasible within
    `tolerance`, else VIOLATED with the worst violations in `failure`. `figures` are the other fields."""
    checked = check(problem, inputs)
    status = FleetStatus.SOLVED if checked.feasible(tolerance) else FleetStatus.VIOLATED
    failure = None if status is FleetStatus.SOLVED else f"checker: {checked.worst}"
    return FleetResult(status=status, objective=checked.objective, max_violation=checked.max_violation,
                       inputs=inputs, check=checked, failure=failure, **figures)
