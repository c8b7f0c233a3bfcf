"""One chaos run over DDS (`dro-ros bench chaos`): a fleet config with faults (`mission.chaos`), one mission.

The fleet's nodes run as separate processes under the launcher (`ros.fleet_up.Fleet`, an isolated domain,
the supervisor serving missions as `dro-ros fleet up --goals` does); the faults that are scenario
disturbances act as every scripted disturbance does (the simulator, the agents, the launcher's dropout
injector), a delay through the config's `network`. This harness sends the mission's goal (the scenario's
terminal set) and watches the run with a `Monitor` node: the mission's first switch (the announcement on
`/fleet/disturbances`), the simulator's true minimum distance between robots (`/fleet/min_distance`) and
each robot's odometry against the obstacles, both independent of the supervisor's summary.

A `supervisor_restart` fault: at its time after the first switch the harness kills the supervisor's process
(SIGKILL), starts it again after the fault's duration without the scripted disturbances (they have acted
once), and sends the goal again; the restarted supervisor poses it from the robots' live odometry.

Hangs: a run whose mission has no result within `wall` seconds of the fleet's start, and every node that did
not exit within `grace` seconds of SIGINT when the fleet stopped (the launcher kills it and names it).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from dro_ros.mission.chaos import Fault, Safety, classify
from dro_ros.ros.fleet_up import Fleet, label
from dro_ros.ros.side_node import SideNode
from dro_ros.spec.fleet_config import parse_fleet_config
from dro_ros.trajectory.obstacles import distances
from dro_ros.trajectory.problem import BallTerminal, FleetProblem

SUPERVISOR = "supervisor"     # the supervisor node's label in the launcher
RESTARTED = "supervisor restarted: the goal in flight is lost"
NOT_ACCEPTED = "the server did not accept the goal"    # `send_goal`'s reason when no answer came
DISCOVERY = 2.0   # s for the harness to discover a restarted supervisor's action server


class Monitor:
    """A `ros.side_node.SideNode` watching the run (see the module docstring)."""

    def __init__(self, env: dict[str, str], robots: list[str], problem: FleetProblem) -> None:
        from nav_msgs.msg import Odometry
        from std_msgs.msg import Float64, String

        from dro_ros.ros.disturbances import DISTURBANCES_TOPIC
        from dro_ros.ros.qos import LATCHED

        self.problem, self.lock = problem, threading.Lock()
        self.origin: float | None = None            # the first mission's first switch (s, `time.time()`)
        self.min_distance: float | None = None
        self.min_distance_at: float | None = None    # s after the first switch
        self.min_clearance: float | None = None
        self.min_clearance_where: tuple[str, float | None] | None = None   # (robot, s after the first switch)
        self.side = SideNode(env, "chaos_monitor", "chaos_mission_client")
        self.node, [self.client] = self.side.node, self.side.extra   # `send_goal` spins the client
        self.topic = DISTURBANCES_TOPIC
        self.node.create_subscription(String, DISTURBANCES_TOPIC, self._on_announcement, LATCHED)
        self.node.create_subscription(Float64, "/fleet/min_distance", self._on_min_distance, 10)
        for robot in robots:
            self.node.create_subscription(Odometry, f"/{robot}/odom", lambda m, r=robot: self._on_odom(r, m), 10)
        self.side.spin()

    def _on_announcement(self, message: Any) -> None:
        try:
            origin = json.loads(message.data)["origin_ns"] * 1e-9
        except (ValueError, KeyError, TypeError):
            return
        with self.lock:
            self.origin = origin if self.origin is None else self.origin

    def _on_min_distance(self, message: Any) -> None:
        with self.lock:
            if self.min_distance is None or message.data < self.min_distance:
                self.min_distance = message.data
                self.min_distance_at = None if self.origin is None else round(time.time() - self.origin, 2)

    def _on_odom(self, robot: str, message: Any) -> None:
        if not self.problem.obstacles:
            return
        p = message.pose.pose.position
        gap = float(np.min(distances(self.problem.obstacles, np.array([p.x, p.y, p.z])[:self.problem.dim])))
        with self.lock:
            if self.min_clearance is None or gap < self.min_clearance:
                self.min_clearance = gap
                self.min_clearance_where = (robot, None if self.origin is None else round(time.time() - self.origin, 2))

    def announcers(self) -> set[bytes]:
        """The endpoints publishing mission announcements: the supervisor's (a killed one's stays listed until
        DDS drops it)."""
        return {bytes(info.endpoint_gid) for info in self.node.get_publishers_info_by_topic(self.topic)}

    def close(self) -> None:
        self.side.close()


def mission_goal(problem: FleetProblem) -> dict[str, Any]:
    """The goal fields (`action/Mission.action`) of the scenario's own terminal set: its disc, when every robot
    shares one, else each robot's goal position."""
    terminals = problem.terminals
    first = terminals[0]
    if isinstance(first, BallTerminal) and all(isinstance(t, BallTerminal) and np.allclose(t.centre, first.centre)
                                               and t.radius == first.radius for t in terminals):
        return {"centre": [float(v) for v in first.centre], "radius": float(first.radius)}
    from dro_ros.mission.receding import goal_of

    return {"positions": [[float(v) for v in goal_of(problem, i)] for i in range(problem.n_agents)]}


def run_once(config: dict[str, Any], source: str | Path, faults: list[Fault], *, wall: float = 300.0,
             grace: float = 5.0, out: IO[str]) -> dict[str, Any]:
    """Fly `config` (a fleet config with the faults in it, `mission.chaos.faulted_config`) once with `faults`;
    the run's record: faults, outcome and reason, safety, hangs, wall time, each mission's figures."""
    from dro_ros.ros.launch_plan import node_list
    from dro_ros.ros.mission_client import goal_message, send_goal

    fleet_config = parse_fleet_config(config, source)
    problem = fleet_config.parsed_scenario.problem
    nodes = node_list(fleet_config, serve=True)
    supervisor = next(n for n in nodes if label(n) == SUPERVISOR)
    tolerance = float(supervisor.parameters.get("separation_tolerance", 0.01))
    restart = next((f for f in faults if f.kind == "supervisor_restart"), None)
    goal = goal_message(mission_goal(problem))
    missions: list[dict[str, Any]] = []
    hung: list[str] = []
    exited: list[str] = []
    resent = False
    started = time.monotonic()
    deadline = started + wall
    with Fleet(nodes, isolated=True, grace=grace, out=out) as fleet:
        monitor = Monitor(fleet.env, list(supervisor.parameters["robots"]), problem)
        try:
            def give_up() -> str:
                if time.monotonic() > deadline:
                    return f"no result within the wall limit of {wall:g} s"
                gone = [f"{name} (exit code {code})" for name, code in fleet.ended().items()]
                if gone:
                    exited.extend(gone)
                    return "node exited: " + "; ".join(gone)
                with monitor.lock:
                    origin = monitor.origin
                if restart is not None and not resent and origin is not None and time.time() >= origin + restart.time:
                    return RESTARTED
                return ""

            while True:
                outcome = send_goal(goal, node=monitor.client, server_timeout=max(1.0, deadline - time.monotonic()),
                                    give_up=give_up)
                if outcome.reason == RESTARTED:
                    fleet.say(f"chaos: killing the supervisor, restarting it in {restart.duration:g} s")
                    before = monitor.announcers()
                    fleet.kill(SUPERVISOR)
                    time.sleep(restart.duration)
                    fleet.nodes = [_without_script(n) if label(n) == SUPERVISOR else n for n in fleet.nodes]
                    fleet.restart(SUPERVISOR)
                    missions.append({"status": "LOST", "reason": RESTARTED, "mission_id": "", "summary": {}})
                    resent = True
                    # the killed server may still be listed: send once the new one is discovered
                    while not monitor.announcers() - before and time.monotonic() < deadline:
                        time.sleep(0.2)
                    time.sleep(DISCOVERY)
                    continue
                if resent and outcome.reason == NOT_ACCEPTED and time.monotonic() < deadline:
                    fleet.say("chaos: the restarted supervisor did not take the goal yet; sending it again")
                    time.sleep(DISCOVERY)
                    continue
                if outcome.reason.startswith("no result within the wall limit") or (
                        not outcome.mission_id and "no mission server" in outcome.reason):
                    hung.append(outcome.reason)
                elif not exited:
                    missions.append(outcome.as_dict())
                break
        finally:
            monitor.close()
    hung += [f"{name}: did not exit within {grace:g} s of SIGINT" for name in fleet.unresponsive]
    summaries = [m["summary"] for m in missions if m.get("summary")]
    safety = Safety(r_min=problem.r_min, clearance=problem.clearance, tolerance=tolerance,
                    min_separation=_smallest(s.get("min_separation_m") for s in summaries),
                    min_obstacle_distance=_smallest(s.get("min_obstacle_distance_m") for s in summaries),
                    true_min_separation=monitor.min_distance, true_min_separation_at=monitor.min_distance_at,
                    odometry_min_obstacle_distance=monitor.min_clearance if problem.obstacles else None,
                    odometry_min_obstacle_distance_at=monitor.min_clearance_where)
    verdict = classify([m for m in missions if m["status"] != "LOST"], safety, resent=resent, hung=hung,
                       exited=exited)
    ended, origin = time.time(), monitor.origin
    records = [{**f.as_dict(), "injected": resent if f is restart else origin is not None and (
        f.kind == "delay" or origin + f.time <= ended)} for f in faults]
    return {"faults": records, "outcome": verdict.outcome, "reason": verdict.reason,
            "safety_held": verdict.safety_held, "safety": asdict(safety), "hung": verdict.hung,
            "wall_s": round(time.monotonic() - started, 2),
            "slowest_exit_s": round(max(fleet.exit_seconds.values(), default=0.0), 2),
            "missions": [_figures(m) for m in missions]}


def _without_script(node: Any) -> Any:
    scenario = json.loads(node.parameters["scenario"])
    scenario["disturbances"] = []
    return replace(node, parameters={**node.parameters, "scenario": json.dumps(scenario)})


def _smallest(values: Any) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    return min(numbers) if numbers else None


def _figures(mission: dict[str, Any]) -> dict[str, Any]:
    """A mission's result with the summary's figures a chaos record keeps."""
    summary = mission.get("summary") or {}
    keep = ("replans", "missed_deadlines", "stalled_replans", "stalls", "dropped_s", "fallbacks",
            "min_separation_m", "min_obstacle_distance_m", "reached_s", "critical_path_s")
    return {"status": mission["status"], "reason": mission["reason"], "mission_id": mission.get("mission_id", ""),
            **{key: summary[key] for key in keep if key in summary}}
