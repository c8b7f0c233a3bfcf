"""A `FleetPort` in one process, on virtual time: missions without ROS, for tests and quick experiments.

Planning runs the real distributed algorithm on the in-process carrier (`run_path_sweep`,
`run_branch_sweep`, `run_nc_admm`); execution steps the kinematic `FleetSimulator` with one `TrackingLaw`
per robot at `rate` Hz. `sleep` advances the virtual clock, so a 50 s plan executes in well under a second
of wall time and every run is deterministic.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from dro_ros.fleet.plan import Plan, rolled_out_plan
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.fleet.summary import Track
from dro_ros.fleet.tracker import TrackingLaw
from dro_ros.mission.machine import Execution, PlanningOutcome, RobotState
from dro_ros.trajectory.outcome import FleetResult
from dro_ros.trajectory.scenarios import Scenario, scenario_from_config


class InProcessFleet:
    """Robots `robots` starting at rest at `positions` (N, m)."""

    def __init__(self, robots: Sequence[str], positions: np.ndarray, *, params: dict[str, Any] | None = None,
                 rate: float = 50.0, lag: float = 0.1, gain: float = 2.5) -> None:
        positions = np.asarray(positions, dtype=float)
        self.robots = list(robots)
        self.params = dict(params or {})
        self.sim = FleetSimulator(positions, np.zeros_like(positions), lag=lag)
        self.law = TrackingLaw(gain=gain, lag=lag)
        self.tick = 1.0 / rate
        self.time = 0.0
        self.plans: dict[str, Plan] = {}        # the latest plan of every robot
        self.active: dict[str, Plan] = {}       # the plans being followed
        self.start: float | None = None
        self.samples: dict[str, list[tuple[float, np.ndarray, np.ndarray]]] = {r: [] for r in self.robots}
        self.odometry_stops: dict[str, float] = {}  # robot -> virtual time its odometry stops (fault injection)
        self.runs: list[tuple[str, str]] = []       # (run_id, algorithm) of every planning run
        self.messages: list[str] = []               # what the missions told the operator

    # --- FleetPort -------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        end = self.time + seconds
        while self.time < end - 1e-12:
            self._step(min(self.tick, end - self.time))

    def robot_states(self) -> dict[str, RobotState]:
        return {r: RobotState(self.sim.position[i].copy(), self.sim.velocity[i].copy(),
                              max(0.0, self.time - self.odometry_stops.get(r, np.inf)))
                for i, r in enumerate(self.robots)}

    def plan(self, run_id: str, scenario: dict[str, Any] | None, algorithm: str, timeout: float,
             cancelled: Callable[[], bool]) -> PlanningOutcome:
        self.runs.append((run_id, algorithm))
        if scenario is None:
            return PlanningOutcome(reason="the in-process fleet plans missions (a scenario) only")
        loaded = scenario_from_config(scenario)
        try:
            result = solve(loaded, algorithm, self.params)
        except ValueError as error:
            return PlanningOutcome(reason=str(error))
        if not result.ok:
            return PlanningOutcome(reason=f"{result.status.value}: {result.failure}", messages=result.messages)
        for i, robot in enumerate(self.robots):
            self.plans[robot] = rolled_out_plan(loaded.problem, i, result.inputs[i], robot, run_id)
        return PlanningOutcome(plans=dict(self.plans), messages=result.messages, bytes=result.bytes,
                               critical_path=result.critical_path)

    def wait_ready(self, timeout: float) -> str:
        return ""

    def log(self, text: str) -> None:
        self.messages.append(text)

    def release(self, run_id: str, lead: float, scenario: dict[str, Any]) -> None:
        self.active = {r: p for r, p in self.plans.items() if p.run_id == run_id}
        self.start = self.time + lead
        self.samples = {r: [] for r in self.robots}

    def halt(self, run_id: str, plans: dict[str, Plan], lead: float) -> None:
        self.plans.update(plans)
        self.active = dict(plans)
        self.start = self.time + lead

    def execution(self) -> Execution:
        tracks = {r: Track(np.array([t for t, _, _ in rows]), np.array([p for _, p, _ in rows]),
                           np.array([v for _, _, v in rows])) for r, rows in self.samples.items()}
        return Execution(tracks, None)

    # --- simulation ------------------------------------------------------------------------------------
    def _step(self, dt: float) -> None:
        if self.start is not None and self.time >= self.start:
            t = self.time - self.start
            for i, robot in enumerate(self.robots):
                plan = self.active.get(robot)
                if plan is not None:
                    self.sim.set_command(i, self.law.command(plan.reference(t), self.sim.position[i]))
        self.sim.step(dt)
        self.time += dt
        if self.start is not None:
            for i, robot in enumerate(self.robots):
                if self.time > self.odometry_stops.get(robot, np.inf):
                    continue  # no odometry: nothing recorded
                self.samples[robot].append((self.time - self.start, self.sim.position[i].copy(),
                                            self.sim.velocity[i].copy()))


def solve(scenario: Scenario, algorithm: str, params: dict[str, Any]) -> FleetResult:
    """Run `algorithm` on the in-process carrier with the fleet config's `params`, read by the registry as
    an agent process reads them (`spec.registry`: the same names, defaults and errors)."""
    from dro_ros.spec.registry import SpecError, algorithm as registered

    entry = registered(algorithm)
    if not entry.trajectory:
        raise ValueError(f"algorithm: {algorithm!r} is not a trajectory algorithm")
    try:
        settings = entry.from_json(scenario, dict(params))
    except SpecError as error:
        raise ValueError(str(error)) from None
    if algorithm == "path_sweep":
        from dro_ros.trajectory.path_sweep import run_path_sweep

        return run_path_sweep(scenario, **settings)
    if algorithm == "branch_sweep":
        from dro_ros.trajectory.branch_sweep import run_branch_sweep

        return run_branch_sweep(scenario, **settings)
    from dataclasses import asdict

    from dro_ros.trajectory.nc_admm import run_nc_admm

    nc_settings = asdict(settings["settings"])
    nc_settings.pop("diameter_bound")  # run_nc_admm bounds the diameter by the graph's own
    return run_nc_admm(scenario, **nc_settings)
