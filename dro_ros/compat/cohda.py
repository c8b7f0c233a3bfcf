"""COHDA in the reference package's data model (Hinrichs, Lehnhoff, Sonnenschein 2014, sec. 2.3).

Participant ids are 1-based; a `SystemConfig` (the perceived configuration Sigma_i) maps an id to its
`ScheduleSelection` (schedule and counter lambda); a `SolutionCandidate` (the best-known configuration
Sigma*_i) holds one schedule row per id (row id - 1), the set of ids `present` and its rating `perf`
(higher is better). A participant runs perceive -> decide -> act on each received `WorkingMemory` and
sends its memory to every other participant when anything changed.

dro_ros's own COHDA (`dro_ros.resource.cohda`, faster, with termination detection and a result object)
is the primary API; this module keeps the reference's functions and classes for programs written for it.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dro_ros.compat.algorithm import DistributedAlgorithm, OptimizationMessage


@dataclass(eq=False)
class ScheduleSelection:
    """A participant's selected schedule and its counter (incremented on every change)."""

    schedule: np.ndarray
    counter: int

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ScheduleSelection) and self.counter == other.counter
                and np.array_equal(self.schedule, other.schedule))

    def __hash__(self) -> int:
        return hash((np.asarray(self.schedule, float).tobytes(), self.counter))


@dataclass(eq=False)
class SystemConfig:
    """Sigma_i: participant id -> `ScheduleSelection`."""

    schedule_choices: dict[int, ScheduleSelection] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SystemConfig) and self.schedule_choices == other.schedule_choices

    def __hash__(self) -> int:
        return hash(frozenset(self.schedule_choices.items()))


@dataclass(eq=False)
class SolutionCandidate:
    """Sigma*_i: one schedule row per id (row id - 1), the ids `present`, the rating `perf` (None: not rated)."""

    participant_id: int
    schedules: np.ndarray
    perf: float | None
    present: frozenset[int]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SolutionCandidate) and self.participant_id == other.participant_id
                and self.perf == other.perf and self.present == other.present
                and np.array_equal(self.schedules, other.schedules))

    def __hash__(self) -> int:
        return hash((self.participant_id, np.asarray(self.schedules).tobytes(), self.perf, self.present))


@dataclass(eq=False)
class TargetParams:
    """The target schedule and a weight per interval."""

    schedule: np.ndarray
    weights: np.ndarray

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TargetParams) and np.array_equal(self.schedule, other.schedule)
                and np.array_equal(self.weights, other.weights))

    def __hash__(self) -> int:
        return hash((np.asarray(self.schedule, float).tobytes(), np.asarray(self.weights, float).tobytes()))


@dataclass
class WorkingMemory(OptimizationMessage):
    """What a participant knows and sends: target, Sigma_i, Sigma*_i."""

    target_params: TargetParams | None
    system_config: SystemConfig
    solution_candidate: SolutionCandidate | None
    additional_parameters: dict[str, Any] = field(default_factory=dict)


PerformanceFunction = Callable[[np.ndarray, TargetParams], float]


def cohda_default_performance(cluster_schedule: np.ndarray, target_params: TargetParams) -> float:
    """-sum_t w_t |c_t - sum_i s_it|: minus the weighted L1 distance of the aggregate to the target."""
    aggregate = np.asarray(cluster_schedule, float).sum(axis=0)
    return -float(np.sum(target_params.weights * np.abs(target_params.schedule - aggregate)))


class LocalDecider:
    """How a participant chooses its schedule; `initial_schedule` is its choice before any decision."""

    def initial_schedule(self, memory: WorkingMemory) -> np.ndarray:
        raise NotImplementedError


class DefaultLocalDecider(LocalDecider):
    """Choose the best of a finite schedule set (`schedule_provider(memory)`), first one initially."""

    def __init__(self, schedule_provider: Callable[[WorkingMemory], Any],
                 is_local_acceptable: Callable[[np.ndarray], bool] = lambda _: True) -> None:
        self.schedule_provider = schedule_provider
        self.is_local_acceptable = is_local_acceptable

    def schedules(self, memory: WorkingMemory) -> list[np.ndarray]:
        schedules = [np.asarray(s, dtype=float) for s in self.schedule_provider(memory)]
        if not schedules:
            raise ValueError("schedule_set: the participant has no schedules")
        return schedules

    def initial_schedule(self, memory: WorkingMemory) -> np.ndarray:
        return self.schedules(memory)[0]


class COHDAAlgorithmData(DistributedAlgorithm):
    """A COHDA participant: id, counter, `memory` (a `WorkingMemory`), decider and performance function."""

    def __init__(self, participant_id: int, decider: LocalDecider,
                 performance_function: PerformanceFunction = cohda_default_performance) -> None:
        if not isinstance(participant_id, (int, np.integer)) or participant_id < 1:
            raise ValueError(f"participant_id: need an integer >= 1, got {participant_id!r}")
        self.participant_id = int(participant_id)
        self.counter = 0
        self.memory = WorkingMemory(target_params=None, system_config=SystemConfig(), solution_candidate=None)
        self.performance_function = performance_function
        self.decider = decider
        self._inbox: list[WorkingMemory] = []

    async def on_exchange_message(self, carrier: Any, message_data: WorkingMemory, meta: Any) -> None:
        """Perceive; if Sigma_i or Sigma*_i changed, decide, act and send the memory to every other.

        Memories delivered in the same instant are perceived together and decided on once (the paper's
        agents act once per step): the first call yields to the event loop once and takes the batch.
        """
        self._inbox.append(message_data)
        if len(self._inbox) > 1:
            return  # the call that holds the first message of this batch will perceive this one too
        await asyncio.sleep(0)
        batch, self._inbox = self._inbox, []
        before = (self.memory.system_config, self.memory.solution_candidate)
        sysconfig, candidate = perceive(self, batch)
        if sysconfig != before[0] or candidate != before[1]:
            memory = act(self, *decide(self, self.decider, sysconfig, candidate))
            for other in carrier.others(str(self.participant_id)):
                carrier.send_to_other(memory, other)


def merge_sysconfigs(sysconfig_i: SystemConfig, sysconfig_j: SystemConfig) -> SystemConfig:
    """Per id the selection with the higher counter (i's on ties); `sysconfig_i` itself if it already wins."""
    merged = dict(sysconfig_i.schedule_choices)
    changed = False
    for pid, selection in sysconfig_j.schedule_choices.items():
        held = merged.get(pid)
        if held is None or selection.counter > held.counter:
            merged[pid] = selection
            changed = True
    return SystemConfig(dict(sorted(merged.items()))) if changed else sysconfig_i


def _rated(candidate: SolutionCandidate, perf: PerformanceFunction, target: TargetParams | None) -> SolutionCandidate:
    if candidate.perf is not None:
        return candidate
    return SolutionCandidate(candidate.participant_id, candidate.schedules,
                             perf(candidate.schedules, target), candidate.present)


def merge_candidates(candidate_i: SolutionCandidate, candidate_j: SolutionCandidate | None, participant_id: int,
                     perf_func: PerformanceFunction, target_params: TargetParams | None) -> SolutionCandidate:
    """The better of Sigma*_i and Sigma*_j (Hinrichs et al. sec. 2.3, update step).

    More participants wins; with the same participants the higher perf, then the lower participant id;
    if each has participants the other lacks, a new candidate of `participant_id` joins both (unrated).
    """
    if candidate_j is None:
        return candidate_i
    keys_i, keys_j = candidate_i.present, candidate_j.present
    if keys_i < keys_j:
        return candidate_j
    if keys_i == keys_j:
        rated_i = _rated(candidate_i, perf_func, target_params)
        rated_j = _rated(candidate_j, perf_func, target_params)
        if rated_j.perf > rated_i.perf or (rated_j.perf == rated_i.perf
                                           and rated_j.participant_id < rated_i.participant_id):
            return rated_j
        return candidate_i
    if keys_j - keys_i:
        joined = keys_i | keys_j
        rows = np.zeros((max(joined), candidate_i.schedules.shape[1]))
        for pid in joined:
            rows[pid - 1] = (candidate_i if pid in keys_i else candidate_j).schedules[pid - 1]
        return SolutionCandidate(participant_id, rows, None, frozenset(joined))
    return candidate_i


def perceive(cohda_data: COHDAAlgorithmData, working_memories: list[WorkingMemory]
             ) -> tuple[SystemConfig, SolutionCandidate]:
    """Adopt the target, enter the own initial selection if missing, and merge every received memory."""
    own, memory = cohda_data.participant_id, cohda_data.memory
    sysconfig, candidate = memory.system_config, memory.solution_candidate
    for received in working_memories:
        if memory.target_params is None:
            memory.target_params = received.target_params
        if own not in sysconfig.schedule_choices:
            cohda_data.counter += 1
            initial = np.asarray(cohda_data.decider.initial_schedule(memory), float)
            memory.system_config.schedule_choices[own] = ScheduleSelection(initial, cohda_data.counter)
            sysconfig = SystemConfig(dict(memory.system_config.schedule_choices))
        if candidate is None or own not in candidate.present:
            initial = np.asarray(cohda_data.decider.initial_schedule(memory), float)
            rows = np.zeros((own, initial.size))
            rows[own - 1] = initial
            candidate = memory.solution_candidate = SolutionCandidate(own, rows, None, frozenset([own]))
        sysconfig = merge_sysconfigs(sysconfig, received.system_config)
        candidate = merge_candidates(candidate, received.solution_candidate, own, cohda_data.performance_function,
                                     memory.target_params)
    return sysconfig, candidate


def create_from_updated_sysconf(participant_id: int, sysconfig: SystemConfig,
                                new_schedule: np.ndarray) -> SolutionCandidate:
    """The candidate made of every selection in `sysconfig`, with `participant_id`'s replaced (unrated)."""
    new_schedule = np.asarray(new_schedule, float)
    rows = np.zeros((max(sysconfig.schedule_choices), new_schedule.size))
    for pid, selection in sysconfig.schedule_choices.items():
        rows[pid - 1] = selection.schedule
    rows[participant_id - 1] = new_schedule
    return SolutionCandidate(participant_id, rows, None, frozenset(sysconfig.schedule_choices))


def decide(cohda_data: COHDAAlgorithmData, decider: LocalDecider, sysconfig: SystemConfig,
           candidate: SolutionCandidate) -> tuple[SystemConfig, SolutionCandidate]:
    """Choose the own schedule (the decider's rule) and record a changed selection with counter + 1."""
    if hasattr(decider, "decide"):
        return decider.decide(cohda_data, sysconfig, candidate)
    if not isinstance(decider, DefaultLocalDecider):
        raise NotImplementedError(f"decide: {type(decider).__name__} has no decide(cohda_data, sysconfig, "
                                  f"candidate) method")
    own, memory = cohda_data.participant_id, cohda_data.memory
    best = _rated(candidate, cohda_data.performance_function, memory.target_params)
    chosen = best.schedules[own - 1].copy()
    options = [s for s in decider.schedules(memory) if decider.is_local_acceptable(s)]
    ratings = _ratings(cohda_data, sysconfig, options)
    top = int(np.argmax(ratings)) if options else -1  # the first of equally rated schedules, as a loop would
    if top >= 0 and ratings[top] > best.perf:
        trial = create_from_updated_sysconf(own, sysconfig, options[top])
        best = _rated(trial, cohda_data.performance_function, memory.target_params)
        chosen = options[top]
    record_selection(cohda_data, sysconfig, chosen)
    return sysconfig, best


def _ratings(cohda_data: COHDAAlgorithmData, sysconfig: SystemConfig, options: list[np.ndarray]) -> np.ndarray:
    """The performance of the candidate with each option as the own schedule (all at once for the default
    performance: minus the weighted L1 distance of (others' aggregate + option) to the target)."""
    if not options:
        return np.zeros(0)
    own, target = cohda_data.participant_id, cohda_data.memory.target_params
    if cohda_data.performance_function is cohda_default_performance:
        others = create_from_updated_sysconf(own, sysconfig, np.zeros_like(options[0])).schedules.sum(axis=0)
        return -(np.abs(target.schedule - (others + np.asarray(options))) * target.weights).sum(axis=1)
    return np.array([cohda_data.performance_function(create_from_updated_sysconf(own, sysconfig, s).schedules,
                                                     target) for s in options])


def record_selection(cohda_data: COHDAAlgorithmData, sysconfig: SystemConfig, schedule: np.ndarray) -> None:
    """Enter `schedule` as the own selection, with counter + 1, if it differs from the held one."""
    held = sysconfig.schedule_choices.get(cohda_data.participant_id)
    if held is None or not np.array_equal(schedule, held.schedule):
        cohda_data.counter += 1
        sysconfig.schedule_choices[cohda_data.participant_id] = ScheduleSelection(schedule, cohda_data.counter)


def act(cohda_data: COHDAAlgorithmData, new_sysconfig: SystemConfig, new_candidate: SolutionCandidate) -> WorkingMemory:
    """Store Sigma_i and Sigma*_i in the memory and return it (the message to send)."""
    cohda_data.memory.system_config = new_sysconfig
    cohda_data.memory.solution_candidate = new_candidate
    return cohda_data.memory


def create_cohda_start_message(target_schedule: Any, weights: Any = None) -> WorkingMemory:
    """The memory that starts a run: the target (finite, non-empty) and its weights (default 1)."""
    target = np.asarray(target_schedule, dtype=float).reshape(-1)
    if target.size == 0 or not np.all(np.isfinite(target)):
        raise ValueError(f"target_schedule: need a non-empty finite vector, got {target.tolist()}")
    w = np.ones_like(target) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != target.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"weights: need {target.size} finite non-negative values, got {w.tolist()}")
    return WorkingMemory(TargetParams(target, w), SystemConfig(), None)


def create_cohda_participant(participant_id: int, schedule_set: Any,
                             performance_function: PerformanceFunction = cohda_default_performance
                             ) -> COHDAAlgorithmData:
    """A participant choosing among `schedule_set` (a list of schedules or `(memory) -> schedules`)."""
    if callable(schedule_set):
        provider = schedule_set
    else:
        fixed = np.asarray(schedule_set, dtype=float)
        if fixed.ndim != 2 or fixed.shape[0] == 0:
            raise ValueError(f"participant {participant_id}: schedule_set needs at least one schedule "
                             f"(a list of equal-length vectors), got shape {fixed.shape}")
        if not np.all(np.isfinite(fixed)):
            raise ValueError(f"participant {participant_id}: schedule_set contains NaN or infinite values")
        provider = lambda _memory: list(fixed)  # noqa: E731
    return create_cohda_participant_with_decider(participant_id, DefaultLocalDecider(provider), performance_function)


def create_cohda_participant_with_decider(participant_id: int, decider: LocalDecider,
                                          performance_function: PerformanceFunction = cohda_default_performance
                                          ) -> COHDAAlgorithmData:
    """A participant with an explicit decider (e.g. a `LocalSearchDecider` over flexibility corridors)."""
    return COHDAAlgorithmData(participant_id, decider, performance_function)


def cohda_result(actor: COHDAAlgorithmData) -> np.ndarray:
    """The aggregate schedule of the participant's best-known candidate."""
    return actor.memory.solution_candidate.schedules.sum(axis=0)
