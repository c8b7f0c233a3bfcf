"""One mission, from an accepted goal to a verified result: the decisions, without ROS.

    accepted -> planning -> checking -> executing -> done
                   |            |           |
                   +------------+-----------+--> stopping -> done      (cancel)
    any phase --------------------------------------------> done      (failure: status FAILED or REJECTED)

* **accepted**: every robot's odometry must be fresh (`odom_timeout`), else REJECTED naming the robot. The
  scenario is posed from those states (`mission_scenario`; robots that start closer than r_min by at most
  `separation_tolerance` keep that start separation); data that no plan can satisfy (robots closer still,
  a disconnected communication graph) ends FAILED with the reason, the robots holding still.
* **planning**: one planning run on every agent (`FleetPort.plan`, deadline `plan_timeout`); a failed run
  is retried up to `retries` times once every robot is ready again (`rejoin_timeout`).
* **checking**: the independent checker (`trajectory.checker.check`) re-simulates every robot's inputs and
  measures every constraint of (5.8); a violation above `check_tolerance` ends FAILED.
* **executing**: the robots are released `lead` seconds ahead and followed until T + `settle`; feedback
  gives progress, the largest distance to the target set and the smallest separation so far. Odometry
  older than `odom_timeout` ends FAILED. At the end `fleet.summary.summarize` verifies separation and
  terminal errors against the tolerances: SUCCEEDED only when all hold.
* **stopping** (cancel while executing): every robot gets a braking plan (`fleet.braking`) from its
  current state at the input limit, and the mission waits until every speed is below `rest_speed`
  (at most the braking time + `stop_timeout`). A cancel while planning aborts the run on every agent;
  the robots were at rest and stay so. Either way the result is CANCELED.

Every wait has a deadline, and every outcome a reason. `FleetPort` is what the mission needs of a fleet;
the supervisor node implements it over ROS 2, the tests with an in-process fleet.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from dro_ros.core.topology import TopologyError
from dro_ros.fleet.braking import braking_plan
from dro_ros.fleet.plan import Plan
from dro_ros.fleet.summary import SEPARATION_TOLERANCE, Track, summarize
from dro_ros.mission.goal import GoalError, MissionGoal
from dro_ros.mission.scenario import mission_scenario
from dro_ros.trajectory.checker import check, diagnose
from dro_ros.trajectory.constraints import terminal_position_excess
from dro_ros.trajectory.problem import FleetProblem, ProblemError
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config


class Phase(enum.Enum):
    ACCEPTED = "accepted"
    PLANNING = "planning"
    CHECKING = "checking"
    EXECUTING = "executing"
    STOPPING = "stopping"
    DONE = "done"


TRANSITIONS: dict[Phase, set[Phase]] = {
    Phase.ACCEPTED: {Phase.PLANNING, Phase.DONE},
    Phase.PLANNING: {Phase.CHECKING, Phase.DONE},
    Phase.CHECKING: {Phase.EXECUTING, Phase.DONE},
    Phase.EXECUTING: {Phase.STOPPING, Phase.DONE},
    Phase.STOPPING: {Phase.DONE},
    Phase.DONE: set(),
}


class MissionStatus(enum.Enum):
    """The values of `Mission.Result.status` in `action/Mission.action`."""

    SUCCEEDED = 1
    FAILED = 2
    CANCELED = 3
    REJECTED = 4


@dataclass(frozen=True)
class RobotState:
    """A robot's latest odometry: position and velocity (m,), and its age in seconds."""

    position: np.ndarray
    velocity: np.ndarray
    age: float


@dataclass(frozen=True)
class PlanningOutcome:
    """One planning run: every robot's plan, or the reason it failed (robots named)."""

    plans: dict[str, Plan] = field(default_factory=dict)
    reason: str = ""
    messages: int = 0
    bytes: int = 0
    critical_path: float | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Execution:
    """What was recorded since the release: tracks per robot (times relative to the release) and the
    simulator's running minimum distance of the robots' centres, when one is published. Diff-drive robots
    (`offset` > 0) track a point `offset` ahead of their centre: their centres must stay r_min - 2 offset
    apart (`fleet.diff_drive`); `contacts` counts the simulator's body contacts, when it reports them."""

    tracks: dict[str, Track]
    min_distance: float | None = None
    offset: float = 0.0
    contacts: int | None = None


class FleetPort(Protocol):
    """The fleet as a mission sees it. Times are seconds on one monotonic clock (`now`)."""

    robots: Sequence[str]

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def robot_states(self) -> dict[str, RobotState]: ...

    def plan(self, run_id: str, scenario: dict[str, Any] | None, algorithm: str, timeout: float,
             cancelled: Callable[[], bool]) -> PlanningOutcome:
        """One planning run of `scenario` (a scenario config) with `algorithm` on every agent; None and ""
        mean the fleet's configured problem and algorithm."""

    def wait_ready(self, timeout: float) -> str:
        """Wait until every agent can start a run; returns "" or the reason naming the robots."""

    def release(self, run_id: str, lead: float, scenario: dict[str, Any]) -> None:
        """Start the plans of `run_id` on every robot `lead` seconds from now; recording starts there.
        `scenario` is the problem they solve (published, so a recording holds it)."""

    def halt(self, run_id: str, plans: dict[str, Plan], lead: float) -> None:
        """Replace every robot's plan with `plans` and start them `lead` seconds from now."""

    def execution(self) -> Execution: ...

    def log(self, text: str) -> None:
        """Tell the operator what the mission is waiting for."""


@dataclass(frozen=True)
class MissionSettings:
    """The supervisor's mission parameters (config section `supervisor`), in seconds, metres, m/s."""

    algorithm: str = "path_sweep"
    odom_timeout: float = 1.0
    plan_timeout: float = 600.0
    retries: int = 0
    rejoin_timeout: float = 60.0
    lead: float = 1.0
    settle: float = 1.0
    check_tolerance: float = 1e-6
    position_tolerance: float = 0.05
    velocity_tolerance: float = 0.05
    separation_tolerance: float = SEPARATION_TOLERANCE
    stop_decel: float = 0.0        # m/s^2 for a cancel's braking plans; 0 = the problem's u_bar (else 0.5)
    rest_speed: float = 0.02
    stop_timeout: float = 5.0
    feedback_period: float = 0.5


@dataclass
class MissionFeedback:
    phase: Phase
    elapsed: float = 0.0
    planning_time: float = 0.0
    messages: int = 0
    progress: float = 0.0
    distance_to_goal: float = float("nan")
    min_separation: float = float("inf")


@dataclass
class MissionResult:
    status: MissionStatus
    reason: str
    mission_id: str
    summary: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status is MissionStatus.SUCCEEDED


class _Ended(Exception):
    def __init__(self, status: MissionStatus, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class Mission:
    """One goal (or, with `goal=None`, the fleet config's own problem from its stated initial states)."""

    def __init__(self, mission_id: str, goal: MissionGoal | None, base_scenario: dict[str, Any], port: FleetPort,
                 settings: MissionSettings, *, feedback: Callable[[MissionFeedback], None] = lambda f: None,
                 cancel_requested: Callable[[], bool] = lambda: False) -> None:
        self.mission_id, self.goal, self.base_scenario, self.port = mission_id, goal, base_scenario, port
        self.settings, self.publish_feedback, self.cancel_requested = settings, feedback, cancel_requested
        self.phase = Phase.ACCEPTED
        self.started = port.now()
        self.feedback = MissionFeedback(Phase.ACCEPTED)
        self.summary: dict[str, Any] = {"mission_id": mission_id}
        if goal is not None:
            self.summary["goal"] = goal.describe()

    # --- the state machine --------------------------------------------------------------------------
    def run(self) -> MissionResult:
        self._feedback(force=True)
        try:
            scenario = self._pose()
            self._enter(Phase.PLANNING)
            plans = self._plan(scenario)
            self._enter(Phase.CHECKING)
            self._check(scenario, plans)
            self._enter(Phase.EXECUTING)
            self._execute(scenario.problem, plans)
            status, reason = MissionStatus.SUCCEEDED, ""
        except _Ended as ended:
            status, reason = ended.status, ended.reason
        self._enter(Phase.DONE)
        self.summary["ok"] = status is MissionStatus.SUCCEEDED
        return MissionResult(status, reason, self.mission_id, self.summary)

    def _enter(self, phase: Phase) -> None:
        if phase is not self.phase and phase not in TRANSITIONS[self.phase]:
            raise RuntimeError(f"mission {self.mission_id}: no transition {self.phase.value} -> {phase.value}")
        self.phase = phase
        self._feedback(force=True)

    def _feedback(self, force: bool = False, **values: Any) -> None:
        now = self.port.now()
        for name, value in values.items():
            setattr(self.feedback, name, value)
        self.feedback.phase, self.feedback.elapsed = self.phase, now - self.started
        if force or now - getattr(self, "_last_feedback", -np.inf) >= self.settings.feedback_period:
            self._last_feedback = now
            self.publish_feedback(self.feedback)

    def _cancel_point(self) -> None:
        if self.cancel_requested():
            raise _Ended(MissionStatus.CANCELED, f"canceled while {self.phase.value}; the robots were at rest")

    # --- accepted: pose the problem from live state ---------------------------------------------------
    def _pose(self) -> Scenario:
        if self.goal is None:
            config = self.base_scenario
        else:
            states = self._fresh_states()
            try:
                config = mission_scenario(self.base_scenario, self.goal, states, self.settings.separation_tolerance)
            except GoalError as error:
                raise _Ended(MissionStatus.REJECTED, str(error)) from None
        try:
            scenario = scenario_from_config(config)
        except (ProblemError, TopologyError, ValueError) as error:
            raise _Ended(MissionStatus.FAILED, f"scenario: {error}") from None
        problems = diagnose(scenario.problem)
        if problems:
            raise _Ended(MissionStatus.FAILED, "infeasible from the current states: "
                         + "; ".join(p.reason for p in problems))
        unreachable = _disconnected(scenario)
        if unreachable:
            raise _Ended(MissionStatus.FAILED, unreachable)
        self.scenario_config = config
        return scenario

    def _fresh_states(self) -> np.ndarray:
        states = self.port.robot_states()
        missing = [r for r in self.port.robots if r not in states]
        stale = [f"{r} ({states[r].age:.1f} s old)" for r in self.port.robots
                 if r in states and states[r].age > self.settings.odom_timeout]
        if missing or stale:
            raise _Ended(MissionStatus.REJECTED, "no fresh odometry (within %g s) from %s" % (
                self.settings.odom_timeout, ", ".join(missing + stale)))
        return np.stack([np.concatenate([states[r].position, states[r].velocity]) for r in self.port.robots])

    # --- planning -----------------------------------------------------------------------------------
    def _plan(self, scenario: Scenario) -> dict[str, Plan]:
        if self.goal is not None:
            scenario, algorithm = self.scenario_config, self.goal.algorithm or self.settings.algorithm
        else:
            scenario, algorithm = None, ""  # the configured problem, whose solvers the agents built at start-up
        self.summary["algorithm"] = algorithm or self.settings.algorithm
        failures: list[str] = []
        for attempt in range(self.settings.retries + 1):
            self._cancel_point()
            run_id = f"{self.mission_id}/{attempt}"
            started = self.port.now()
            outcome = self.port.plan(run_id, scenario, algorithm, self.settings.plan_timeout, self.cancel_requested)
            self._cancel_point()
            if outcome.ok:
                self.summary.update(run_id=run_id, attempts=attempt + 1, planning_time=self.port.now() - started,
                                    messages=outcome.messages, bytes=outcome.bytes)
                if outcome.critical_path is not None:
                    self.summary["critical_path"] = outcome.critical_path
                if failures:
                    self.summary["recovered_from"] = failures
                self._feedback(force=True, planning_time=self.summary["planning_time"], messages=outcome.messages)
                return outcome.plans
            failures.append(f"planning run {run_id} failed: {outcome.reason}")
            if attempt < self.settings.retries:
                self.port.log(f"planning run {run_id} failed: {outcome.reason}; waiting up to "
                              f"{self.settings.rejoin_timeout:g} s for every robot to rejoin")
                missing = self.port.wait_ready(self.settings.rejoin_timeout)
                if missing:
                    failures.append(missing)
                    break
        raise _Ended(MissionStatus.FAILED, "; ".join(failures))

    # --- checking -----------------------------------------------------------------------------------
    def _check(self, scenario: Scenario, plans: dict[str, Plan]) -> None:
        missing = [r for r in self.port.robots if r not in plans]
        if missing:
            raise _Ended(MissionStatus.FAILED, "no plan from " + ", ".join(missing))
        checked = check(scenario.problem, np.stack([plans[r].input for r in self.port.robots]))
        self.summary.update(objective=checked.objective, max_violation=checked.max_violation)
        if checked.max_violation > self.settings.check_tolerance:
            worst = max(checked.violations, key=checked.violations.get)
            raise _Ended(MissionStatus.FAILED, f"checker: {worst} violated by {checked.max_violation:.3g} "
                                               f"({checked.worst[worst]})")

    # --- executing ----------------------------------------------------------------------------------
    def _execute(self, problem: FleetProblem, plans: dict[str, Plan]) -> None:
        s = self.settings
        self.port.release(self.summary["run_id"], s.lead, self.scenario_config)
        release = self.port.now() + s.lead
        self.summary["accepted_to_motion"] = release - self.started  # the goal's latency until the robots move
        duration = plans[self.port.robots[0]].duration
        end = release + duration + s.settle
        closest = np.inf
        while self.port.now() < end:
            if self.cancel_requested():
                self._stop(problem)
            states = self.port.robot_states()
            t = self.port.now() - release
            stale = [r for r in self.port.robots
                     if t > s.odom_timeout and (r not in states or states[r].age > s.odom_timeout)]
            if stale:
                tracks = self.port.execution().tracks  # the last odometry's own stamp says since when
                raise _Ended(MissionStatus.FAILED, "odometry stale: " + ", ".join(
                    f"{r} (since t = {tracks[r].times[-1]:.2f} s)" if r in tracks and len(tracks[r].times)
                    else f"{r} (never heard)" for r in stale))
            positions = np.stack([states[r].position for r in self.port.robots])
            if t >= 0:
                closest = min(closest, _min_separation(positions))
            self._feedback(progress=float(np.clip(t / duration, 0.0, 1.0)), min_separation=float(closest),
                           distance_to_goal=_distance_to_goal(problem, positions))
            self.port.sleep(0.05)
        record = self.port.execution()
        index = {r: i for i, r in enumerate(self.port.robots)}
        summary = summarize(problem, {index[r]: p for r, p in plans.items()},
                            {index[r]: track for r, track in record.tracks.items()},
                            None if record.offset else record.min_distance,
                            position_tolerance=s.position_tolerance, velocity_tolerance=s.velocity_tolerance,
                            separation_tolerance=s.separation_tolerance)
        self.summary.update(summary.as_dict())
        self.summary.pop("ok", None)
        problems = summary.problems + self._bodies(problem, record)
        if problems:
            raise _Ended(MissionStatus.FAILED, "; ".join(problems))

    def _bodies(self, problem: FleetProblem, record: Execution) -> list[str]:
        """Body contacts (none allowed) and, for diff-drive robots, the centres' separation against
        r_min - 2 offset; into the summary, with what is wrong."""
        problems = []
        if record.contacts is not None:
            self.summary["contacts"] = record.contacts
            if record.contacts:
                problems.append(f"{record.contacts} body contact(s)")
        if record.offset and record.min_distance is not None:
            required = problem.r_min - 2 * record.offset
            self.summary.update(min_centre_separation=record.min_distance, r_centre=required)
            if record.min_distance < required - self.settings.separation_tolerance:
                problems.append(f"centre separation {record.min_distance:.4f} m < {required:g} m - "
                                f"{self.settings.separation_tolerance}")
        return problems

    def _stop(self, problem: FleetProblem) -> None:
        self._enter(Phase.STOPPING)
        s = self.settings
        decel = s.stop_decel or problem.max_input or 0.5
        states = self.port.robot_states()
        plans = {r: braking_plan(r, states[r].position + s.lead * states[r].velocity, states[r].velocity,
                                 decel=decel, step=problem.step, run_id=f"{self.mission_id}/stop")
                 for r in self.port.robots}
        self.port.halt(f"{self.mission_id}/stop", plans, s.lead)
        braking = max(p.duration for p in plans.values())
        deadline = self.port.now() + s.lead + braking + s.stop_timeout
        while self.port.now() < deadline:
            states = self.port.robot_states()
            fastest = max(float(np.linalg.norm(states[r].velocity)) for r in self.port.robots)
            self._feedback()
            if self.port.now() > deadline - s.stop_timeout and fastest <= s.rest_speed:
                raise _Ended(MissionStatus.CANCELED, f"canceled while executing; every robot at rest "
                                                     f"(braking at {decel:g} m/s^2 for {braking:.2f} s)")
            self.port.sleep(0.05)
        raise _Ended(MissionStatus.CANCELED, f"canceled while executing; a robot still moves faster than "
                                             f"{s.rest_speed} m/s {s.stop_timeout:g} s after its braking plan ended")


def _disconnected(scenario: Scenario) -> str:
    graph = scenario.graph
    reached = [i for i, hops in enumerate(graph.hop_distances(0)) if hops >= 0]
    if len(reached) == graph.n:
        return ""
    cut = sorted(set(range(graph.n)) - set(reached))
    return f"communication graph disconnected at the current positions: robots {cut} cannot reach robot 0"


def _min_separation(positions: np.ndarray) -> float:
    if len(positions) < 2:
        return float("inf")
    gaps = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    return float(gaps[np.triu_indices(len(positions), 1)].min())


def _distance_to_goal(problem: FleetProblem, positions: np.ndarray) -> float:
    """max_i of the distance from s_i to robot i's terminal set (eq. 5.15, or the fixed position)."""
    return max(max(0.0, float(terminal_position_excess(t, s))) for t, s in zip(problem.terminals, positions))


