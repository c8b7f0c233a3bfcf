"""`dro-ros fleet up CONFIG`: start a config's nodes as OS processes where `ros2 launch` is not installed.

The node list is the launch files' (`launch_plan.node_list`). Each node runs as
`python -m dro_ros.ros.nodes.<executable> --ros-args -r __node:=<name> -r __ns:=<namespace>
--params-file <file>`, with its parameters written to a private parameter file. Every output line is
printed with the node's prefix (`[robot_3/agent] ...`). The fleet stops, every process with SIGINT then
SIGKILL after `grace` seconds, when a required node exits (its exit code is the fleet's), when any node
fails (exit code 1), or on Ctrl-C (130). With goals (`--goals FILE`), this process sends them to the
fleet's mission server one after the other (`ros.mission_client`, imported only then) and stops the fleet
after the last. The processes get the Fast DDS defaults of `processes.FAST_DDS_PROFILE` unless
FASTDDS_DEFAULT_PROFILES_FILE is set. When the scenario scripts dropouts, the fleet runs a
`ros.dropouts.DropoutInjector`, which suspends and resumes, or kills and restarts, agent processes at the
times each mission announces; a node it killed is not a failed node.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import yaml

from dro_ros.ros.launch_plan import NodeDescription
from dro_ros.ros.processes import isolated_ros_env, with_dds_profile


def node_command(node: NodeDescription, params_file: Path) -> list[str]:
    command = [sys.executable, "-m", f"dro_ros.ros.nodes.{node.executable}", "--ros-args",
               "-r", f"__node:={node.name}"]
    if node.namespace != "/":
        command += ["-r", f"__ns:={node.namespace}"]
    return command + ["--params-file", str(params_file)]


def label(node: NodeDescription) -> str:
    return f"{node.namespace.strip('/')}/{node.name}" if node.namespace != "/" else node.name


class Fleet:
    """`with Fleet(nodes) as fleet: code = fleet.wait()`; see the module docstring."""

    def __init__(self, nodes: list[NodeDescription], *, isolated: bool = False, domain: int | None = None,
                 grace: float = 5.0, out: IO[str] = sys.stdout) -> None:
        self.nodes = nodes
        self.isolated = isolated
        self._dir = tempfile.TemporaryDirectory(prefix="dro_ros_fleet_")
        self.env = with_dds_profile(isolated_ros_env(domain) if isolated else dict(os.environ), Path(self._dir.name))
        self.grace = grace
        self.out = out
        self.processes: dict[str, subprocess.Popen] = {}
        self.suspended: set[str] = set()
        self._lock = threading.Lock()   # processes and suspended: the dropout injector changes them too
        self._print = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.injector = None
        self.unresponsive: list[str] = []   # nodes killed at the stop: not exited `grace` s after SIGINT
        self.exit_seconds: dict[str, float] = {}   # at the stop: each node's time from SIGINT to its exit

    def __enter__(self) -> "Fleet":
        from dro_ros.ros.dropouts import scripted_dropouts

        for node in self.nodes:
            self.start(node)
        dim = scripted_dropouts(self.nodes)
        if dim is not None:
            from dro_ros.ros.dropouts import DropoutInjector

            try:
                self.injector = DropoutInjector(self, dim)
            except BaseException:
                self._stop_all()
                raise
        return self

    def start(self, node: NodeDescription) -> subprocess.Popen:
        """Start (or restart) one node."""
        params = Path(self._dir.name) / f"{label(node).replace('/', '__')}.yaml"
        params.write_text(yaml.safe_dump({"/**": {"ros__parameters": node.parameters}}))
        process = subprocess.Popen(node_command(node, params), env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        with self._lock:
            self.processes[label(node)] = process
        thread = threading.Thread(target=self._stream, args=(label(node), process.stdout), daemon=True)
        thread.start()
        self._threads.append(thread)
        return process

    def suspend(self, name: str) -> None:
        """Stop node `name`'s process (SIGSTOP) until `resume`."""
        with self._lock:
            self.processes[name].send_signal(signal.SIGSTOP)
            self.suspended.add(name)

    def resume(self, name: str) -> None:
        with self._lock:
            self.suspended.discard(name)
            self.processes[name].send_signal(signal.SIGCONT)

    def kill(self, name: str) -> None:
        """Kill node `name`'s process (SIGKILL) on purpose: `wait` does not count it as failed."""
        with self._lock:
            process = self.processes.pop(name)
        process.kill()
        _reap(process, self.grace)

    def restart(self, name: str) -> None:
        self.start(next(n for n in self.nodes if label(n) == name))

    def ended(self) -> dict[str, int]:
        """The nodes whose process has ended (not killed on purpose), with their exit codes."""
        with self._lock:
            running = list(self.processes.items())
        return {name: code for name, process in running if (code := process.poll()) is not None}

    def _stream(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            with self._print:
                self.out.write(f"[{name}] {line}")
                self.out.flush()

    def wait(self, timeout: float | None = None) -> int:
        """Until a required node exits (its code), a node fails (1), or `timeout` seconds pass (124)."""
        required = {label(n) for n in self.nodes if n.required}
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            with self._lock:
                running = list(self.processes.items())
            for name, process in running:
                code = process.poll()
                if code is None:
                    continue
                if name in required:
                    return code
                if code != 0:
                    self.say(f"{name} exited with code {code}; stopping the fleet")
                    return 1
            time.sleep(0.1)
        self.say(f"fleet still running after {timeout} s; stopping it")
        return 124

    def say(self, text: str, prefix: str = "fleet") -> None:
        with self._print:
            self.out.write(f"[{prefix}] {text}\n")
            self.out.flush()

    def __exit__(self, *exc: object) -> None:
        # a second Ctrl-C while the nodes shut down must not leave them behind
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is threading.main_thread() else None
        try:
            self._stop_all()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _stop_all(self) -> None:
        if self.injector is not None:
            self.injector.stop()
        with self._lock:
            for name in self.suspended:
                self.processes[name].send_signal(signal.SIGCONT)
            self.suspended.clear()
            running = {name: p for name, p in self.processes.items() if p.poll() is None}
        for process in running.values():
            process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        deadline = sent + self.grace
        waiting = dict(running)
        while waiting and time.monotonic() < deadline:
            for name, process in list(waiting.items()):
                if process.poll() is not None:
                    self.exit_seconds[name] = time.monotonic() - sent
                    del waiting[name]
            time.sleep(0.02)
        for name, process in waiting.items():
            self.unresponsive.append(name)
            self.say(f"{name} did not exit within {self.grace:g} s of SIGINT; killed")
            process.kill()
        for process in waiting.values():
            _reap(process, self.grace)
        slow = sorted((t, n) for n, t in self.exit_seconds.items() if t > self.grace / 2)
        if slow:
            self.say("slow to exit after SIGINT: " + ", ".join(f"{n} {t:.1f} s" for t, n in slow))
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._dir.cleanup()


def _reap(process: subprocess.Popen, timeout: float) -> None:
    """Wait at most `timeout` seconds for a killed node's exit. Never without a bound: a Ctrl-C or SIGTERM
    (raised as KeyboardInterrupt) that lands inside `Popen.poll` between its lock's acquire and its `try`
    leaves that lock held, and an unbounded `wait` then blocks forever, with the fleet's other nodes not
    yet stopped (seen once: `fleet up` hung 30 minutes after SIGTERM, its agents and trackers running)."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass   # SIGKILL was sent; the OS ends it, and this process does not wait for it


def fleet_up(nodes: list[NodeDescription], *, isolated: bool = False, domain: int | None = None,
             timeout: float | None = None, goals: list[dict[str, Any]] | None = None) -> int:
    """Run the fleet to the end; Ctrl-C stops it cleanly (exit code 130). With `goals`, send them in order
    to the fleet's mission server from this process, then stop the fleet: exit 0 when every mission
    succeeded, else 1."""
    with Fleet(nodes, isolated=isolated, domain=domain) as fleet:
        try:
            if goals:
                return _send_goals(fleet, goals, timeout)
            return fleet.wait(timeout)
        except KeyboardInterrupt:
            return 130


def _send_goals(fleet: Fleet, goals: list[dict[str, Any]], timeout: float | None) -> int:
    """Each goal's feedback phases and result (one JSON line each) are printed with the prefix [mission]."""
    if fleet.isolated:
        os.environ.update(fleet.env)  # this process joins the fleet's DDS domain
    import rclpy

    from dro_ros.ros.mission_client import goal_message, send_goal

    failures = 0
    with rclpy.init():
        for k, fields in enumerate(goals):
            phases: list[str] = []

            def show(feedback, k=k) -> None:
                if not phases or phases[-1] != feedback.phase:
                    phases.append(feedback.phase)
                    fleet.say(f"goal {k + 1}: {feedback.phase} (t = {feedback.elapsed:.1f} s)", prefix="mission")

            outcome = send_goal(goal_message(fields), on_feedback=show, server_timeout=300.0, timeout=timeout)
            fleet.say(json.dumps(outcome.as_dict(), default=str), prefix="mission")
            failures += outcome.status.name != "SUCCEEDED"
            if any(p.poll() is not None for p in list(fleet.processes.values())):
                fleet.say("a node exited; stopping")
                return 1
    return 1 if failures else 0
