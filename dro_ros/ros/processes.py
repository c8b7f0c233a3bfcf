"""Start agent processes (one OS process per agent) over DDS and collect their JSON reports.

No rclpy here: the parent only spawns `python -m dro_ros.ros.nodes.agent_once` children, isolated
from any real network by `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` and a private `ROS_DOMAIN_ID`.
The children are always terminated on exit, also when the wait times out or the caller raises.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable


def isolated_ros_env(domain_id: int | None = None) -> dict[str, str]:
    """This process's environment with a private DDS domain restricted to localhost."""
    env = dict(os.environ)
    env["ROS_DOMAIN_ID"] = str(domain_id if domain_id is not None else pick_domain_id())
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a process stopped for hanging dumps every thread's stack first
    return env


FAST_DDS_PROFILE = """<?xml version="1.0" encoding="UTF-8" ?>
<profiles xmlns="http://www.eprosima.com">
  <data_writer profile_name="dro_ros_writer" is_default_profile="true">
    <times>
      <heartbeat_period><sec>0</sec><nanosec>100000000</nanosec></heartbeat_period>
    </times>
  </data_writer>
  <data_writer profile_name="service">
    <qos>
      <reliability>
        <max_blocking_time><sec>2</sec><nanosec>0</nanosec></max_blocking_time>
      </reliability>
    </qos>
    <times>
      <heartbeat_period><sec>0</sec><nanosec>100000000</nanosec></heartbeat_period>
    </times>
  </data_writer>
</profiles>
"""
"""Fast DDS defaults for a fleet's processes.

- Reliable writers send a heartbeat every 0.1 s instead of 3 s. A sample written before its new reader
  had matched the writer (an agent's first message of a planning run racing its neighbour's discovery of
  that run's inbox) is repaired only at the writer's next heartbeat, and the reader's in-order delivery
  holds every later sample until then: with the default, such a run started 3 s late (receding-horizon
  windows over DDS, README).
- A service's response writer (rmw_fastrtps takes the profile named "service" for every service) waits up
  to 2 s, instead of the writer's default 0.1 s, for the client's response reader to match before it drops
  the response ("failed to send response (timeout)"). At start-up under load a client can send its
  request before the server has matched its response reader: a mission goal accepted so was flown without
  its client hearing of it (chaos run 1, README). The wait blocks only a server whose client has not
  matched yet; other writers keep 0.1 s, so a full inbox still hands back-pressure to the carrier soon."""


def with_dds_profile(env: dict[str, str], directory: Path) -> dict[str, str]:
    """`env` with FASTDDS_DEFAULT_PROFILES_FILE pointing at `FAST_DDS_PROFILE` written in `directory`, unless
    the user set a profile file already."""
    if "FASTDDS_DEFAULT_PROFILES_FILE" in env:
        return env
    path = directory / "fastdds.xml"
    path.write_text(FAST_DDS_PROFILE)
    return {**env, "FASTDDS_DEFAULT_PROFILES_FILE": str(path)}


def pick_domain_id() -> int:
    """A domain in 1..200 derived from the pid, so concurrent runs on one machine rarely meet."""
    return 1 + os.getpid() % 200


@dataclass
class ProcessOutcome:
    address: str
    returncode: int | None
    report: dict[str, Any] | None
    stderr: str
    hung: bool = False
    """Still running at the wait's deadline, so stopped (SIGABRT: its stderr ends with every thread's stack)."""

    def describe(self, limit: int = 6000) -> str:
        """How the process ended, with the part of its stderr that says why: from a fatal error's (or a
        stopped hang's) stack dump on, else the tail; at most `limit` characters."""
        how = "hung, stopped" if self.hung else f"exit code {self.returncode}"
        fatal = self.stderr.rfind("Fatal Python error")
        text = self.stderr[fatal:fatal + limit] if fatal >= 0 else self.stderr[-limit:]
        return f"--- {self.address}: {how}\n{text}"


def failures(outcomes: Iterable[ProcessOutcome]) -> str:
    """Every process that did not exit 0, described (`ProcessOutcome.describe`): an assertion's message."""
    return "\n".join(o.describe() for o in outcomes if o.returncode != 0)


class AgentProcesses:
    """`with AgentProcesses(specs, env) as fleet: outcomes = fleet.wait(timeout)`."""

    def __init__(self, specs: Iterable[dict[str, Any]], env: dict[str, str] | None = None) -> None:
        self.specs = list(specs)
        self.env = env or isolated_ros_env()
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> "AgentProcesses":
        for spec in self.specs:
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "dro_ros.ros.nodes.agent_once", "--spec", json.dumps(spec)],
                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return self

    def wait(self, timeout: float) -> list[ProcessOutcome]:
        """Wait for every process (all within `timeout` seconds in total), then parse their reports."""
        deadline = time.monotonic() + timeout
        outcomes = []
        for spec, process in zip(self.specs, self.processes):
            hung = False
            try:
                stdout, stderr = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                hung = True
                stdout, stderr = _stop_hung(process)
            outcomes.append(ProcessOutcome(spec["address"], process.returncode, _last_json(stdout), stderr, hung))
        return outcomes

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_hung(process: subprocess.Popen) -> tuple[str, str]:
    """SIGABRT first (with PYTHONFAULTHANDLER the child prints where it hangs), then SIGKILL."""
    process.send_signal(signal.SIGABRT)
    try:
        return process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None
