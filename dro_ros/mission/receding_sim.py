"""The receding-horizon policy's fleet in one process, on virtual time (`SimulatedFleet`, a `RecedingPort`).

The robots are the kinematic `FleetSimulator` with one `TrackingLaw` each (the fleet's simulator and
tracker), stepped at the model's rate; the scripted disturbances act here: a `Push` adds its velocity to a
robot while it lasts (`FleetSimulator.push`), a `Dropout` makes the robot's agent silent, and so does an `OdometryStop` (the
supervisor's rule over DDS: a robot without fresh odometry is not planned). A window is
solved by `solver` with the clock held: its plans are ready at the measurement time plus the solve's
critical path (the fleet's critical-path clock; the wall time when the solver reports none), so a plan
counts only if its critical path fits the period.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from dro_ros.fleet.plan import Plan, rolled_out_plan
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.mission.receding import Disturbance, Dropout, LinkOutage, OdometryStop, Push, RecedingHorizon
from dro_ros.mission.receding_loop import RecedingLoop, TrackingModel, WindowRequest, WindowSolve
from dro_ros.trajectory.outcome import FleetResult
from dro_ros.trajectory.problem import FleetProblem
from dro_ros.trajectory.scenarios import Scenario

Solver = Callable[[Scenario], FleetResult]


class SimulatedFleet:
    """`mission`'s robots at its initial states, planning with `solver`, disturbed by `disturbances`."""

    lead = 0.0

    def __init__(self, mission: FleetProblem, solver: Solver, *, disturbances: tuple[Disturbance, ...] = (),
                 model: TrackingModel = TrackingModel()) -> None:
        m = mission.dim
        self.mission, self.solver, self.disturbances, self.model = mission, solver, disturbances, model
        self.sim = FleetSimulator(mission.initial[:, :m], mission.initial[:, m:], lag=model.lag)
        self.law, self.tick = model.law, 1.0 / model.rate
        self.time = 0.0
        self.plans: list[Plan | None] = [None] * mission.n_agents
        self.starts = np.zeros(mission.n_agents)
        self.scheduled: list[tuple[float, dict[int, Plan]]] = []   # switches announced for later
        self.records: list[tuple[float, np.ndarray, np.ndarray]] = []

    # --- RecedingPort ------------------------------------------------------------------------------
    def now(self) -> float:
        return self.time

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.sim.position.copy(), self.sim.velocity.copy(), self.sim.command.copy()

    def silent(self) -> set[int]:
        return {d.robot for d in self.disturbances if isinstance(d, (Dropout, OdometryStop)) and d.covers(self.time)}

    def solve(self, requests: list[WindowRequest], deadline: float | None) -> list[WindowSolve]:
        """The clock is held while `solver` runs each part in turn: the parts plan on disjoint robots, so each
        part's plans are ready at now + its own critical path. The policy compares `ready_at` with `deadline`."""
        return [self._solve(request.run_id, request.robots, request.window) for request in requests]

    def _solve(self, run_id: str, robots: list[int], window: Scenario) -> WindowSolve:
        cut = [i for i in robots if any(isinstance(d, LinkOutage) and d.robot == i and d.covers(self.time)
                                        for d in self.disturbances)]
        if cut and len(robots) > 1:   # its neighbours wait for it until the deadline (as over DDS)
            return WindowSolve({}, f"link outage: robots {cut} cut off from their part", 0.0, 0, 0, float("inf"))
        started = time.perf_counter()
        result = self.solver(window)
        wall = time.perf_counter() - started
        critical = result.critical_path if result.critical_path is not None else wall
        if not result.ok:
            return WindowSolve({}, f"{result.status.value}: {result.failure}", critical, result.messages,
                               result.bytes, self.time + critical)
        plans = {robot: rolled_out_plan(window.problem, k, result.inputs[k], f"robot_{robot}", run_id)
                 for k, robot in enumerate(robots)}
        return WindowSolve(plans, "", critical, result.messages, result.bytes, self.time + critical)

    def switch(self, run_id: str, plans: dict[int, Plan], at: float) -> None:
        self.scheduled.append((at, plans))
        self._take_up_switches()
        if not self.records:
            self._record()

    def _take_up_switches(self) -> None:
        """The announced switches whose instant has come: their plans are followed from then on."""
        due = [(at, plans) for at, plans in self.scheduled if at <= self.time + 1e-9]
        self.scheduled = [(at, plans) for at, plans in self.scheduled if at > self.time + 1e-9]
        for at, plans in due:
            for robot, plan in plans.items():
                self.plans[robot], self.starts[robot] = plan, at

    def run_until(self, t: float) -> None:
        while self.time < t - 1e-9:
            self._take_up_switches()
            dt = min(self.tick, t - self.time)
            for push in (d for d in self.disturbances if isinstance(d, Push)):
                active = push.time <= self.time < push.time + push.duration
                self.sim.push(push.robot, np.array(push.velocity) if active else np.zeros(self.mission.dim))
            for i, plan in enumerate(self.plans):
                if plan is not None:
                    self.sim.set_command(i, self.law.command(plan.reference(self.time - self.starts[i]),
                                                             self.sim.position[i]))
            self.sim.step(dt)
            self.time += dt
            self._record()
        self._take_up_switches()

    def track(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.records:
            m, n = self.mission.dim, self.mission.n_agents
            return np.zeros(0), np.zeros((0, n, m)), np.zeros((0, n, m))
        return (np.array([t for t, _, _ in self.records]), np.stack([p for _, p, _ in self.records]),
                np.stack([v for _, _, v in self.records]))

    def _record(self) -> None:
        self.records.append((self.time, self.sim.position.copy(), self.sim.velocity.copy()))


def simulated_loop(mission: FleetProblem, horizon: RecedingHorizon, solver: Solver, *, algorithm: str,
                   communication: dict[str, Any], eas: dict[str, float] | None = None,
                   disturbances: tuple[Disturbance, ...] = (), model: TrackingModel = TrackingModel()
                   ) -> RecedingLoop:
    """The receding-horizon loop of `mission` on a `SimulatedFleet`."""
    return RecedingLoop(mission, horizon, SimulatedFleet(mission, solver, disturbances=disturbances, model=model),
                        algorithm=algorithm, communication=communication, eas=eas, model=model)
