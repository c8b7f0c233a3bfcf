"""A schedule: what runs where and when, and which products travel over which links.

Times are seconds relative to the problem's `info_time`. Time-invariant schedules (the "ti" allocator)
have no timeline: their `start` and `duration` are None and a transfer is an average flow.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Compute:
    """`agent` runs `task` during [start, start + duration)."""

    task: str
    agent: str
    start: float | None
    duration: float | None


@dataclass(frozen=True)
class Transfer:
    """`sender` sends the product of task `product` to `receiver` at `bandwidth` bits/s.

    Time-varying: the transfer occupies both agents during [start, start + duration) and `bandwidth`
    is the link rate in the step it starts. Time-invariant: an average flow of `bandwidth` bits/s of
    `product` on its way to task `child`.
    """

    product: str
    sender: str
    receiver: str
    start: float | None
    duration: float | None
    bandwidth: float
    child: str | None = None


@dataclass(frozen=True)
class Schedule:
    """Computations and transfers, each sorted by start time (then agent and name)."""

    computes: tuple[Compute, ...]
    transfers: tuple[Transfer, ...]

    def agent_of(self, task: str) -> str | None:
        """The agent that runs `task`, or None if the task is not done."""
        return next((c.agent for c in self.computes if c.task == task), None)

    @property
    def tasks_done(self) -> frozenset[str]:
        return frozenset(c.task for c in self.computes)

    @property
    def makespan(self) -> float | None:
        """Finish time of the last computation (None without a timeline or without tasks)."""
        ends = [c.start + c.duration for c in self.computes if c.start is not None and c.duration is not None]
        return max(ends) if ends else None


def make_schedule(computes: list[Compute], transfers: list[Transfer]) -> Schedule:
    """A `Schedule` with both lists sorted by (start, agent, name); untimed entries keep their order."""
    def timed(start: float | None) -> float:
        return -1.0 if start is None else start

    return Schedule(
        computes=tuple(sorted(computes, key=lambda c: (timed(c.start), c.agent, c.task))),
        transfers=tuple(sorted(transfers, key=lambda x: (timed(x.start), x.sender, x.receiver, x.product))))
