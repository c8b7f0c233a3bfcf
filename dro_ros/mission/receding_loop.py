"""The receding-horizon loop in one process, on virtual time: plan, switch, execute, re-plan.

The robots are the kinematic `FleetSimulator` with one `TrackingLaw` each (the fleet's simulator and
tracker), stepped at `rate` Hz. Time runs on the fleet's critical-path clock: the first plan is computed
with the clock held (as a one-shot mission plans before it moves); then, for k = 1, 2, ...

1. at t_k - period, read every robot's state; a robot whose agent is silent (`Dropout`) makes this replan
   wait the stall timeout and fail for everyone (`stalled`); from the next replan on it is *dropped*: the
   others plan around its committed plan, and it rejoins at the first replan after it speaks again;
2. predict each robot's state at t_k by simulating its tracker on its committed plan (no disturbance);
   a robot predicted within `reset_tolerance` of its plan starts the window from the plan's own state at
   t_k (so the previous plan, shifted and ended at rest, stays feasible for the new window, and the
   tracker absorbs the small error); one further off (pushed) starts from the prediction;
3. build the communication graph on the predicted positions (unit disk, or the configured edges) of the
   robots not dropped and split it into connected parts;
4. per part, solve the window problem (`mission.receding`) with the algorithm, the robots outside the part
   entering as traffic along their committed plans; the part's critical path is the algorithm's. When the
   graph is split, only the part holding robot k mod N replans at replan k (every part can tell from its
   own members and the agreed replan count); the others keep their committed plans. Parts cannot hear each
   other, so this turn-taking is what makes the traffic the replanning part avoids the plans the others
   actually follow;
5. a part whose solve succeeded within the period switches to its new plans at t_k; a part whose solve
   failed, was proven infeasible, or took longer than the period keeps its committed plans (a fallback,
   counted with its reason).

Pushes move a robot during execution only (`FleetSimulator.push`). The run ends when every robot that is not
dropped has reached its goal and is nearly at rest, or at `duration`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dro_ros.core.topology import Topology, unit_disk
from dro_ros.fleet.plan import Plan
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.fleet.tracker import TrackingLaw
from dro_ros.mission.receding import Disturbance, Dropout, Push, RecedingHorizon, window_config
from dro_ros.trajectory.checker import InfeasibleProblem, require_feasible_data
from dro_ros.trajectory.constraints import terminal_position_excess
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.outcome import FleetResult
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config

Solver = Callable[[Scenario], FleetResult]
REST_SPEED = 0.05   # m/s: a robot slower than this, within its goal tolerance, has arrived


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


@dataclass
class Replan:
    """One replan: planning started at `time` from the measured states, for the switch at `switch`."""

    time: float
    switch: float
    dropped: list[int]
    parts: list[PartOutcome] = field(default_factory=list)
    stalled_on: list[int] = field(default_factory=list)   # silent robots this replan waited for
    waiting: list[list[int]] = field(default_factory=list)  # parts that kept their plans (not their turn)

    @property
    def critical_path(self) -> float:
        """The fleet's time to the plans: the slowest part (parts plan in parallel)."""
        return max((p.critical_path for p in self.parts), default=0.0)

    @property
    def missed_deadline(self) -> bool:
        return bool(self.stalled_on) or any(not p.committed for p in self.parts)

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

    @property
    def succeeded(self) -> bool:
        """Every robot not dropped at the end reached its goal."""
        return all(self.reached[i] is not None for i in self.reached if i not in self.dropped_at_end)

    def summary(self) -> dict[str, Any]:
        planned = [r for r in self.replans[1:] if not r.stalled_on]
        paths = np.array([r.critical_path for r in planned]) if planned else np.zeros(1)
        fallbacks = [f"t={r.time:.2f}: robots {p.robots}: {p.reason}" for r in self.replans for p in r.parts
                     if not p.committed]
        return {
            "algorithm": self.algorithm, "succeeded": self.succeeded, "replans": len(self.replans) - 1,
            "missed_deadlines": sum(r.missed_deadline for r in self.replans[1:]),
            "stalled_replans": sum(bool(r.stalled_on) for r in self.replans),
            "parts_waiting_their_turn": sum(len(r.waiting) for r in self.replans),
            "fallbacks": fallbacks,
            "critical_path_s": {"p50": float(np.percentile(paths, 50)), "p95": float(np.percentile(paths, 95)),
                                "max": float(paths.max())},
            "first_plan_s": self.first_plan_seconds,
            "messages_per_replan": float(np.mean([r.messages for r in planned])) if planned else 0.0,
            "bytes_per_replan": float(np.mean([r.bytes for r in planned])) if planned else 0.0,
            "min_separation_m": self.min_separation, "min_obstacle_distance_m": self.min_clearance,
            "executed_cost": self.executed_cost,
            "reached_s": {str(i): t for i, t in self.reached.items()},
            "final_goal_error_m": self.final_goal_error,
            "dropped_at_end": self.dropped_at_end,
        }


class RecedingLoop:
    """The loop of the module docstring for `mission` (robots at its initial states) on `graph`'s rule."""

    def __init__(self, mission: FleetProblem, horizon: RecedingHorizon, solver: Solver, *, algorithm: str,
                 communication: dict[str, Any], eas: dict[str, float] | None = None,
                 disturbances: tuple[Disturbance, ...] = (), rate: float = 50.0, lag: float = 0.1,
                 gain: float = 2.5, reset_tolerance: float = 0.05) -> None:
        """`reset_tolerance` (m): how far a robot may be predicted from its plan before its window starts
        from the prediction instead of the plan (step 2 of the module docstring)."""
        require_feasible_data(mission)
        self.reset_tolerance = reset_tolerance
        horizon.check_against(mission)
        self.mission, self.horizon, self.solver, self.algorithm = mission, horizon, solver, algorithm
        self.communication, self.eas, self.disturbances = communication, eas, disturbances
        m = mission.dim
        self.sim = FleetSimulator(mission.initial[:, :m], mission.initial[:, m:], lag=lag)
        self.law, self.tick, self.lag = TrackingLaw(gain=gain, lag=lag), 1.0 / rate, lag
        self.plans: list[Plan | None] = [None] * mission.n_agents
        self.starts = np.zeros(mission.n_agents)          # switch time of each robot's committed plan
        self.dropped: set[int] = set()
        self.time = 0.0
        self.records: list[tuple[float, np.ndarray]] = []
        self.reached: dict[int, float | None] = {i: None for i in range(mission.n_agents)}
        self.executed_cost = 0.0
        self.switch_times: list[float] = []
        self._pending: dict[int, Plan] = {}            # plans waiting for their switch time
        self._replans = 0                              # k of the replans so far (the split graph's turns)

    # --- the loop ------------------------------------------------------------------------------------
    def run(self) -> RecedingRun:
        h = self.horizon
        first = self._replan(0.0, 0.0, self.sim.position.copy(), self.sim.velocity.copy())
        if not all(p.committed for p in first.parts):
            reasons = "; ".join(p.reason for p in first.parts if not p.committed)
            raise FirstWindowFailed(f"the first window could not be planned: {reasons}")
        replans = [first]
        self._record()
        while self.time < h.duration - 1e-9 and not self._arrived():
            measured_at, switch = self.time, self.time + h.period
            replan = self._replan(measured_at, switch, *self._window_starts(switch))
            self._advance_to(switch)
            self._switch(replan, switch)
            replans.append(replan)
        positions = np.stack([p for _, p in self.records])
        pairs = np.triu_indices(self.mission.n_agents, 1)
        gaps = np.linalg.norm(positions[:, pairs[0]] - positions[:, pairs[1]], axis=-1)
        obstacle = (float(distances(self.mission.obstacles, positions).min()) if self.mission.obstacles
                    else float("inf"))
        return RecedingRun(
            algorithm=self.algorithm, replans=replans, times=np.array([t for t, _ in self.records]),
            positions=positions, executed_cost=self.executed_cost, reached=dict(self.reached),
            dropped_at_end=sorted(self.dropped), min_separation=float(gaps.min()) if gaps.size else float("inf"),
            min_clearance=obstacle, first_plan_seconds=first.critical_path, switch_times=self.switch_times,
            final_goal_error=[max(0.0, float(terminal_position_excess(t, self.sim.position[i])))
                              for i, t in enumerate(self.mission.terminals)])

    def _replan(self, measured_at: float, switch: float, positions: np.ndarray, velocities: np.ndarray) -> Replan:
        """Steps 1 and 3-5 of the module docstring: plan every part for the switch at `switch`."""
        silent = {d.robot for d in self.disturbances if isinstance(d, Dropout) and d.covers(measured_at)}
        replan = Replan(measured_at, switch, sorted(self.dropped))
        waited = sorted(silent - self.dropped)
        if waited:   # the run waits the stall timeout for them and ends without plans
            replan.stalled_on = waited
            self.dropped |= silent
            return replan
        self.dropped = silent
        active = [i for i in range(self.mission.n_agents) if i not in silent]
        states = np.hstack([positions, _clip_speed(velocities, self.mission.max_speed)])
        parts = [[active[k] for k in part] for part in self._parts(positions[active])]
        turn = self._replans % self.mission.n_agents
        self._replans += 1
        for robots in parts:
            if len(parts) > 1 and turn not in robots:
                replan.waiting.append(robots)   # split graph: not this part's turn (module docstring)
                continue
            replan.parts.append(self._solve_part(robots, states[robots], switch, measured_at))
        return replan

    def _solve_part(self, robots: list[int], initial: np.ndarray, switch: float, measured_at: float) -> PartOutcome:
        others = [j for j in range(self.mission.n_agents) if j not in robots]
        window_times = switch + self.mission.step * np.arange(self.horizon.steps + 1)
        traffic = [self._committed_positions(j, window_times) for j in others]
        name = f"{self.mission.name}@{switch:.2f}"
        try:
            scenario = scenario_from_config(window_config(
                self.mission, self.horizon, robots, initial, traffic, name, edges=self._edges(initial[:, :self.mission.dim]),
                eas=self.eas, guess=self._shifted(robots, switch)))
            problem = scenario.problem
            require_feasible_data(problem)
        except (ValueError, InfeasibleProblem) as error:
            return PartOutcome(robots, False, 0.0, 0, 0, f"window infeasible: {error}")
        started = time.perf_counter()
        result = self.solver(scenario)
        wall = time.perf_counter() - started
        critical = result.critical_path if result.critical_path is not None else wall
        if not result.ok:
            return PartOutcome(robots, False, critical, result.messages, result.bytes,
                               f"{result.status.value}: {result.failure}")
        if switch > 0 and critical > self.horizon.period:
            return PartOutcome(robots, False, critical, result.messages, result.bytes,
                               f"late: critical path {critical:.3f} s > period {self.horizon.period:g} s")
        m = self.mission.dim
        for k, robot in enumerate(robots):
            states = problem.rollout(result.inputs[k], problem.initial[k])
            self._pending[robot] = Plan(f"robot_{robot}", problem.step, states[:, :m], states[:, m:],
                                        result.inputs[k], float(np.sum(result.inputs[k] ** 2)), name)
        if switch == 0:
            self._switch_pending(0.0)
        return PartOutcome(robots, True, critical, result.messages, result.bytes)

    def _shifted(self, robots: list[int], switch: float) -> np.ndarray | None:
        """The warm start: each robot's committed inputs from `switch` on, padded with rest (u = 0) to the
        window; None for the first window."""
        steps, m = self.horizon.steps, self.mission.dim
        if any(self.plans[i] is None for i in robots):
            return None
        guess = np.zeros((len(robots), steps, m))
        for k, i in enumerate(robots):
            offset = int(round((switch - self.starts[i]) / self.mission.step))
            rest = self.plans[i].input[offset:offset + steps]
            guess[k, :len(rest)] = rest
        return guess

    def _switch(self, replan: Replan, switch: float) -> None:
        self._switch_pending(switch)
        self.switch_times.append(switch)

    def _switch_pending(self, switch: float) -> None:
        for robot, plan in self._pending.items():
            self.plans[robot], self.starts[robot] = plan, switch
        self._pending = {}

    # --- graph ---------------------------------------------------------------------------------------
    def _parts(self, positions: np.ndarray) -> list[list[int]]:
        """The connected parts of the graph on `positions` (indices into them)."""
        return Topology.from_edges(len(positions), self._edges(positions)).components()

    def _edges(self, positions: np.ndarray) -> list[tuple[int, int]]:
        if "radius" in self.communication:
            return unit_disk(positions, float(self.communication["radius"])).edges
        raise ValueError("communication: a receding-horizon mission recomputes its graph from positions; "
                         "give {radius: r}")

    # --- execution -----------------------------------------------------------------------------------
    def _committed_positions(self, robot: int, times: np.ndarray) -> np.ndarray:
        plan = self.plans[robot]
        if plan is None:
            return np.repeat(self.sim.position[robot][None], len(times), axis=0)
        return plan.reference_many(times - self.starts[robot])[0]

    def _window_starts(self, switch: float) -> tuple[np.ndarray, np.ndarray]:
        """Step 2: each robot's planned state at `switch`, or its predicted one when that is further than
        `reset_tolerance` from the plan."""
        positions, velocities = self._predict(switch - self.time)
        for i, plan in enumerate(self.plans):
            if plan is None:
                continue
            s, v, _ = plan.reference(switch - self.starts[i])
            if np.linalg.norm(positions[i] - s) <= self.reset_tolerance:
                positions[i], velocities[i] = s, v
        return positions, velocities

    def _predict(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Step 2: the states after `seconds` of undisturbed tracking of the committed plans."""
        copy = FleetSimulator(self.sim.position.copy(), self.sim.velocity.copy(), lag=self.lag)
        copy.command = self.sim.command.copy()
        t = self.time
        while t < self.time + seconds - 1e-9:
            dt = min(self.tick, self.time + seconds - t)
            self._command(copy, t)
            copy.step(dt)
            t += dt
        return copy.position, copy.velocity

    def _command(self, sim: FleetSimulator, t: float) -> None:
        for i, plan in enumerate(self.plans):
            if plan is not None:
                sim.set_command(i, self.law.command(plan.reference(t - self.starts[i]), sim.position[i]))

    def _advance_to(self, end: float) -> None:
        while self.time < end - 1e-9:
            dt = min(self.tick, end - self.time)
            for push in (d for d in self.disturbances if isinstance(d, Push)):
                active = push.time <= self.time < push.time + push.duration
                self.sim.push(push.robot, np.array(push.velocity) if active else np.zeros(self.mission.dim))
            self._command(self.sim, self.time)
            self._charge(dt)
            self.sim.step(dt)
            self.time += dt
            self._record()

    def _charge(self, dt: float) -> None:
        """Executed cost: each plan's ||u(t)||^2 over the time it is followed, per step of the plan."""
        for i, plan in enumerate(self.plans):
            if plan is not None:
                u = plan.reference(self.time - self.starts[i])[2]
                self.executed_cost += float(u @ u) * dt / self.mission.step

    def _record(self) -> None:
        self.records.append((self.time, self.sim.position.copy()))
        speeds = np.linalg.norm(self.sim.velocity, axis=1)
        for i, terminal in enumerate(self.mission.terminals):
            if self.reached[i] is None and speeds[i] <= REST_SPEED and \
                    terminal_position_excess(terminal, self.sim.position[i]) <= self.horizon.goal_tolerance:
                self.reached[i] = self.time

    def _arrived(self) -> bool:
        return all(self.reached[i] is not None for i in range(self.mission.n_agents) if i not in self.dropped)


def _clip_speed(velocities: np.ndarray, v_bar: float | None) -> np.ndarray:
    """A predicted start faster than v_bar (after a push) starts at v_bar in the same direction; the tracker
    absorbs the rest."""
    if v_bar is None:
        return velocities
    speed = np.linalg.norm(velocities, axis=1, keepdims=True)
    return velocities * np.minimum(1.0, v_bar * (1 - 1e-9) / np.maximum(speed, 1e-300))
