"""A COHDA participant (Hinrichs, Lehnhoff, Sonnenschein: "COHDA", Sec. 2.3).

Agent a_i keeps its perceived configuration Sigma_i (`memory.system_config`) and its best-known
configuration Sigma*_i (`memory.solution_candidate`). On every message from a neighbour a_k carrying
(Sigma_k, Sigma*_k):

1. update (perceive): merge Sigma_k into Sigma_i, a state sigma_y replacing the held one only if it is
   newer (higher counter lambda_y); replace Sigma*_i by Sigma*_k if that is better; and if the
   updated Sigma_i is better than Sigma*_i, it becomes Sigma*_i.
2. choose: pick the schedule w_ij minimising eq. 2, z_i = alpha_i z^1 + (1 - alpha_i) Pi_i(w_ij), with
   the other agents' states taken from Sigma_i. If Sigma_i with this choice beats Sigma*_i by eq. 3,
   it becomes Sigma*_i too; otherwise a_i reverts to its state in Sigma*_i. A changed selection is a
   new state (counter + 1).
3. publish: if Sigma_i or Sigma*_i changed, send both to every neighbour.

An agent perceives each message on arrival but chooses and publishes once on everything perceived
meanwhile, as the paper's agents act once per simulation step: by default (`reaction_delay` = 0) when
its inbox is empty (`on_inbox_drained`: everything queued for it is perceived first), otherwise
`reaction_delay` after the first news.

"Better" is the order of `Objective.better`: more states first, then the lower value of eq. 3, then a
content tie-break, so any two agents rank any two configurations alike. Because every change of
Sigma*_i is published and a received Sigma*_k is adopted when better, all agents hold the same
Sigma*_i once nothing is in transit (at quiescence, or at detected termination).

Termination: in-process the run ends at quiescence (the container sees that nothing is left to do). With
`Start.detect_termination` the agents run weight throwing (`dro_ros.resource.termination`): each
`Update` carries credit, a passive agent returns its credit to its parent `credit_delay` (virtual or
wall) seconds after its last handler, and the root floods `Stop` when it holds all credit again, so
every agent sets `finished` with no observer, as over ROS.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta, MessageRejected, TimerHandle
from dro_ros.resource.cohda.configuration import Configuration, Objective, PerformanceFunction, TargetParams, equal
from dro_ros.resource.cohda.messages import Start, Update, pack, unpack
from dro_ros.resource.termination import Credit, Stop, WeightThrowing

ScheduleProvider = Callable[["WorkingMemory"], Any]
"""A callable schedule set: `(memory) -> (n, q) array-like`, asked at every decision."""


class CohdaStatus(enum.Enum):
    IDLE = "idle"                # has not heard of a run
    RUNNING = "running"          # taking part (in-process without detection it stays so until quiescence)
    TERMINATED = "terminated"    # termination detected and Stop received
    FAILED = "failed"            # bad input here or elsewhere (Stop with the error)


@dataclass
class WorkingMemory:
    """What the agent knows (names as in the reference package)."""

    target_params: TargetParams | None = None
    system_config: Configuration | None = None       # Sigma_i
    solution_candidate: Configuration | None = None  # Sigma*_i


@dataclass(frozen=True)
class CohdaResult:
    """An agent's anytime result: its best-known configuration Sigma*_i and how it got there."""

    participant_id: int
    status: CohdaStatus
    participant_ids: np.ndarray  # agents in Sigma*_i, ascending
    solution: np.ndarray         # their schedules, one row each
    aggregate: np.ndarray        # column sum: the aggregate schedule
    objective: float             # z^1 of Sigma*_i: the weighted L1 distance to the target (eq. 1)
    rating: float                # eq. 3 over the states in Sigma*_i
    selected: int                # index of this agent's schedule in its set (-1 if not in Sigma*_i)
    iterations: int              # decisions taken (perceive-choose-publish cycles)
    error: str


class CohdaParticipant:
    """One COHDA agent; see the module docstring. Built by `create_cohda_participant`."""

    def __init__(self, participant_id: int, schedules: np.ndarray | ScheduleProvider, *,
                 performance: PerformanceFunction | None = None, alpha: float = 1.0,
                 penalty: Callable[[np.ndarray], float] | Sequence[float] | None = None,
                 reaction_delay: float = 0.0, credit_delay: float = 0.0) -> None:
        self.participant_id = participant_id
        self.schedules = schedules
        self.performance = performance
        self.alpha = alpha
        self.penalty = penalty
        self.reaction_delay = reaction_delay
        self.credit_delay = credit_delay
        self.memory = WorkingMemory()
        self.status = CohdaStatus.IDLE
        self.iterations = 0
        self.error = ""
        self.initial: Start | None = None
        self.fixed_schedules: np.ndarray | None = None if callable(schedules) else checked_schedules(schedules, participant_id)
        self._penalties = None if self.fixed_schedules is None else self._penalties_of(self.fixed_schedules)
        self.objective: Objective | None = None  # set when the run's target is known
        self._wire_target: np.ndarray | None = None  # (2, q): target and weights as sent
        self._detector: WeightThrowing | None = None
        self._neighbours: list[str] | None = None
        self._counter = 0
        self._chosen: dict[int, int] = {}  # own counter -> index of the schedule selected with it
        self._timer: TimerHandle | None = None    # pending return of termination credit
        self._pending: TimerHandle | None = None  # pending decision (with a reaction delay)
        self._news = False  # perceived a change not yet decided on (without a reaction delay)

    def schedule_index(self, counter: int) -> int:
        """Index in the schedule set of this agent's state with `counter` (-1 if unknown)."""
        return self._chosen.get(counter, -1)

    def initiate(self, start: Start) -> None:
        """Make this agent the one that starts the run (at `on_start`)."""
        self.initial = start

    # --- carrier hooks ---------------------------------------------------------------------------
    def on_start(self, carrier: Carrier) -> None:
        if self.initial is not None:
            self.on_exchange_message(carrier, self.initial, None)

    def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta | None) -> None:
        if self.status in (CohdaStatus.TERMINATED, CohdaStatus.FAILED):
            return
        if self._neighbours is None:
            self._neighbours = carrier.others()
        sender = meta.sender if meta is not None else carrier.get_address()
        try:
            if isinstance(content, Stop):
                self._stop(carrier, content.reason, sender)
                return
            if isinstance(content, Start):
                if meta is None and self.status is not CohdaStatus.IDLE:
                    raise ValueError(f"participant {self.participant_id}: its own start: it already joined a run "
                                     f"through an update that arrived before it started")
                self._join(content.target, content.weights, content.detect_termination, sender)
                if self._detector is not None:
                    self._detector.start_as_root()
                self._decide()
                self._publish(carrier)
            elif isinstance(content, Update):
                self._on_update(carrier, content, sender)
            elif isinstance(content, Credit) and self._detector is not None:
                self._detector.on_credit(sender, content.credit)
            else:
                return
        except MessageRejected:
            raise
        except ValueError as error:
            self._fail(carrier, error)
            raise
        self._after_work(carrier)

    # --- the three steps -------------------------------------------------------------------------
    def _on_update(self, carrier: Carrier, message: Update, sender: str) -> None:
        """Every check of the message comes before the first change of this agent's state."""
        joining = self.status is CohdaStatus.IDLE
        if joining:
            if message.target.ndim != 2 or message.target.shape[0] != 2:
                raise MessageRejected(f"update from {sender}: target: expected shape (2, q), "
                                      f"got {message.target.shape}")
            try:
                params = checked_target(message.target[0], message.target[1], f"update from {sender}")
            except ValueError as error:
                raise MessageRejected(str(error)) from None
            if self.fixed_schedules is not None and self.fixed_schedules.shape[1] != len(params.schedule):
                raise MessageRejected(f"update from {sender}: target: {len(params.schedule)} values, this "
                                      f"participant's schedules have {self.fixed_schedules.shape[1]}")
        elif not equal(message.target, self._wire_target):
            raise MessageRejected(f"update from {sender}: target: differs from the run's target")
        elif (self._detector is not None) != bool(message.credit):
            raise MessageRejected(f"update from {sender}: credit: termination detection is "
                                  f"{'on' if self._detector else 'off'} in this run")
        config, best = unpack(message, message.target.shape[1], sender)
        if joining:
            self._join(message.target[0], message.target[1], bool(message.credit), sender)
        if self._detector is not None:
            self._detector.on_basic(sender, message.credit)
        if not self._perceive(config, best):
            return
        if self.reaction_delay == 0:
            self._news = True
        elif self._pending is None:
            self._pending = carrier.schedule_using(lambda: self._decide_later(carrier), self.reaction_delay)

    def on_inbox_drained(self, carrier: Carrier) -> None:
        """Steps 2 and 3 once everything queued is perceived (without a reaction delay)."""
        if self._news:
            self._news = False
            self._decide_later(carrier)

    def _decide_later(self, carrier: Carrier) -> None:
        """Steps 2 and 3 once per reaction window, on everything perceived meanwhile."""
        self._pending = None
        if self.status is not CohdaStatus.RUNNING:
            return
        try:
            self._decide()
        except ValueError as error:
            self._fail(carrier, error)
            raise
        self._publish(carrier)
        self._after_work(carrier)

    def _perceive(self, config: Configuration, best: Configuration) -> bool:
        """Step 1 (update); returns whether Sigma_i or Sigma*_i changed."""
        memory, objective = self.memory, self.objective
        perceived = memory.system_config.merged(config)
        known = memory.solution_candidate
        if not best.same_states(known) and objective.better(best, known):
            known = best
        if objective.better(perceived, known):
            known = perceived
        changed = perceived is not memory.system_config or known is not memory.solution_candidate
        memory.system_config, memory.solution_candidate = perceived, known
        return changed

    def _decide(self) -> None:
        """Step 2 (choose): best response by eq. 2; keep it if it improves Sigma*_i, else revert."""
        memory, objective, me = self.memory, self.objective, self.participant_id
        schedules, penalties = self._schedule_set()
        perceived = memory.system_config
        row = perceived.position(me)
        base = perceived if row >= 0 else perceived.with_state(me, 0, np.zeros(schedules.shape[1]), self.alpha, 0.0)
        local = self.alpha * objective.distances(base, base.position(me), schedules) / objective.scale
        if self.alpha < 1:
            local = local + (1 - self.alpha) * penalties
        choice = int(np.argmin(local))
        candidate = self._with_own(perceived, row, schedules[choice], (1 - self.alpha) * penalties[choice], choice)
        if objective.better(candidate, memory.solution_candidate):
            memory.system_config = memory.solution_candidate = candidate
        else:
            best = memory.solution_candidate
            kept = best.position(me)
            counter = int(best.counters[kept])
            memory.system_config = self._with_own(perceived, row, best.schedules[kept], float(best.terms[kept, 1]),
                                                  self._chosen.get(counter, -1))
        self.iterations += 1

    def _with_own(self, perceived: Configuration, row: int, schedule: np.ndarray, penalty: float,
                  index: int) -> Configuration:
        """Sigma_i with this agent's state set to `schedule`: a new state (counter + 1) only if it differs."""
        if row >= 0 and equal(perceived.schedules[row], schedule) and perceived.terms[row, 1] == penalty:
            return perceived
        self._counter += 1
        self._chosen[self._counter] = index
        return perceived.with_state(self.participant_id, self._counter, schedule, self.alpha, penalty)

    def _publish(self, carrier: Carrier) -> None:
        """Step 3 (publish): Sigma_i and Sigma*_i to every neighbour."""
        if not self._neighbours:
            return
        credit = self._detector.split(len(self._neighbours)) if self._detector is not None else ""
        message = Update(self.iterations, self._wire_target,
                         *pack(self.memory.system_config, self.memory.solution_candidate), credit)
        for neighbour in self._neighbours:
            carrier.send_to_other(message, neighbour)

    # --- joining, inputs -------------------------------------------------------------------------
    def _join(self, target: np.ndarray, weights: np.ndarray, detect: bool, sender: str) -> None:
        if self.status is not CohdaStatus.IDLE:
            raise MessageRejected(f"participant {self.participant_id}: start from {sender}: already running")
        params = checked_target(target, weights, f"participant {self.participant_id}: start from {sender}")
        self.objective = Objective(params, self.performance)
        self.memory.target_params = params
        self._wire_target = np.stack([params.schedule, params.weights])
        self.memory.system_config = self.memory.solution_candidate = Configuration.empty(len(target))
        self._detector = WeightThrowing() if detect else None
        self.status = CohdaStatus.RUNNING
        self._schedule_set()  # the schedules must fit the target

    def _schedule_set(self) -> tuple[np.ndarray, np.ndarray]:
        schedules = self.fixed_schedules if self.fixed_schedules is not None else checked_schedules(self.schedules(self.memory),
                                                                                  self.participant_id)
        q = len(self.memory.target_params.schedule)
        if schedules.shape[1] != q:
            raise ValueError(f"participant {self.participant_id}: schedules: each has {schedules.shape[1]} "
                             f"values, the target has {q}")
        penalties = self._penalties if self._penalties is not None else self._penalties_of(schedules)
        return schedules, penalties

    def _penalties_of(self, schedules: np.ndarray) -> np.ndarray:
        where = f"participant {self.participant_id}: penalty"
        if self.penalty is None:
            return np.zeros(len(schedules))
        values = np.array([self.penalty(s) for s in schedules] if callable(self.penalty) else self.penalty, float)
        if values.shape != (len(schedules),):
            raise ValueError(f"{where}: {values.size} values for {len(schedules)} schedules")
        if not np.isfinite(values).all():
            raise ValueError(f"{where}: not finite at schedule {int(np.flatnonzero(~np.isfinite(values))[0])}")
        return values

    # --- termination -----------------------------------------------------------------------------
    def _after_work(self, carrier: Carrier) -> None:
        detector = self._detector
        if detector is None or self.status is not CohdaStatus.RUNNING or self._pending is not None or self._news:
            return  # no detection, or not passive: a decision is due
        if detector.is_root:
            if detector.terminated:
                self._stop(carrier, "terminated", None)
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = carrier.schedule_using(lambda: self._return_credit(carrier), self.credit_delay)

    def _return_credit(self, carrier: Carrier) -> None:
        self._timer = None
        passive = self.status is CohdaStatus.RUNNING and self._pending is None and not self._news
        returnable = self._detector.take_returnable() if passive else None
        if returnable is not None:
            parent, credit = returnable
            carrier.send_to_other(Credit(credit), parent)

    def _stop(self, carrier: Carrier, reason: str, sender: str | None) -> None:
        """Termination detected (or a failure): set the status and pass the Stop on once."""
        self.status = CohdaStatus.FAILED if reason.startswith("failed") else CohdaStatus.TERMINATED
        if self.status is CohdaStatus.FAILED and not self.error:
            self.error = reason
        for timer in (self._timer, self._pending):
            if timer is not None:
                timer.cancel()
        self._timer = self._pending = None
        self._news = False
        for neighbour in self._neighbours or ():
            if neighbour != sender:
                carrier.send_to_other(Stop(reason), neighbour)

    def _fail(self, carrier: Carrier, error: ValueError) -> None:
        self.error = f"failed at {carrier.get_address()}: {error}"
        self._stop(carrier, self.error, None)

    # --- results ---------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        if self._detector is not None:
            return self.status in (CohdaStatus.TERMINATED, CohdaStatus.FAILED)
        return self.status is not CohdaStatus.IDLE

    def waiting_for(self) -> list[str]:
        return list(self._neighbours or [])

    def result(self) -> CohdaResult:
        best = self.memory.solution_candidate
        if best is None or len(best) == 0:
            q = 0 if self.memory.target_params is None else len(self.memory.target_params.schedule)
            return CohdaResult(self.participant_id, self.status, np.zeros(0, np.int64), np.zeros((0, q)),
                               np.zeros(q), float("nan"), float("nan"), -1, self.iterations, self.error)
        row = best.position(self.participant_id)
        selected = self.schedule_index(int(best.counters[row])) if row >= 0 else -1
        return CohdaResult(self.participant_id, self.status, best.ids.copy(), best.schedules.copy(),
                           best.aggregate(), self.objective.distance(best), self.objective.rating(best),
                           selected, self.iterations, self.error)


def checked_target(target: Any, weights: Any, where: str) -> TargetParams:
    """The target and weights as float arrays; errors say `where`, the field and the bad entry."""
    schedule = np.atleast_1d(np.asarray(target, dtype=float))
    if schedule.ndim != 1 or schedule.size == 0:
        raise ValueError(f"{where}: target: expected a non-empty vector, got shape {schedule.shape}")
    _finite(schedule, f"{where}: target")
    weight = np.ones_like(schedule) if weights is None else np.atleast_1d(np.asarray(weights, dtype=float))
    if weight.shape != schedule.shape:
        raise ValueError(f"{where}: weights: {weight.size} values for a target of {schedule.size}")
    _finite(weight, f"{where}: weights")
    if (weight < 0).any():
        raise ValueError(f"{where}: weights[{int(np.flatnonzero(weight < 0)[0])}] is negative")
    return TargetParams(schedule, weight)


def checked_schedules(raw: Any, participant_id: int) -> np.ndarray:
    """A schedule set as a non-empty, finite (n, q) float array; errors name the participant and field."""
    where = f"participant {participant_id}: schedules"
    rows = list(raw) if not isinstance(raw, np.ndarray) else raw
    if len(rows) == 0:
        raise ValueError(f"{where}: empty (each participant needs at least one schedule)")
    if not isinstance(rows, np.ndarray):
        lengths = [np.size(r) for r in rows]
        if len(set(lengths)) > 1:
            odd = next(k for k, n in enumerate(lengths) if n != lengths[0])
            raise ValueError(f"{where}[{odd}]: has {lengths[odd]} values, schedules[0] has {lengths[0]}")
    array = np.asarray(rows, dtype=float)
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"{where}: expected an (n, q) array of schedules, got shape {array.shape}")
    _finite(array, where)
    return array


def _finite(values: np.ndarray, where: str) -> None:
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        index = ", ".join(str(int(i)) for i in bad[0])
        raise ValueError(f"{where}[{index}]: {values[tuple(bad[0])]} is not finite")
