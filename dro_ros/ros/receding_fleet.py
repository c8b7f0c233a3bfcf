"""The receding-horizon policy's fleet over DDS (`RosRecedingFleet`, a `mission.receding_loop.RecedingPort`).

Every robot's agent, tracker and the simulator are separate processes; this port drives them through the
supervisor's `RosFleet`: a window goes to the agents of its part only (`StartPlan` with the window's
scenario, whose `robots` key names them in window order), and its plans count when they are all back
`lead` seconds before the switch (real time: the port's clock is `time.monotonic`); the switch is one
`/fleet/start` naming the run, which the part's trackers take up at that instant while the others keep
their plans. The windows of a split graph's parts go out at the same time, one thread each. A window waits for its plans at most until its deadline, `lead` before its switch (the first
window `first_timeout`); a run still going then is aborted. A robot's agent is silent when its status is
older than `stall` seconds, when it is not in a state to take a window (e.g. restarting), when it did not
take up a window that others of its part took up (no status of that run, nor any other since it was sent
and for `stall` / 2 seconds: the replan that sent it stalled on it) and has not spoken since, or when it
was silent and runs an earlier window than the last one sent to it (a suspended agent handles its queued
requests when it resumes): it is asked to abort that run. A robot found speaking again stays out for
`REJOIN_SETTLE` seconds more (in effect, it rejoins at the second replan after it speaks again). A robot
that is heard but still in an earlier run (an aborted window whose solve has not returned yet: an
overloaded machine) is *busy*, not silent: it is asked to abort that run, and its part falls back for
this replan without being dropped (dropping every robot of a loaded fleet at once ended a mission). A
robot whose odometry is older than `odom_timeout` seconds is silent too (its window would start from a
stale state; its tracker flies its plan's feedforward meanwhile, `tracker_node`), until odometry is heard
again.
At the first switch the mission's scripted `disturbances` are announced (`ros.disturbances`), timed from
that instant. The states are the odometry (the commanded velocity is taken as the measured
one); the executed track is every robot's odometry from the first switch on, interpolated onto robot 0's
stamps; inside a gap of a robot's odometry longer than `ODOMETRY_GAP` its position is unknown (NaN).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dro_ros.fleet.plan import Plan
from dro_ros.mission.receding import Disturbance
from dro_ros.mission.receding_loop import WindowRequest, WindowSolve
from dro_ros.ros.disturbances import Announcement
from dro_ros.spec import AgentState

AVAILABLE = (AgentState.READY, AgentState.DONE, AgentState.FAILED, AgentState.ABORTED)
"""The agent states in which a robot takes a window (besides PLANNING, a run about to be aborted)."""

REJOIN_SETTLE = 0.5
"""Seconds a silent robot must be heard again before it takes a window, in effect one replan: a resumed
agent first works through the requests queued while it was stopped, and a window sent at once reached it
late (a 1 s fleet's rejoin window missed by all eight robots, README)."""

ODOMETRY_GAP = 0.5
"""Seconds between two odometry samples of a robot beyond which its track is not interpolated: inside such a
gap (an odometry stop) its executed position is unknown (NaN), not bridged by a straight chord."""


def observed(stamps: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Which of `times` fall on one of a robot's odometry `stamps` (sorted) or between two of them at most
    ODOMETRY_GAP apart."""
    k = np.searchsorted(stamps, times)
    after = stamps[np.minimum(k, len(stamps) - 1)]
    before = stamps[np.maximum(k - 1, 0)]
    return (after == times) | ((k > 0) & (k < len(stamps)) & (after - before <= ODOMETRY_GAP))


class RosRecedingFleet:
    """`fleet` (a `RosFleet`) planning windows of `scenario` (the mission's config, recorded at the first
    switch) with `algorithm`."""

    def __init__(self, fleet: Any, scenario: dict[str, Any], algorithm: str, *, stall: float, lead: float = 0.1,
                 first_timeout: float = 600.0, mission_id: str = "mission",
                 disturbances: tuple[Disturbance, ...] = (), odom_timeout: float = 1.0) -> None:
        self.fleet, self.scenario, self.algorithm, self.stall = fleet, scenario, algorithm, stall
        self.odom_timeout = odom_timeout
        self.lead, self.first_timeout, self.mission_id = lead, first_timeout, mission_id
        self.disturbances = disturbances
        self.names: list[str] = list(fleet.robots)
        self.begin: float | None = None     # the first switch (this clock)
        self.unanswered: dict[int, float] = {}   # robot -> when it was sent the window it did not take up
        self.sent: dict[int, str] = {}           # robot -> the run id of the last window sent to it
        self._silent: set[int] = set()           # as the last call found them (logged when it changes)
        self._back_since: dict[int, float] = {}  # robot found speaking again (settling) -> since when
        self.busy: dict[int, str] = {}           # robot heard but still in an earlier run -> that run (last call)

    def now(self) -> float:
        return time.monotonic()

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        states = self.fleet.robot_states()
        positions = np.stack([states[r].position for r in self.names])
        velocities = np.stack([states[r].velocity for r in self.names])
        return positions, velocities, velocities.copy()

    def silent(self) -> set[int]:
        now, states, odometry = time.monotonic(), self.fleet.agent_states(), self.fleet.robot_states()
        why: dict[int, str] = {}
        busy: dict[int, str] = {}
        for i, robot in enumerate(self.names):
            heard, status = states.get(robot, (float("-inf"), None))
            if status is None or now - heard > self.stall:
                why[i] = "no status" if status is None else f"no status for {now - heard:.1f} s"
            elif robot not in odometry or odometry[robot].age > self.odom_timeout:
                why[i] = "no odometry" if robot not in odometry else f"odometry stale for {odometry[robot].age:.1f} s"
            elif status.state not in AVAILABLE + (AgentState.PLANNING,):
                why[i] = status.state.value
            elif heard <= self.unanswered.get(i, float("-inf")):
                why[i] = "did not take up its last window"
            elif status.state is AgentState.PLANNING and status.run_id != self.sent.get(i):
                self.fleet.abort([robot])
                if i in self._silent:   # e.g. resumed and running a window from its queue: stays out
                    why[i] = f"still in run {status.run_id}, not its last window: asked to abort it"
                else:   # heard, only late: its part falls back this replan (`_solve`), it is not dropped
                    busy[i] = status.run_id
        for i in range(len(self.names)):   # a robot back from silence settles for REJOIN_SETTLE first
            if i in why:
                self._back_since.pop(i, None)
            elif i in self._silent:
                back = self._back_since.setdefault(i, now)
                if back == now:
                    self.fleet.log(f"{self.names[i]}: speaks again (rejoins once heard for {REJOIN_SETTLE:g} s)")
                if now - back < REJOIN_SETTLE:
                    why[i] = "settling"
        for i in sorted(set(why) ^ self._silent):
            self.fleet.log(f"{self.names[i]}: " + (f"silent ({why[i]})" if i in why else "rejoins"))
        for i in sorted(busy.keys() - self.busy.keys()):
            self.fleet.log(f"{self.names[i]}: still in run {busy[i]}, not its last window: asked to abort it")
        self._silent, self.busy = set(why), busy
        return set(why)

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
        busy = sorted(i for i in robots if i in self.busy)
        if busy:   # they cannot take a window yet; the part keeps its committed plans (a fallback)
            return WindowSolve({}, f"robots {busy} still in an earlier run (asked to abort it)", 0.0, 0, 0,
                               started)
        full_id = f"{self.mission_id}/{request.run_id}"
        self.sent.update({i: full_id for i in robots})
        outcome = self.fleet.plan(full_id, {**request.config, "robots": names}, self.algorithm, timeout,
                                  lambda: False, robots=names)
        ready = time.monotonic()
        plans = {i: outcome.plans[self.names[i]] for i in robots} if outcome.ok else {}
        states = self.fleet.agent_states()
        took = {i for i in robots if self.names[i] in states and states[self.names[i]][1].run_id == full_id}
        quiet_since = min(started, ready - self.stall / 2)   # a live agent is heard at least every second
        silent = frozenset(i for i in robots if i not in took and states.get(self.names[i], (0.0,))[0] < quiet_since
                           ) if took else frozenset()   # judged only against robots that took it up
        for i in silent:   # any run it starts later (from its queue) is one the policy gave up
            self.unanswered[i] = started
            del self.sent[i]
        return WindowSolve(plans, outcome.reason, ready - started, outcome.messages, outcome.bytes, ready, silent)

    def switch(self, run_id: str, plans: dict[int, Plan], at: float) -> None:
        first = self.begin is None
        if first:
            self.begin = at
        origin = self.fleet.start_at(f"{self.mission_id}/{run_id}", at, [self.names[i] for i in plans],
                                     scenario=self.scenario if first else None)
        if first:
            self.fleet.announce(Announcement(self.mission_id, origin, tuple(self.names), self.disturbances))

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
        positions, velocities = (np.stack(columns, axis=1) for columns in zip(*(record[r].at(times) for r in self.names)))
        for i, robot in enumerate(self.names):
            unknown = ~observed(record[robot].times, times)
            positions[unknown, i], velocities[unknown, i] = np.nan, np.nan
        return self.begin + times, positions, velocities
