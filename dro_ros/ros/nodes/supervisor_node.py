"""`supervisor_node`: starts a fleet's planning run, releases the robots, and reports how it went.

It takes no part in the optimization (the agents talk only to their neighbours); it is the operator's
side of a mission, the job nav2_simple_commander does for one robot:

1. wait until every robot's `agent_node` reports `ready` on `/diagnostics` (`ready_timeout`);
2. call `/<robot>/agent/start_plan` with the same run id on every robot, then wait until each reports
   `done` or `failed` for that run. A robot whose status stops for `stale_after` seconds is reported as
   gone; its neighbours stall and report whom they wait for. With `retries` left, wait up to
   `rejoin_timeout` for every robot (a restarted node too) to be ready, and plan again;
3. trajectory fleets (parameter `scenario`): collect the latched plans, check them with the independent
   checker, publish `/fleet/start` (`lead` seconds ahead), record odometry and `/fleet/min_distance`
   until T + `settle`, and report a robot whose odometry is older than `odom_timeout` as stale;
4. print a summary (and one JSON line), write `output` (PNG) and `summary` (JSON) if given, and exit
   0 on success, 1 on failure. `dro-ros fleet up` and the launch files end the run when it exits.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.time import Time as RosTime
from std_msgs.msg import Float64

from dro_ros.fleet.summary import Track, summarize
from dro_ros.msg import FleetStart, TrajectoryPlan
from dro_ros.ros.conversions import plan_from_msg
from dro_ros.ros.nodes.spin import spin_in_thread
from dro_ros.ros.qos import LATCHED
from dro_ros.srv import StartPlan

FINAL = ("done", "failed", "aborted")
PARAMETERS = {"robots": [""], "problem_id": "fleet", "scenario": "", "ready_timeout": 120.0,
              "plan_timeout": 600.0, "stale_after": 5.0, "retries": 0, "rejoin_timeout": 60.0, "lead": 1.0,
              "settle": 1.0, "odom_timeout": 1.0, "position_tolerance": 0.05, "velocity_tolerance": 0.05,
              "separation_tolerance": 0.01, "output": "", "summary": ""}


class MissionFailed(RuntimeError):
    """The mission cannot go on; the message says which robot and why."""


class SupervisorNode(Node):
    def __init__(self) -> None:
        super().__init__("supervisor")
        for name, default in PARAMETERS.items():
            self.declare_parameter(name, default)
        self.p = {name: self.get_parameter(name).value for name in PARAMETERS}
        self.robots: list[str] = [r for r in self.p["robots"] if r]
        self.lock = threading.Lock()
        self.status: dict[str, tuple[float, dict[str, str]]] = {}  # robot -> (received, values)
        self.plans: dict[str, TrajectoryPlan] = {}
        self.odom: dict[str, list[tuple[float, list[float], list[float]]]] = {r: [] for r in self.robots}
        self.min_distance = float("inf")
        self.release_ns: int | None = None
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 100)
        self.start_clients = {r: self.create_client(StartPlan, f"/{r}/agent/start_plan") for r in self.robots}
        self.go = self.create_publisher(FleetStart, "/fleet/start", LATCHED)
        if self.p["scenario"]:
            for robot in self.robots:
                self.create_subscription(TrajectoryPlan, f"/{robot}/plan", self._on_plan, LATCHED)
                self.create_subscription(Odometry, f"/{robot}/odom", lambda m, r=robot: self._on_odom(r, m), 50)
            self.create_subscription(Float64, "/fleet/min_distance", self._on_min_distance, 50)

    # --- callbacks (executor thread) --------------------------------------------------------------
    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            robot = status.hardware_id
            if robot in self.robots and status.name == f"dro_ros/{robot}/agent":
                with self.lock:
                    self.status[robot] = (time.monotonic(), {kv.key: kv.value for kv in status.values})

    def _on_plan(self, message: TrajectoryPlan) -> None:
        with self.lock:
            self.plans[message.robot] = message

    def _on_odom(self, robot: str, message: Odometry) -> None:
        if self.release_ns is None:
            return
        t = (RosTime.from_msg(message.header.stamp).nanoseconds - self.release_ns) * 1e-9
        p, v = message.pose.pose.position, message.twist.twist.linear
        with self.lock:
            self.odom[robot].append((t, [p.x, p.y, p.z], [v.x, v.y, v.z]))

    def _on_min_distance(self, message: Float64) -> None:
        if self.release_ns is not None:
            self.min_distance = min(self.min_distance, message.data)

    # --- the mission (main thread) ----------------------------------------------------------------
    def states(self) -> dict[str, tuple[float, dict[str, str]]]:
        with self.lock:
            return dict(self.status)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            now, states = time.monotonic(), self.states()
            missing = {}
            for r in self.robots:
                if r not in states:
                    missing[r] = "no status"
                elif now - states[r][0] > self.p["stale_after"]:
                    missing[r] = f"no status for {now - states[r][0]:.1f} s"
                elif states[r][1].get("state") not in ("ready",) + FINAL:
                    missing[r] = states[r][1].get("state")
            if not missing:
                return
            if now > deadline:
                raise MissionFailed("not ready within %g s: %s" % (timeout, ", ".join(
                    f"{r} ({s})" for r, s in sorted(missing.items()))))
            time.sleep(0.1)

    def plan(self, run_id: str) -> dict[str, dict[str, str]]:
        """Start `run_id` on every robot and wait for the outcome; raises MissionFailed naming robots.

        A robot that does not accept is left out; the others still run, so its neighbours' reports (no
        contact, or stalled waiting for it) say what it cost them."""
        refused = self.start_everywhere(run_id)
        started, deadline = time.monotonic(), time.monotonic() + self.p["plan_timeout"]
        while True:
            now, states = time.monotonic(), self.states()
            this_run = {r: v for r, (_, v) in states.items() if v.get("run_id") == run_id}
            finished = {r: v for r, v in this_run.items() if v.get("state") in FINAL}
            gone = [r for r in self.robots if r not in finished and r not in refused and (
                r not in states or now - states[r][0] > self.p["stale_after"])]
            if len(finished) + len(gone) + len(refused) == len(self.robots):
                break
            if now > deadline:
                raise MissionFailed(f"planning run {run_id} not finished within {self.p['plan_timeout']} s: "
                                    + ", ".join(r for r in self.robots if r not in finished))
            time.sleep(0.05)
        heard = {r: now - states[r][0] for r in gone if r in states}
        reasons = [f"{r}: start_plan {why}" for r, why in refused.items()]
        reasons += [f"{r}: stopped responding" + (f" (last status {heard[r]:.1f} s ago)" if r in heard else "")
                    for r in gone]
        reasons += [f"{r}: {v.get('status', v.get('state'))}" + (f", waiting for {v['waiting_for']}"
                                                                 if v.get("waiting_for") else "")
                    + (f" ({v['error']})" if v.get("error") else "")
                    for r, v in sorted(finished.items()) if v.get("state") != "done"]
        if reasons:
            raise MissionFailed(f"planning run {run_id} failed: " + "; ".join(reasons))
        self.get_logger().info(f"planning run {run_id} done in {time.monotonic() - started:.2f} s")
        return finished

    def start_everywhere(self, run_id: str, timeout: float = 5.0) -> dict[str, str]:
        """Call every robot's start_plan at once; returns the robots that did not accept, with why."""
        futures, refused = {}, {}
        for robot, client in self.start_clients.items():
            if client.wait_for_service(timeout_sec=0.5):
                futures[robot] = client.call_async(StartPlan.Request(run_id=run_id))
            else:
                refused[robot] = "service not available"
        deadline = time.monotonic() + timeout
        while any(not f.done() for f in futures.values()) and time.monotonic() < deadline:
            time.sleep(0.01)
        for robot, future in futures.items():
            if not future.done():
                refused[robot] = f"not answered within {timeout:g} s"
            elif not future.result().accepted:
                refused[robot] = f"refused: {future.result().message}"
        return refused

    def execute(self, run_id: str) -> dict[str, Any]:
        """Release the robots on their plans of `run_id`, record the run, and summarize it."""
        from dro_ros.trajectory.checker import check
        from dro_ros.trajectory.scenarios import scenario_from_config

        problem = scenario_from_config(json.loads(self.p["scenario"])).problem
        deadline = time.monotonic() + 10.0
        while True:
            with self.lock:
                plans = {r: m for r, m in self.plans.items() if m.run_id == run_id}
            if len(plans) == len(self.robots):
                break
            if time.monotonic() > deadline:
                raise MissionFailed("no plan received from " + ", ".join(r for r in self.robots if r not in plans))
            time.sleep(0.05)
        plans = {self.robots.index(r): plan_from_msg(m) for r, m in plans.items()}
        checked = check(problem, np.stack([plans[i].input for i in range(len(self.robots))]))
        release = self.get_clock().now().nanoseconds + int(self.p["lead"] * 1e9)
        self.release_ns = release
        self.go.publish(FleetStart(start=Time(sec=release // 10**9, nanosec=release % 10**9), run_id=run_id,
                                   robots=self.robots))
        duration = plans[0].duration
        self.get_logger().info(f"robots released; executing {duration:g} s of plan")
        end = release + int((duration + self.p["settle"]) * 1e9)
        stale: dict[str, float] = {}
        while self.get_clock().now().nanoseconds < end:
            t = (self.get_clock().now().nanoseconds - release) * 1e-9
            with self.lock:
                last = {r: (samples[-1][0] if samples else 0.0) for r, samples in self.odom.items()}
            for robot, heard in last.items():
                if t - heard > self.p["odom_timeout"] and robot not in stale and t > self.p["odom_timeout"]:
                    stale[robot] = heard
                    self.get_logger().error(f"{robot}: odometry stale since t = {heard:.2f} s")
            time.sleep(0.05)
        if stale:
            raise MissionFailed("odometry stale: " + ", ".join(f"{r} (since t = {t:.2f} s)" for r, t in stale.items()))
        m = problem.dim
        with self.lock:
            tracks = {self.robots.index(r): Track(*(np.array(column) for column in zip(*samples)))
                      for r, samples in self.odom.items()}
        tracks = {i: Track(tr.times, tr.position[:, :m], tr.velocity[:, :m]) for i, tr in tracks.items()}
        summary = summarize(problem, plans, tracks, self.min_distance if np.isfinite(self.min_distance) else None,
                            position_tolerance=self.p["position_tolerance"],
                            velocity_tolerance=self.p["velocity_tolerance"],
                            separation_tolerance=self.p["separation_tolerance"])
        if self.p["output"]:
            from dro_ros.fleet.plots import execution_figure

            execution_figure(problem, plans, tracks, summary, self.p["output"])
        return {"objective": checked.objective, "max_violation": checked.max_violation, **summary.as_dict()}


def report(node: SupervisorNode, outcome: dict[str, Any]) -> None:
    lines = [f"fleet {node.p['problem_id']}: {'SUCCEEDED' if outcome['ok'] else 'FAILED'}"]
    lines += [f"  {key:26} {value:.6g}" if isinstance(value, float) else f"  {key:26} {value}"
              for key, value in outcome.items() if key not in ("ok", "problems", "agents", "recovered_from")]
    lines += [f"  recovered from: {p}" for p in outcome.get("recovered_from", [])]
    lines += [f"  problem: {p}" for p in outcome.get("problems", [])]
    print("\n".join(lines), flush=True)
    print(json.dumps(outcome), flush=True)
    if node.p["summary"]:
        Path(node.p["summary"]).write_text(json.dumps(outcome, indent=2))


def run_mission(node: SupervisorNode) -> dict[str, Any]:
    outcome: dict[str, Any] = {"ok": False, "problems": []}
    attempt = 0
    started = time.monotonic()
    try:
        node.wait_ready(node.p["ready_timeout"])
        while True:
            run_id = f"{node.p['problem_id']}/{attempt}"
            try:
                agents = node.plan(run_id)
                break
            except MissionFailed as error:
                node.get_logger().error(str(error))
                if attempt >= node.p["retries"]:
                    raise
                outcome.setdefault("recovered_from", []).append(str(error))
                attempt += 1
                node.get_logger().info(f"waiting up to {node.p['rejoin_timeout']} s for every robot to rejoin")
                node.wait_ready(node.p["rejoin_timeout"])
        outcome.update(run_id=run_id, attempts=attempt + 1, planning_time=time.monotonic() - started,
                       messages=sum(int(a.get("messages", 0)) for a in agents.values()),
                       bytes=sum(int(a.get("bytes", 0)) for a in agents.values()))
        paths = [float(a["critical_path"]) for a in agents.values() if "critical_path" in a]
        if paths:
            outcome["critical_path"] = max(paths)
        if node.p["scenario"]:
            executed = node.execute(run_id)
            outcome["problems"] += executed.pop("problems")
            outcome.update(executed)
        else:
            outcome["agents"] = {r: json.loads(a["result"]) if "result" in a else None for r, a in agents.items()}
    except MissionFailed as error:
        outcome["problems"].append(str(error))
    outcome["ok"] = not outcome["problems"]
    return outcome


def main(argv: list[str] | None = None) -> None:
    rclpy.init(args=argv)
    node = SupervisorNode()
    spinner = spin_in_thread(node)
    try:
        outcome = run_mission(node)
        report(node, outcome)
        code = 0 if outcome["ok"] else 1
    except KeyboardInterrupt:
        code = 130
    rclpy.try_shutdown()  # wakes the executor; spinning ends
    spinner.join(timeout=5.0)
    node.destroy_node()
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv)
