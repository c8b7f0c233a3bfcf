"""The DDS port's judgement of the robots (`ros.receding_fleet.RosRecedingFleet.silent` and `solve`): who is
silent and dropped, who is only late, and when a robot back from silence rejoins.

The port reads the supervisor's view of the fleet (the agents' last statuses with the time each was heard,
the robots' odometry) and sends windows through it; `FleetView` holds that view as plain data, as the
supervisor's subscriptions fill it, and records what the port asks of the fleet. The agents themselves
are exercised over DDS in test_receding_dds.py.
"""
import time

import numpy as np

from dro_ros.mission.machine import PlanningOutcome, RobotState
from dro_ros.mission.receding_loop import WindowRequest
from dro_ros.ros.receding_fleet import REJOIN_SETTLE, RosRecedingFleet
from dro_ros.spec import AgentState, AgentStatus


class FleetView:
    """The supervisor's view of four robots: every status heard now, odometry fresh, every agent ready."""

    def __init__(self) -> None:
        self.robots = [f"robot_{i}" for i in range(4)]
        self.statuses = {r: (time.monotonic(), AgentStatus(AgentState.READY)) for r in self.robots}
        self.aborted: list[str] = []
        self.planned: list[list[str]] = []
        self.lines: list[str] = []

    def agent_states(self):
        return dict(self.statuses)

    def robot_states(self):
        return {r: RobotState(np.zeros(2), np.zeros(2), 0.0) for r in self.robots}

    def heard(self, robot: str, state: AgentState, run_id: str | None = None) -> None:
        self.statuses[robot] = (time.monotonic(), AgentStatus(state, run_id=run_id))

    def abort(self, robots):
        self.aborted += robots

    def log(self, text):
        self.lines.append(text)

    def plan(self, run_id, scenario, algorithm, timeout, cancelled, robots):
        self.planned.append(list(robots))
        return PlanningOutcome(plans={}, reason="no agents here")


def _request(robots):
    return WindowRequest("w3", robots, window=None, config={})


def test_a_robot_heard_but_still_in_an_earlier_run_is_busy_its_part_falls_back_and_it_is_not_dropped():
    """On a loaded machine every agent of a part may still be in the window aborted at its deadline when the
    next replan comes. They are heard: they are asked to abort and their part falls back for this replan,
    but they stay in the fleet (dropping them all ended a mission at once)."""
    view = FleetView()
    port = RosRecedingFleet(view, {}, "path_sweep", stall=2.0)
    port.sent = {i: "mission/w2" for i in range(4)}
    view.heard("robot_2", AgentState.PLANNING, "mission/w1")
    assert port.silent() == set()
    assert view.aborted == ["robot_2"] and port.busy == {2: "mission/w1"}
    late, other = port.solve([_request([0, 1, 2]), _request([3])], deadline=time.monotonic() + 0.5)
    assert late.plans == {} and "robots [2] still in an earlier run" in late.reason
    assert view.planned == [["robot_3"]]   # the busy part was not sent; the other part was
    view.heard("robot_2", AgentState.ABORTED, "mission/w1")
    assert port.silent() == set() and port.busy == {}


def test_a_silent_robot_running_an_old_window_from_its_queue_stays_out():
    """A robot already dropped (silent) that resumes and runs a window it missed is asked to abort it and
    stays silent: it is not taken back while it runs a run the policy gave up."""
    view = FleetView()
    port = RosRecedingFleet(view, {}, "path_sweep", stall=2.0)
    port.sent = {i: "mission/w5" for i in range(4)}
    view.statuses["robot_1"] = (time.monotonic() - 3.0, AgentStatus(AgentState.READY))
    assert port.silent() == {1}
    view.heard("robot_1", AgentState.PLANNING, "mission/w4")
    assert port.silent() == {1} and view.aborted == ["robot_1"]


def test_a_robot_back_from_silence_rejoins_once_heard_for_the_settle_time():
    """A suspended agent, resumed, first works through the requests queued meanwhile: it is taken back
    only `REJOIN_SETTLE` seconds after it is first found speaking again."""
    view = FleetView()
    port = RosRecedingFleet(view, {}, "path_sweep", stall=2.0)
    view.statuses["robot_3"] = (time.monotonic() - 3.0, AgentStatus(AgentState.READY))
    assert port.silent() == {3}
    view.heard("robot_3", AgentState.READY)
    assert port.silent() == {3}   # speaks again: settling
    assert any("robot_3: speaks again" in line for line in view.lines)
    time.sleep(REJOIN_SETTLE)
    view.heard("robot_3", AgentState.READY)
    assert port.silent() == set()
    assert view.lines[-1] == "robot_3: rejoins"
