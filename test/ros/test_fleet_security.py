"""Only fleet members are heard, and a flood cannot exhaust an agent: a foreign rclpy node publishing into
the agents' inboxes over real DDS (agent processes on a private, localhost-only domain)."""
import asyncio
import collections
import threading
import time

import numpy as np
import pytest

from dro_ros.core.auth import KEY_ENV
from dro_ros.core.codec import encode
from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import ring
from dro_ros.resource.averaging import AveragingAgent, RoundValue
from dro_ros.ros.launch_plan import fleet_specs
from dro_ros.ros.processes import AgentProcesses, failures, isolated_ros_env

NAMES = [f"robot_{i}" for i in range(4)]
TOPOLOGY = ring(4)
VALUES = np.random.default_rng(19).uniform(0, 10, 4)
KEY = "a fleet key of the test, 32 bytes"
WRONG_MAC = bytes(32)


def specs(limits=None):
    params = [{"initial": float(v), "tol": 1e-9, "diameter_bound": TOPOLOGY.diameter()} for v in VALUES]
    fleet = fleet_specs(TOPOLOGY, NAMES, "averaging", params, "test", {"discovery": 30, "stall": 20, "wall": 90})
    for spec in fleet:
        spec["limits"] = limits or {}
    return fleet


def undisturbed():
    agents = [AveragingAgent(v, tol=1e-9, diameter_bound=TOPOLOGY.diameter()) for v in VALUES]
    report = asyncio.run(run_in_process(agents, topology=TOPOLOGY, addresses=NAMES))
    return [report.results[name].value[0] for name in NAMES]


def forged_round_value(sender, receiver, iteration, fleet, mac=b""):
    """A well-formed averaging message claiming to come from `sender`, pulling the average towards 1000."""
    big = np.array([1000.0])
    wire = encode(RoundValue(iteration=iteration, value=big, high=big, low=big, activity=0.0, degree=2),
                  sender=sender, receiver=receiver, problem_id="test", message_id=iteration + 1)
    wire.fleet, wire.epoch, wire.mac = fleet, time.time_ns(), mac
    return wire


class Intruder:
    """A plain rclpy node on the fleet's domain: it reads every inbox (capturing genuine envelopes) and
    publishes into them from its own thread until stopped: `forge(robot, k)` returns the WireMessages to
    publish to `robot` at step k; `replay` re-publishes every captured genuine (signed) envelope twice."""

    def __init__(self, forge, replay=False):
        from dro_ros.msg import Envelope
        from dro_ros.ros.carrier import INBOX_QOS, inbox_topic
        from dro_ros.ros.runtime import Spinner

        self.forge, self.replay = forge, replay
        self.spinner = Spinner()
        node = self.spinner.add_node("intruder", "/")
        self.inboxes = {name: node.create_publisher(Envelope, inbox_topic(name), INBOX_QOS) for name in NAMES}
        self.captured = collections.deque()
        self._seen = set()
        if replay:
            for name in NAMES:
                node.create_subscription(Envelope, inbox_topic(name), self._capture, INBOX_QOS)
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _capture(self, message):
        identity = (message.sender, message.epoch, message.message_id)
        if message.mac.tobytes() not in (b"", WRONG_MAC) and identity not in self._seen:   # not one of ours
            self._seen.add(identity)
            self.captured.append(message)

    def __enter__(self):
        self.spinner.start()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)
        stopping = threading.Thread(target=self.spinner.shutdown, daemon=True)   # bounded, as runtime._shut_down
        stopping.start()
        stopping.join(timeout=5)

    def _run(self):
        from rclpy._rclpy_pybind11 import RCLError

        from dro_ros.ros.envelope import to_ros

        step = 0
        while not self._stop.is_set():
            batch = [(robot, to_ros(wire)) for robot in NAMES for wire in self.forge(robot, step)]
            while self.replay and self.captured:
                message = self.captured.popleft()
                batch += [(message.receiver, message)] * 2
            for robot, message in batch:
                try:
                    self.inboxes[robot].publish(message)
                    self.published += 1
                except RCLError:   # the reader is not keeping up (back-pressure): skip this one
                    pass
            step += 1
            time.sleep(0.002)


def run_attacked(intruder_forge, *, replay=False, env=None, limits=None, monkeypatch):
    env = env or isolated_ros_env()
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        monkeypatch.setenv(key, env[key])
    with Intruder(intruder_forge, replay) as intruder:
        time.sleep(1.0)   # discovery: the intruder is heard from the agents' first message on
        with AgentProcesses(specs(limits), env) as fleet:
            outcomes = fleet.wait(timeout=120)   # past every agent's own timeouts: a process still running hangs
    assert [o.returncode for o in outcomes] == [0] * 4, failures(outcomes)
    assert intruder.published > 0
    return outcomes


def refused(outcomes, kind):
    return sum(o.report["traffic"]["rejected_by"].get(kind, 0) for o in outcomes)


def test_with_a_fleet_key_forged_and_unsigned_envelopes_are_refused_and_replays_leave_the_result_unchanged(
        monkeypatch):
    env = {**isolated_ros_env(), KEY_ENV: KEY}

    def forge(robot, step):
        neighbour = NAMES[(NAMES.index(robot) + 1) % 4]
        return [forged_round_value(neighbour, robot, step % 200, "test"),              # unsigned
                forged_round_value(neighbour, robot, step % 200, "test", mac=WRONG_MAC)]   # forged MAC

    outcomes = run_attacked(forge, replay=True, env=env, monkeypatch=monkeypatch)
    assert [o.report["result"]["value"][0] for o in outcomes] == undisturbed()
    assert refused(outcomes, "unsigned") > 0 and refused(outcomes, "forged") > 0
    # Replays: the intruder re-publishes the genuine envelopes it captures, but whether any is captured and
    # re-published while the short run still listens depends on DDS discovery timing (this assertion failed
    # 2 of 6 runs), so here they must only leave the result unchanged (above); the replay window itself is
    # tested deterministically in test/core/test_auth.py.
    assert "dropped incoming message (forged)" in outcomes[0].stderr


def test_without_a_key_another_fleet_and_strangers_are_refused_and_the_result_is_unchanged(monkeypatch):
    def forge(robot, step):
        neighbour = NAMES[(NAMES.index(robot) + 1) % 4]
        return [forged_round_value(neighbour, robot, step % 200, "another_fleet"),
                forged_round_value("intruder", robot, step % 200, "test")]

    outcomes = run_attacked(forge, monkeypatch=monkeypatch)
    assert [o.report["result"]["value"][0] for o in outcomes] == undisturbed()
    assert refused(outcomes, "foreign_fleet") > 0 and refused(outcomes, "stranger") > 0


def test_a_flooded_inbox_stays_within_its_limit_and_the_agent_finishes_its_run(monkeypatch):
    """robot_2 is a member but not robot_0's neighbour (ring): without a key anyone may claim its name,
    and a flood under it fills only robot_2's share of robot_0's inbox. Bursts of 50 messages every 50 ms:
    a flood without pause, faster than the reader's executor takes messages, fills the DDS reader's own
    history and starves every writer (README "Security")."""
    limit = 16

    def forge(robot, step):
        if robot != "robot_0" or step % 25:
            return []
        return [forged_round_value("robot_2", robot, step * 50 + i, "test") for i in range(50)]

    outcomes = run_attacked(forge, limits={"inbox": limit}, monkeypatch=monkeypatch)
    assert [o.report["result"]["value"][0] for o in outcomes] == undisturbed()
    flooded = outcomes[0].report["traffic"]
    assert 0 < flooded["inbox_peak"] <= limit
    assert flooded["shed"].get("inbox", 0) > 0, flooded
    assert "shedding load: inbox bound of 16 messages from robot_2 hit" in outcomes[0].stderr
