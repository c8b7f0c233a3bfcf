"""The receding-horizon policy's fleet over DDS (`RosRecedingFleet`, a `mission.receding_loop.RecedingPort`).

Every robot's agent, tracker and the simulator are separate processes; this port drives them through the
supervisor's `RosFleet`: a window goes to the agents of its part only (`StartPlan` with the window's
scenario, whose `robots` key names them in window order), and its plans count when they are all back
`lead` seconds before the switch (real time: the port's clock is `time.monotonic`); the switch is one
`/fleet/start` naming the run, which the part's trackers take up at that instant while the others keep
their plans. The windows of a split graph's parts go out at the same
time, one thread each. A window waits for its plans at most until its deadline, `lead` before its switch (the first
window `first_timeout`); a run still going then is aborted. A robot's agent is silent when its status is
older than `stall` seconds. The states are the odometry (the commanded velocity is taken as the measured
one); the executed track is every robot's odometry from the first switch on, interpolated onto robot 0's
stamps.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dro_ros.fleet.plan import Plan
from dro_ros.mission.receding_loop import WindowRequest, WindowSolve


class RosRecedingFleet:
    """`fleet` (a `RosFleet`) planning windows of `scenario` (the mission's config, recorded at the first
    switch) with `algorithm`."""

    def __init__(self, fleet: Any, scenario: dict[str, Any], algorithm: str, *, stall: float, lead: float = 0.25,
                 first_timeout: float = 600.0, mission_id: str = "mission") -> None:
        self.fleet, self.scenario, self.algorithm, self.stall = fleet, scenario, algorithm, stall
        self.lead, self.first_timeout, self.mission_id = lead, first_timeout, mission_id
        self.names: list[str] = list(fleet.robots)
        self.begin: float | None = None     # the first switch (this clock)

    def now(self) -> float:
        return time.monotonic()

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        states = self.fleet.robot_states()
        positions = np.stack([states[r].position for r in self.names])
        velocities = np.stack([states[r].velocity for r in self.names])
        return positions, velocities, velocities.copy()

    def silent(self) -> set[int]:
        now, states = time.monotonic(), self.fleet.agent_states()
        return {i for i, r in enumerate(self.names) if r not in states or now - states[r][0] > self.stall}

    def solve(self, requests: list[WindowRequest], deadline: float | None) -> list[WindowSolve]:
        """The parts' planning runs go out together, one thread each (they involve disjoint agents)."""
        started = time.monotonic()
        timeout = self.first_timeout if deadline is None else max(0.0, deadline - started)
        if len(requests) <= 1:
            return [self._solve(r, started, timeout) for r in requests]
        with ThreadPoolExecutor(len(requests)) as pool:
            return list(pool.map(lambda r: self._solve(r, started, timeout), requests))

    def _solve(self, request: WindowRequest, started: float, timeout: float) -> WindowSolve:
        robots, names = request.robots, [self.names[i] for i in request.robots]
        outcome = self.fleet.plan(f"{self.mission_id}/{request.run_id}", {**request.config, "robots": names},
                                  self.algorithm, timeout, lambda: False, robots=names)
        ready = time.monotonic()
        plans = {i: outcome.plans[self.names[i]] for i in robots} if outcome.ok else {}
        return WindowSolve(plans, outcome.reason, ready - started, outcome.messages, outcome.bytes, ready)

    def switch(self, run_id: str, plans: dict[int, Plan], at: float) -> None:
        first = self.begin is None
        if first:
            self.begin = at
        self.fleet.start_at(f"{self.mission_id}/{run_id}", at, [self.names[i] for i in plans],
                            scenario=self.scenario if first else None)

    def run_until(self, t: float) -> None:
        time.sleep(max(0.0, t - time.monotonic()))

    def track(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        record = self.fleet.execution().tracks
        m, n = self.fleet.dim, len(self.names)
        if self.begin is None or any(r not in record or len(record[r].times) < 2 for r in self.names):
            return np.zeros(0), np.zeros((0, n, m)), np.zeros((0, n, m))
        times = record[self.names[0]].times
        end = min(record[r].times[-1] for r in self.names)
        times = times[(times >= 0) & (times <= end)]
        sampled = [record[r].at(times) for r in self.names]
        return (self.begin + times, np.stack([s for s, _ in sampled], axis=1),
                np.stack([v for _, v in sampled], axis=1))
