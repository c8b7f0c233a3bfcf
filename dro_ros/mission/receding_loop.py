"""The receding-horizon policy: plan, switch, execute, re-plan, against a `RecedingPort` (the fleet).

The policy is the same in one process (`mission.receding_sim.SimulatedFleet`: the fleet's simulator and
trackers on virtual time, the fleet's critical-path clock) and over DDS (`ros.receding_fleet.RosRecedingFleet`:
agent processes, real time). The first plan is computed from the measured states and starts `lead` seconds
after it is back (in process: at once, the clock held, as a one-shot mission plans before it moves). Over
DDS the robots may move while it is solved (on a previous mission's plans, which end at rest: e.g. after a
supervisor restart); when a robot's measured state has left its first plan's start by more than
`reset_tolerance` (position, plus `lead` times the velocity's difference), the first window is planned
again from the new measurement, at most `FIRST_WINDOW_ATTEMPTS` times in all, each time once the robots are
at rest (their earlier plans end at rest within a window; waited for at most a window and a second). Then,
for k = 1, 2, ...

1. at t_k - period, read every robot's state; a robot whose agent is silent (`RecedingPort.silent`) makes
   this replan wait the stall timeout and fail for everyone (`stalled`); from the next replan on it is
   *dropped*: the others plan around its committed plan, and it rejoins at the first replan after it
   speaks again;
2. predict each robot's state at t_k by simulating its tracker on its committed plan (`TrackingModel`, no
   disturbance); a robot predicted within `reset_tolerance` of its plan starts the window from the plan's
   own state at t_k (so the previous plan, shifted and ended at rest, stays feasible for the new window,
   and the tracker absorbs the small error); one further off (pushed) starts from the prediction;
3. build the communication graph on the predicted positions (unit disk, or the configured edges) of the
   robots not dropped and split it into connected parts;
4. per part, solve the window problem (`mission.receding`) with the algorithm, the robots outside the part
   entering as traffic along their committed plans (the parts plan at the same time, on their own robots);
5. a part whose plans are back by t_k - lead switches to them at t_k; a part whose solve failed, was
   reported infeasible, or came back later keeps its committed plans (a fallback, counted with its reason).
   When the graph is split, the parts cannot hear each other: each avoided the others' *committed* plans,
   not their new ones. So the new plans are committed part by part in turn order, starting with the part
   holding robot k mod N at replan k, and a part's new plans are committed only if they keep the traffic
   separation from every new plan already committed at this replan (at the window's samples); otherwise
   the part is *deferred* and keeps its committed plans, which every committed part avoided. Every part is
   first in turn within N replans. The parts of one replan plan as one run (they involve disjoint robots),
   so that one switch names every robot that takes up a new plan;

The switch times are t_k = t_0 + k period and the period is a whole number of steps (checked), so every
window starts at a sample of the committed plans (where they keep the window's sampled clearance). The
run ends when every robot that is not dropped has reached its goal and is nearly at rest, or `duration`
after the first switch. The figures (separation, obstacle distance, goals reached) are measured on the
executed track the port records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dro_ros.core.topology import Topology, unit_disk
from dro_ros.fleet.plan import Plan
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.fleet.tracker import TrackingLaw
from dro_ros.mission.receding import RecedingHorizon, window_config
from dro_ros.trajectory.checker import InfeasibleProblem, require_feasible_data
from dro_ros.trajectory.constraints import terminal_position_excess
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config

REST_SPEED = 0.05   # m/s: a robot slower than this, within its goal tolerance, has arrived
FIRST_WINDOW_ATTEMPTS = 3   # first windows planned before the mission fails because the robots kept moving
REST_WAIT_MARGIN = 1.0      # s: waited for robots to come to rest past a window's length, before a first window again
REST_POLL = 0.1             # s between two looks at whether the robots are at rest


class FirstWindowFailed(RuntimeError):
    """The mission's first window has no plan: nothing to start from (the reason names the part)."""


@dataclass
class PartOutcome:
    """One connected part's window solve in one replan."""

    robots: list[int]
    committed: bool
    critical_path: float
    messages: int
    bytes: int
    reason: str = ""                  # why it fell back (empty when committed)
    deferred: bool = False            # planned in time, but its new plans conflict with an earlier part's


@dataclass
class Replan:
    """One replan: planning started at `time` from the measured states, for the switch at `switch`."""

    time: float
    switch: float
    dropped: list[int]                # the robots dropped as it planned (the others planned around them)
    parts: list[PartOutcome] = field(default_factory=list)
    stalled_on: list[int] = field(default_factory=list)   # silent robots this replan waited for
    attempts: int = 1                 # the first window: times it was planned (the robots moved meanwhile)

    @property
    def critical_path(self) -> float:
        """The fleet's time to the plans: the slowest part (parts plan in parallel)."""
        return max((p.critical_path for p in self.parts), default=0.0)

    @property
    def missed_deadline(self) -> bool:
        """The replan stalled, or a part failed or was late (a deferred part planned in time)."""
        return bool(self.stalled_on) or any(not p.committed and not p.deferred for p in self.parts)

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.parts)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.parts)


@dataclass
class RecedingRun:
    """What a receding-horizon mission did: every replan, the executed tracks and the figures of merit."""

    algorithm: str
    replans: list[Replan]
    times: np.ndarray                 # (T,)
    positions: np.ndarray             # (T, N, m) executed
    executed_cost: float              # sum over executed plan steps of ||u||^2 (the objective's units)
    reached: dict[int, float | None]  # robot -> time it reached its goal (None: never)
    dropped_at_end: list[int]
    min_separation: float
    min_clearance: float              # the smallest distance to an obstacle (inf without obstacles)
    first_plan_seconds: float
    switch_times: list[float]
    final_goal_error: list[float]     # per robot, metres beyond its terminal set at the end
    final_speed: list[float]          # per robot, m/s at the end
    closest: tuple[float, int, int] | None = None   # when (s after the first switch) and which pair: min_separation

    def dropped_spans(self) -> dict[int, list[list[float | None]]]:
        """Per robot ever dropped, [replan time it was first planned around, replan time it rejoined (None:
        still dropped at the end)] for each time it was dropped."""
        spans: dict[int, list[list[float | None]]] = {}
        for replan in self.replans:
            for robot in replan.dropped:
                if robot not in spans or spans[robot][-1][1] is not None:
                    spans.setdefault(robot, []).append([replan.time, None])
            for robot, robot_spans in spans.items():
                if robot not in replan.dropped and robot_spans[-1][1] is None:
                    robot_spans[-1][1] = replan.time
        return spans

    def unreached(self, goal_tolerance: float) -> dict[int, str]:
        """Robot -> why it did not reach its goal: not within `goal_tolerance` of it at the end, or within
        it but not yet at rest (REST_SPEED) when the mission's time ran out."""
        return {i: (f"ended {self.final_goal_error[i]:.2f} m from its goal" if self.final_goal_error[i] > goal_tolerance
                    else f"in its goal but still moving at {self.final_speed[i]:.2f} m/s when the time ran out")
                for i, t in self.reached.items() if t is None}

    @property
    def succeeded(self) -> bool:
        """Every robot reached its goal. A robot still dropped at the end (silent) counts only if it reached
        its goal on its last plan: a mission whose robots all went silent did not succeed."""
        return all(t is not None for t in self.reached.values())

    def summary(self) -> dict[str, Any]:
        planned = [r for r in self.replans[1:] if not r.stalled_on]
        paths = np.array([r.critical_path for r in planned]) if planned else np.zeros(1)
        fallbacks = [f"t={r.time:.2f}: robots {p.robots}: {p.reason}" for r in self.replans for p in r.parts
                     if not p.committed and not p.deferred]
        return {
            "algorithm": self.algorithm, "succeeded": self.succeeded, "replans": len(self.replans) - 1,
            "missed_deadlines": sum(r.missed_deadline for r in self.replans[1:]),
            "stalled_replans": sum(bool(r.stalled_on) for r in self.replans),
            "stalls": [f"t={r.time:.2f}: robots {r.stalled_on} silent" for r in self.replans if r.stalled_on],
            "dropped_s": {str(i): spans for i, spans in self.dropped_spans().items()},
            "parts_deferred": sum(p.deferred for r in self.replans for p in r.parts),
            "fallbacks": fallbacks,
            "critical_path_s": {"p50": float(np.percentile(paths, 50)), "p95": float(np.percentile(paths, 95)),
                                "max": float(paths.max())},
            "first_plan_s": self.first_plan_seconds,
            "first_window_attempts": self.replans[0].attempts,
            "messages_per_replan": float(np.mean([r.messages for r in planned])) if planned else 0.0,
            "bytes_per_replan": float(np.mean([r.bytes for r in planned])) if planned else 0.0,
            "min_separation_m": self.min_separation, "min_obstacle_distance_m": self.min_clearance,
            "min_separation_at": (None if self.closest is None else
                                  {"t_s": self.closest[0], "robots": list(self.closest[1:])}),
            "executed_cost": self.executed_cost,
            "reached_s": {str(i): t for i, t in self.reached.items()},
            "final_goal_error_m": self.final_goal_error,
            "final_speed_m_s": self.final_speed,
            "dropped_at_end": self.dropped_at_end,
        }


@dataclass(frozen=True)
class TrackingModel:
    """The robots' closed loop as the policy predicts it: `TrackingLaw(gain, lag)` driving a
    `FleetSimulator` velocity loop of time constant `lag`, stepped at `rate` Hz."""

    gain: float = 2.5
    lag: float = 0.1
    rate: float = 50.0

    @property
    def law(self) -> TrackingLaw:
        return TrackingLaw(gain=self.gain, lag=self.lag)


@dataclass(frozen=True)
class WindowRequest:
    """One part's window for a port to plan: `config` (the scenario config an agent receives, parsed as
    `window`) for `robots`, in that order, as run `run_id`."""

    run_id: str
    robots: list[int]
    window: Scenario
    config: dict[str, Any]


@dataclass(frozen=True)
class WindowSolve:
    """A window's solve as a port returns it: every robot's plan (empty when it failed, `reason` says why),
    the critical path (s), the traffic, the port-clock time `ready_at` the plans became available, and the
    robots found silent while it ran (they never took the window up)."""

    plans: dict[int, Plan]
    reason: str
    critical_path: float
    messages: int
    bytes: int
    ready_at: float
    silent: frozenset[int] = frozenset()


class RecedingPort(Protocol):
    """What the policy needs of a fleet. Times are seconds on the port's clock; robots are 0-based indices
    of the mission."""

    lead: float   # s: a switch must be announced this long before it happens

    def now(self) -> float: ...

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every robot's position, velocity and commanded velocity now, (N, m) each."""

    def silent(self) -> set[int]:
        """The robots whose agents do not answer now."""

    def solve(self, requests: list[WindowRequest], deadline: float | None) -> list[WindowSolve]:
        """Plan the parts' windows, at the same time (each part on its own robots); plans later than
        `deadline` (None: the first window, no deadline) are of no use."""

    def switch(self, run_id: str, plans: dict[int, Plan], at: float) -> None:
        """Make `plans` the robots' committed plans from `at` (now or later) on; until then, and for the
        other robots, the plans they follow stay."""

    def run_until(self, t: float) -> None:
        """Let the robots execute until `t`."""

    def track(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The executed record since the first switch: times (T,), positions and velocities (T, N, m); NaN
        where a robot's state was not observed (e.g. its odometry stopped)."""


class RecedingLoop:
    """The policy of the module docstring for `mission` (robots at its initial states) on `port`."""

    def __init__(self, mission: FleetProblem, horizon: RecedingHorizon, port: RecedingPort, *, algorithm: str,
                 communication: dict[str, Any], eas: dict[str, float] | None = None,
                 model: TrackingModel = TrackingModel(), reset_tolerance: float = 0.05) -> None:
        """`reset_tolerance` (m): how far a robot may be predicted from its plan before its window starts
        from the prediction instead of the plan (step 2 of the module docstring)."""
        require_feasible_data(mission)
        horizon.check_against(mission)
        self.mission, self.horizon, self.port, self.algorithm = mission, horizon, port, algorithm
        self.communication, self.eas, self.model, self.reset_tolerance = communication, eas, model, reset_tolerance
        self.plans: list[Plan | None] = [None] * mission.n_agents
        self.starts = np.zeros(mission.n_agents)          # switch time of each robot's committed plan
        self.dropped: set[int] = set()
        self.executed_cost = 0.0
        self.switch_times: list[float] = []
        self._replans = 0                              # k of the replans so far (the split graph's turns)
        self._run = 0                                  # windows sent so far (their run ids)
        self._pending: dict[str, dict[int, Plan]] = {}   # run id -> the plans waiting for their switch time
        self._scanned = 0                              # track samples already searched for arrivals

    # --- the loop ------------------------------------------------------------------------------------
    def run(self) -> RecedingRun:
        h, port = self.horizon, self.port
        first = self._first_window()
        begin = first.switch = port.now() + port.lead
        self._switch(first.switch)
        replans = [first]
        port.run_until(begin)
        reached: dict[int, float | None] = {i: None for i in range(self.mission.n_agents)}
        while port.now() < begin + h.duration - 1e-9 and not self._arrived(reached, begin):
            measured_at = port.now()
            switch = self.switch_times[-1] + h.period   # t_k = t_0 + k period: on the plans' step grid
            replan = self._replan(measured_at, switch, *self._window_starts(switch))
            self._switch(switch)   # announced as soon as the plans are in, taken up at the switch
            port.run_until(switch)
            replans.append(replan)
        end = port.now()
        for replan in replans:   # times from the first switch on
            replan.time, replan.switch = replan.time - begin, replan.switch - begin
        times, positions, velocities = port.track()
        self._arrived(reached, begin)
        for robot in range(self.mission.n_agents):
            self._charge(robot, end)
        pairs = np.triu_indices(self.mission.n_agents, 1)
        gaps = np.linalg.norm(positions[:, pairs[0]] - positions[:, pairs[1]], axis=-1)
        gaps = np.where(np.isnan(gaps), np.inf, gaps)   # an unobserved robot's distances are not judged
        clearances = distances(self.mission.obstacles, positions) if self.mission.obstacles else np.zeros(0)
        obstacle = float(np.min(np.nan_to_num(clearances, nan=np.inf), initial=np.inf))
        final, final_velocity, _ = port.measure()
        return RecedingRun(
            algorithm=self.algorithm, replans=replans, times=times - begin, positions=positions,
            executed_cost=self.executed_cost, reached=reached, dropped_at_end=sorted(self.dropped),
            min_separation=float(gaps.min()) if gaps.size else float("inf"), min_clearance=obstacle,
            closest=_closest(times - begin, gaps, pairs),
            first_plan_seconds=first.critical_path, switch_times=[t - begin for t in self.switch_times],
            final_goal_error=[max(0.0, float(terminal_position_excess(t, final[i])))
                              for i, t in enumerate(self.mission.terminals)],
            final_speed=[float(v) for v in np.linalg.norm(final_velocity, axis=1)])

    def _first_window(self) -> Replan:
        """The first replan, from the measured states, planned again while the robots have left its start
        (the module docstring)."""
        for attempt in range(1, FIRST_WINDOW_ATTEMPTS + 1):
            if attempt > 1:
                self._until_at_rest()
            positions, velocities, _ = self.port.measure()
            first = self._replan(self.port.now(), None, positions, velocities)
            if not all(p.committed or p.deferred for p in first.parts):   # a deferred part waits at rest
                reasons = "; ".join(p.reason for p in first.parts if not p.committed)
                raise FirstWindowFailed(f"the first window could not be planned: {reasons}")
            moved = self._left_start(*self.port.measure()[:2])
            if not moved:
                first.attempts = attempt
                return first
            self._pending.clear()
        raise FirstWindowFailed(
            f"the robots kept moving while the first window was planned ({FIRST_WINDOW_ATTEMPTS} attempts): "
            + ", ".join(f"robot {i} {d:.3f} m off its plan's start" for i, d in sorted(moved.items())))

    def _until_at_rest(self) -> None:
        """Before planning a first window again: let the robots finish the plans they still fly (an earlier
        mission's, which end at rest within one window), for at most a window and `REST_WAIT_MARGIN`."""
        limit = self.port.now() + self.horizon.steps * self.mission.step + REST_WAIT_MARGIN
        while self.port.now() < limit:
            _, velocities, commands = self.port.measure()
            if max(np.max(np.linalg.norm(velocities, axis=1)), np.max(np.linalg.norm(commands, axis=1))) < REST_SPEED:
                return
            self.port.run_until(min(limit, self.port.now() + REST_POLL))

    def _left_start(self, positions: np.ndarray, velocities: np.ndarray) -> dict[int, float]:
        """Robot -> how far its state is from its pending plan's start, ||s - s_0|| + lead ||v - v_0||, for
        the robots further than `reset_tolerance`."""
        far = {}
        for plans in self._pending.values():
            for i, plan in plans.items():
                off = float(np.linalg.norm(positions[i] - plan.position[0])
                            + self.port.lead * np.linalg.norm(velocities[i] - plan.velocity[0]))
                if off > self.reset_tolerance:
                    far[i] = off
        return far

    def _replan(self, measured_at: float, switch: float | None, positions: np.ndarray,
                velocities: np.ndarray) -> Replan:
        """Steps 1 and 3-5 of the module docstring: plan every part for the switch at `switch` (None: the
        first window, switched as soon as it is back)."""
        silent = self.port.silent()
        waited = sorted(silent - self.dropped)
        if not waited:
            self.dropped = silent
        replan = Replan(measured_at, measured_at if switch is None else switch, sorted(self.dropped))
        if waited:   # the run waits the stall timeout for them and ends without plans
            replan.stalled_on = waited
            self.dropped |= silent
            return replan
        active = [i for i in range(self.mission.n_agents) if i not in silent]
        states = np.hstack([positions, _clip_speed(velocities, self.mission.max_speed)])
        parts = [[active[k] for k in part] for part in self._parts(positions[active])]
        n, turn = self.mission.n_agents, self._replans % self.mission.n_agents
        self._replans += 1
        parts.sort(key=lambda robots: min((i - turn) % n for i in robots))   # turn order: robot k mod N first
        self._run += 1
        run_id = f"w{self._run}"   # one run per replan, its parts on disjoint robots: one switch names them all
        posed = [self._pose(run_id, robots, states[robots], switch, measured_at, positions) for robots in parts]
        deadline = None if switch is None else switch - self.port.lead
        requests = [request for request in posed if isinstance(request, WindowRequest)]
        solved = iter(self.port.solve(requests, deadline))   # one result per request, in order
        accepted: dict[int, Plan] = {}
        for request in posed:
            if isinstance(request, PartOutcome):   # its window could not be posed
                replan.parts.append(request)
                continue
            result = next(solved)
            outcome, plans = self._outcome(request, result, deadline, measured_at)
            found = result.silent
            if found:   # found silent by this replan's window: it stalled on them (step 1)
                replan.stalled_on = sorted(set(replan.stalled_on) | found)
                self.dropped |= found
            conflict = self._conflict(plans, accepted) if outcome.committed else ""
            if conflict:
                outcome.committed, outcome.deferred, outcome.reason = False, True, f"deferred: {conflict}"
            elif outcome.committed:
                accepted.update(plans)
                self._pending.setdefault(run_id, {}).update(plans)
            replan.parts.append(outcome)
        return replan

    def _conflict(self, plans: dict[int, Plan], accepted: dict[int, Plan]) -> str:
        """Why `plans` may not be committed beside the new plans `accepted` at this replan (all start at its
        switch): the closest pair of their robots at the window's samples, if nearer than the traffic
        separation; "" when none is."""
        if not plans or not accepted:
            return ""
        times = self.mission.step * np.arange(self.horizon.steps + 1)
        ours = {i: plan.reference_many(times)[0] for i, plan in plans.items()}
        theirs = {j: plan.reference_many(times)[0] for j, plan in accepted.items()}
        separation = self.mission.r_min + self.horizon.traffic_margin
        gap, i, j = min((float(np.linalg.norm(ours[i] - theirs[j], axis=1).min()), i, j) for i in ours for j in theirs)
        if gap >= separation - 1e-9:
            return ""
        return (f"robots {i} and {j} of another part would pass {gap:.3f} m apart (traffic separation "
                f"{separation:g} m); keeps its committed plans")

    def _pose(self, run_id: str, robots: list[int], initial: np.ndarray, switch: float | None, measured_at: float,
              measured: np.ndarray) -> WindowRequest | PartOutcome:
        """The window of one part (step 4), or the part's fallback when its window cannot be posed."""
        others = [j for j in range(self.mission.n_agents) if j not in robots]
        at = measured_at if switch is None else switch
        window_times = at + self.mission.step * np.arange(self.horizon.steps + 1)
        traffic = [self._committed_positions(j, window_times, measured) for j in others]
        name = f"{self.mission.name}@{at - self._origin():.2f}"
        try:
            config = window_config(self.mission, self.horizon, robots, initial, traffic, name,
                                   edges=self._edges(initial[:, :self.mission.dim]), eas=self.eas,
                                   guess=None if switch is None else self._shifted(robots, switch))
            scenario = scenario_from_config(config)
            require_feasible_data(scenario.problem)
        except (ValueError, InfeasibleProblem) as error:
            return PartOutcome(robots, False, 0.0, 0, 0, f"window infeasible: {error}")
        return WindowRequest(run_id, robots, scenario, config)

    @staticmethod
    def _outcome(request: WindowRequest, solved: WindowSolve, deadline: float | None, measured_at: float
                 ) -> tuple[PartOutcome, dict[int, Plan]]:
        """Step 5 for one part: its outcome and its plans (empty unless they came back in time)."""
        outcome = PartOutcome(request.robots, False, solved.critical_path, solved.messages, solved.bytes,
                              solved.reason)
        if solved.reason:   # its agents are numbered in window order
            outcome.reason += f" (window agent k is robot {request.robots}[k])"
            return outcome, {}
        if deadline is not None and solved.ready_at > deadline + 1e-9:
            outcome.reason = (f"late: plans back {solved.ready_at - measured_at:.3f} s after the measurement, "
                              f"the switch needs them within {deadline - measured_at:.3f} s")
            return outcome, {}
        outcome.committed = True
        return outcome, solved.plans

    def _origin(self) -> float:
        return self.switch_times[0] if self.switch_times else self.port.now()

    def _shifted(self, robots: list[int], switch: float) -> np.ndarray | None:
        """The warm start: each robot's committed inputs from `switch` on, padded with rest (u = 0) to the
        window; None when a robot has no plan."""
        steps, m = self.horizon.steps, self.mission.dim
        if any(self.plans[i] is None for i in robots):
            return None
        guess = np.zeros((len(robots), steps, m))
        for k, i in enumerate(robots):
            offset = int(round((switch - self.starts[i]) / self.mission.step))
            rest = self.plans[i].input[offset:offset + steps]
            guess[k, :len(rest)] = rest
        return guess

    def _switch(self, switch: float) -> None:
        """Step 5: the parts planned in time switch at `switch`, announced now (at least `lead` ahead); the
        robots follow their committed plans until then."""
        pending, self._pending = self._pending, {}
        for run_id, plans in pending.items():
            self.port.switch(run_id, plans, switch)
            for robot, plan in plans.items():
                self._charge(robot, switch)
                self.plans[robot], self.starts[robot] = plan, switch
        self.switch_times.append(switch)

    def _charge(self, robot: int, until: float) -> None:
        """Executed cost: the committed plan's sum of ||u||^2 per step over the time it was followed,
        int_{start}^{until} ||u(t)||^2 dt / t_s (u piecewise constant per step, 0 after the plan's end)."""
        plan = self.plans[robot]
        if plan is None:
            return
        step = plan.step
        followed = np.clip(until - self.starts[robot] - step * np.arange(len(plan.input)), 0.0, step)
        self.executed_cost += float(np.sum(np.sum(plan.input ** 2, axis=1) * followed) / step)

    # --- graph ---------------------------------------------------------------------------------------
    def _parts(self, positions: np.ndarray) -> list[list[int]]:
        """The connected parts of the graph on `positions` (indices into them)."""
        return Topology.from_edges(len(positions), self._edges(positions)).components()

    def _edges(self, positions: np.ndarray) -> list[tuple[int, int]]:
        if "radius" in self.communication:
            return unit_disk(positions, float(self.communication["radius"])).edges
        raise ValueError("communication: a receding-horizon mission recomputes its graph from positions; "
                         "give {radius: r}")

    # --- prediction ----------------------------------------------------------------------------------
    def _committed_positions(self, robot: int, times: np.ndarray, measured: np.ndarray) -> np.ndarray:
        plan = self.plans[robot]
        if plan is None:
            return np.repeat(measured[robot][None], len(times), axis=0)
        return plan.reference_many(times - self.starts[robot])[0]

    def _window_starts(self, switch: float) -> tuple[np.ndarray, np.ndarray]:
        """Step 2: each robot's planned state at `switch`, or its predicted one when that is further than
        `reset_tolerance` from the plan."""
        positions, velocities = self._predict(switch)
        for i, plan in enumerate(self.plans):
            if plan is None:
                continue
            s, v, _ = plan.reference(switch - self.starts[i])
            if np.linalg.norm(positions[i] - s) <= self.reset_tolerance:
                positions[i], velocities[i] = s, v
        return positions, velocities

    def _predict(self, until: float) -> tuple[np.ndarray, np.ndarray]:
        """Step 2: the states at `until` after undisturbed tracking of the committed plans from now, at the
        model's rate; every planned robot's references at all ticks are read at once, and each tick commands
        them together."""
        position, velocity, command = self.port.measure()
        model, law = self.model, self.model.law
        sim = FleetSimulator(position, velocity, lag=model.lag)
        sim.command = command.copy()
        ticks, t, tick = [], self.port.now(), 1.0 / model.rate
        while t < until - 1e-9:
            ticks.append((t, min(tick, until - t)))
            t += ticks[-1][1]
        planned = [i for i, plan in enumerate(self.plans) if plan is not None]
        times = np.array([t for t, _ in ticks])
        references = [np.stack(r, axis=1) for r in zip(*(self.plans[i].reference_many(times - self.starts[i])
                                                          for i in planned))]   # s, v, a: (ticks, robots, m)
        for k, (_, dt) in enumerate(ticks):
            if planned:
                sim.command[planned] = law.command(tuple(r[k] for r in references), sim.position[planned])
            sim.step(dt)
        return sim.position, sim.velocity

    def _arrived(self, reached: dict[int, float | None], begin: float) -> bool:
        """Updates `reached` (robot -> time after `begin` it was first at rest within its goal tolerance)
        from the executed track; True when every robot not dropped has arrived."""
        times, positions, velocities = self.port.track()
        new = slice(self._scanned, len(times))
        self._scanned = len(times)
        speeds = np.linalg.norm(velocities[new], axis=-1)
        for i, terminal in enumerate(self.mission.terminals):
            if reached[i] is None:
                still = np.nonzero(speeds[:, i] <= REST_SPEED)[0]
                at = [k for k in still if terminal_position_excess(terminal, positions[new][k, i])
                      <= self.horizon.goal_tolerance]
                if at:
                    reached[i] = float(times[new][at[0]] - begin)
        return all(reached[i] is not None for i in range(self.mission.n_agents) if i not in self.dropped)


def _closest(times: np.ndarray, gaps: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]
             ) -> tuple[float, int, int] | None:
    """When (`times`) and between which robots the executed distance `gaps` (T, pairs) was smallest."""
    if not gaps.size:
        return None
    k, p = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
    return float(times[k]), int(pairs[0][p]), int(pairs[1][p])


def _clip_speed(velocities: np.ndarray, v_bar: float | None) -> np.ndarray:
    """A predicted start faster than v_bar (after a push) starts at v_bar in the same direction; the tracker
    absorbs the rest."""
    if v_bar is None:
        return velocities
    speed = np.linalg.norm(velocities, axis=1, keepdims=True)
    return velocities * np.minimum(1.0, v_bar * (1 - 1e-9) / np.maximum(speed, 1e-300))
