"""COHDA's user API, after the reference package: participants, the start message, a whole run.

    actors = [create_cohda_participant(1, [[0.0, 1, 2], [1, 2, 3]]),
              create_cohda_participant(2, [[0.0, 1, 2], [1, 2, 3]])]
    result = await start_distributed_optimization(actors, create_cohda_start_message([1.2, 2.0, 3.0]))
    actors[0].memory.solution_candidate.schedules.sum(axis=0)   # as in the reference; or result.aggregate
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from dro_ros.core.report import RunReport, RunStatus
from dro_ros.core.simple import NetworkModel, run_in_process
from dro_ros.core.topology import Topology
from dro_ros.resource.cohda.configuration import Objective, PerformanceFunction
from dro_ros.resource.cohda.messages import Start
from dro_ros.resource.cohda.participant import CohdaParticipant, CohdaStatus, ScheduleProvider, checked_target


def create_cohda_participant(participant_id: int, schedules: Any | ScheduleProvider,
                             performance_function: PerformanceFunction | None = None, *, alpha: float = 1.0,
                             penalty: Callable[[np.ndarray], float] | Sequence[float] | None = None,
                             reaction_delay: float = 0.0, credit_delay: float = 0.0) -> CohdaParticipant:
    """A COHDA participant.

    `schedules`: its schedule set, an (n, q) array-like or a callable `(memory) -> (n, q)` asked at every
    decision. `performance_function(schedules, target) -> float`, higher is better, replaces the
    weighted L1 distance of eq. 1. `alpha` (eq. 2) weighs the common objective against the local
    `penalty` Pi_i (values per schedule, or a callable on a schedule; should lie in [0, 1]).
    `reaction_delay`: time from the first news to the decision; everything perceived in between is
    decided on at once, as the paper's agents act once per simulation step (0: decide on every message).
    `credit_delay`: idle time before returning termination credit (only with termination detection).
    """
    if isinstance(participant_id, bool) or not isinstance(participant_id, (int, np.integer)):
        raise ValueError(f"participant_id: expected an int, got {participant_id!r}")
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"participant {participant_id}: alpha: expected a number in [0, 1], got {alpha!r}")
    for name, value in (("reaction_delay", reaction_delay), ("credit_delay", credit_delay)):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 <= value < float("inf")):
            raise ValueError(f"participant {participant_id}: {name}: expected a number >= 0, got {value!r}")
    return CohdaParticipant(int(participant_id), schedules, performance=performance_function, alpha=float(alpha),
                            penalty=penalty, reaction_delay=float(reaction_delay), credit_delay=float(credit_delay))


def create_cohda_start_message(target: Any, weights: Any = None, *, detect_termination: bool = False) -> Start:
    """The message that starts a run: the target c (eq. 1) and optional non-negative interval weights."""
    params = checked_target(target, weights, "start message")
    return Start(params.schedule, params.weights, bool(detect_termination))


@dataclass(frozen=True, repr=False)
class CohdaRunResult:
    """The outcome of a whole run: the best configuration found and what it cost."""

    status: RunStatus
    participant_ids: np.ndarray  # ascending
    solution: np.ndarray         # one selected schedule per participant (rows as participant_ids)
    selected: dict[int, int]     # participant id -> index of its selected schedule in its set
    aggregate: np.ndarray        # solution.sum(axis=0)
    objective: float             # weighted L1 distance to the target (eq. 1)
    rating: float                # eq. 3
    agreed: bool                 # every participant ends with this same best configuration
    iterations: int              # decisions over all participants
    messages: int
    simulated_time: float
    wall_time: float
    errors: dict[str, str]
    report: RunReport

    def __repr__(self) -> str:  # short: asyncio.run formats the main task's result
        return (f"CohdaRunResult(status={self.status.value}, objective={self.objective:.6g}, agreed={self.agreed}, "
                f"participants={len(self.participant_ids)}, messages={self.messages}, "
                f"simulated_time={self.simulated_time:.6g})")


async def start_distributed_optimization(actors: Sequence[CohdaParticipant], start: Start, *,
                                         topology: Topology | None = None, network: NetworkModel | None = None,
                                         addresses: Iterable[str] | None = None, max_time: float = float("inf"),
                                         wall_timeout: float = 600.0) -> CohdaRunResult:
    """Run COHDA in process: `actors[0]` receives `start`; the others join as news reaches them.

    `topology` (default complete) fixes who talks to whom, `network` the simulated delays and losses.
    The run ends at quiescence, or, with `start.detect_termination`, when every agent learnt of the
    detected termination. Errors in the inputs are raised before anything runs and name the field.
    """
    actors = list(actors)
    if not actors:
        raise ValueError("actors: empty participant list")
    ids = [actor.participant_id for actor in actors]
    if len(set(ids)) != len(ids):
        raise ValueError(f"actors: participant ids {sorted({i for i in ids if ids.count(i) > 1})} used twice")
    for actor in actors:
        if actor.status is not CohdaStatus.IDLE:
            raise ValueError(f"participant {actor.participant_id}: has already taken part in a run")
        fixed = actor.fixed_schedules
        if fixed is not None and fixed.shape[1] != len(start.target):
            raise ValueError(f"participant {actor.participant_id}: schedules: each has {fixed.shape[1]} values, "
                             f"the target has {len(start.target)}")
    actors[0].initiate(start)
    report = await run_in_process(actors, topology=topology, network=network, addresses=addresses,
                                  problem_id="cohda", max_time=max_time, wall_timeout=wall_timeout)
    return summarize(actors, report)


def summarize(actors: Sequence[CohdaParticipant], report: RunReport) -> CohdaRunResult:
    """The run's best configuration (by the order of `Objective.better`) and its figures."""
    joined = [a for a in actors if a.memory.solution_candidate is not None and len(a.memory.solution_candidate)]
    errors = {address: text for address, text in report.failures.items()}
    if not joined:
        empty = np.zeros(0)
        return CohdaRunResult(report.status, np.zeros(0, np.int64), np.zeros((0, 0)), {}, empty, float("nan"),
                              float("nan"), False, 0, report.messages, report.simulated_time, report.wall_time,
                              errors, report)
    objective: Objective = joined[0].objective
    best = joined[0].memory.solution_candidate
    for actor in joined[1:]:
        if objective.better(actor.memory.solution_candidate, best):
            best = actor.memory.solution_candidate
    agreed = len(joined) == len(actors) and all(a.memory.solution_candidate.same_as(best) for a in actors)
    by_id = {a.participant_id: a for a in actors}
    selected = {int(i): by_id[int(i)].schedule_index(int(c)) if int(i) in by_id else -1
                for i, c in zip(best.ids, best.counters)}
    return CohdaRunResult(report.status, best.ids.copy(), best.schedules.copy(), selected, best.aggregate(),
                          objective.distance(best), objective.rating(best), agreed,
                          sum(a.iterations for a in actors), report.messages, report.simulated_time,
                          report.wall_time, errors, report)


def cohda_agent(**params: Any) -> CohdaParticipant:
    """Factory for one agent process (JSON params), registered as "cohda" in `dro_ros.spec.registry`.

    params: participant_id (int), schedules (list of lists), optional alpha, penalty (list), and
    credit_delay (seconds, default 0.05); the initiating agent also gets `target` (and optional
    `weights`) and starts the run with termination detection, which a multi-process run needs.
    """
    target, weights = params.pop("target", None), params.pop("weights", None)
    params.setdefault("credit_delay", 0.05)
    unknown = sorted(set(params) - {"participant_id", "schedules", "alpha", "penalty", "reaction_delay",
                                      "credit_delay"})
    if unknown:
        raise ValueError(f"unknown COHDA parameter(s): {', '.join(unknown)}")
    if "participant_id" not in params or "schedules" not in params:
        raise ValueError("participant_id and schedules are required")
    actor = create_cohda_participant(**params)
    if target is not None:
        actor.initiate(create_cohda_start_message(target, weights, detect_termination=True))
    return actor
