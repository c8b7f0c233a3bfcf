"""Scripted dropouts over DDS: the launcher (`ros.fleet_up.Fleet`) silences or kills a robot's agent process.

A dropout `{robot, time, kind: dropout, duration, mode}` of a receding-horizon scenario makes robot
`robot`'s agent silent from `time` to `time + duration` seconds after the mission's first switch, which the
supervisor announces on `/fleet/disturbances` (`ros.disturbances`). Only the launcher owns the agents'
processes, so it acts on them:

- `mode: silent` (default): the agent's process is suspended (SIGSTOP) for the duration, then resumed
  (SIGCONT): it answers no request and publishes nothing meanwhile, as a hung process or a robot out of
  radio range; requests sent to it meanwhile are handled when it resumes;
- `mode: kill`: the agent's process is killed (SIGKILL) and started again after the duration; it speaks
  once it has started up (a few seconds more).

The robot's tracker and the simulator keep running: the robot follows its last committed plan. The
`DropoutInjector` is an rclpy node (`dropout_injector`, a `ros.side_node.SideNode`: its own context, joined to
the fleet's DDS domain) that listens to the announcements and runs the script of each mission.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

from dro_ros.mission.receding import Dropout, RecedingError
from dro_ros.ros.disturbances import DISTURBANCES_TOPIC, INJECTOR_NODE, Announcement
from dro_ros.ros.launch_plan import NodeDescription
from dro_ros.ros.side_node import SideNode


class Processes(Protocol):
    """What the injector needs of the launcher (`ros.fleet_up.Fleet`); `name` is a node's label."""

    env: dict[str, str]

    def suspend(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def kill(self, name: str) -> None: ...

    def restart(self, name: str) -> None: ...

    def say(self, text: str, prefix: str = "fleet") -> None: ...


def scripted_dropouts(nodes: list[NodeDescription]) -> int | None:
    """The scenario's dimension when the supervisor's scenario scripts a dropout, else None."""
    for node in nodes:
        if node.executable == "supervisor_node" and node.parameters.get("scenario"):
            scenario = json.loads(node.parameters["scenario"])
            if any(isinstance(d, dict) and d.get("kind") == "dropout" for d in scenario.get("disturbances") or []):
                return int(scenario.get("dim", 2))
    return None


class DropoutInjector:
    """Runs each announced mission's dropouts on `processes` (see the module docstring)."""

    def __init__(self, processes: Processes, dim: int) -> None:
        from std_msgs.msg import String

        from dro_ros.ros.qos import LATCHED

        self.processes, self.dim = processes, dim
        self.lock = threading.Lock()
        self.events: list[tuple[float, str, Dropout, str, float]] = []  # (wall time, action, dropout, agent, origin)
        self.side = SideNode(processes.env, INJECTOR_NODE)
        self.side.node.create_subscription(String, DISTURBANCES_TOPIC, self._on_announcement, LATCHED)
        self.side.node.create_timer(0.02, self._act)
        self.side.spin()

    def _on_announcement(self, message: Any) -> None:
        try:
            announced = Announcement.from_json(message.data, self.dim)
        except RecedingError as error:
            return self.processes.say(f"{DISTURBANCES_TOPIC} ignored: {error}", prefix="dropouts")
        origin, now = announced.origin_ns * 1e-9, time.time()
        with self.lock:
            for dropout in announced.dropouts():
                start, end = origin + dropout.time, origin + dropout.time + dropout.duration
                if end <= now:
                    continue
                agent = f"{announced.robots[dropout.robot]}/agent"
                self.events += [(max(start, now), "begin", dropout, agent, origin), (end, "end", dropout, agent, origin)]
            self.events.sort(key=lambda event: event[0])

    def _act(self) -> None:
        now = time.time()
        with self.lock:
            due = [e for e in self.events if e[0] <= now]
            self.events = [e for e in self.events if e[0] > now]
        for _, action, dropout, agent, origin in due:
            what = (f"{agent}: dropout ({dropout.mode}, {dropout.duration:g} s from t = {dropout.time:g} s), "
                    f"t = {now - origin:.2f} s")
            if action == "begin":
                (self.processes.suspend if dropout.mode == "silent" else self.processes.kill)(agent)
                self.processes.say(f"{what}: {'suspended' if dropout.mode == 'silent' else 'killed'}",
                                   prefix="dropouts")
            else:
                (self.processes.resume if dropout.mode == "silent" else self.processes.restart)(agent)
                self.processes.say(f"{what}: {'resumed' if dropout.mode == 'silent' else 'restarted'}",
                                   prefix="dropouts")

    def stop(self) -> None:
        """Stop listening; a suspended agent is resumed by the launcher when it stops the fleet."""
        self.side.close()
