"""Agents as separate OS processes over Fast DDS on loopback (private ROS_DOMAIN_ID, localhost only)."""
import asyncio

import numpy as np
import pytest

from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import ring, small_world
from dro_ros.resource.averaging import AveragingAgent
from dro_ros.ros.launch_plan import fleet_specs
from dro_ros.ros.processes import AgentProcesses, failures, isolated_ros_env


def averaging_specs(topology, values, names, tol=1e-9, timeouts=None):
    params = [{"initial": float(v), "tol": tol, "diameter_bound": topology.diameter()} for v in values]
    return fleet_specs(topology, names, "averaging", params, "test",
                       timeouts or {"discovery": 30, "stall": 20, "wall": 120})


@pytest.mark.parametrize("topology", [ring(6), small_world(6, 0.5, seed=2)], ids=["ring", "small_world"])
def test_six_agent_processes_reach_the_average_and_match_the_in_process_run(topology):
    names = [f"robot_{i}" for i in range(6)]
    values = np.random.default_rng(8).uniform(0, 10, 6)
    with AgentProcesses(averaging_specs(topology, values, names)) as fleet:
        pids = [p.pid for p in fleet.processes]
        outcomes = fleet.wait(timeout=120)
    assert len(set(pids)) == 6 and all(p.returncode is not None for p in fleet.processes)
    assert [o.returncode for o in outcomes] == [0] * 6, failures(outcomes)
    final = np.array([o.report["result"]["value"][0] for o in outcomes])
    assert np.max(np.abs(final - values.mean())) <= 1e-6
    agents = [AveragingAgent(v, tol=1e-9, diameter_bound=topology.diameter()) for v in values]
    reference = asyncio.run(run_in_process(agents, topology=topology, addresses=names))
    assert np.array_equal(final, [reference.results[n].value[0] for n in names])
    assert all(o.report["traffic"]["rejected"] == 0 for o in outcomes)


def test_a_neighbour_that_never_appears_is_reported_without_hanging():
    names = ["robot_0", "robot_1"]
    spec = averaging_specs(ring(2), [1.0, 2.0], names, timeouts={"discovery": 2, "stall": 2, "wall": 10})[0]
    with AgentProcesses([spec]) as fleet:
        (outcome,) = fleet.wait(timeout=60)
    assert outcome.returncode == 1
    assert outcome.report["status"] == "no_contact" and outcome.report["unfinished"] == {"robot_0": ["robot_1"]}
    assert "no contact with robot_1" in outcome.stderr


def test_malformed_messages_from_the_network_are_counted_and_the_agent_carries_on():
    from dro_ros.bench.transport import PingAgent
    from dro_ros.msg import Envelope, FloatArray
    from dro_ros.ros.carrier import INBOX_QOS, inbox_topic
    from dro_ros.ros.runtime import Timeouts, run_ros_agents

    class Vandal(PingAgent):
        """Sends two broken envelopes straight onto the echo's inbox, then measures as usual."""

        async def on_start(self, carrier):
            raw = carrier.node.create_publisher(Envelope, inbox_topic("echo"), INBOX_QOS)
            bad_shape = Envelope(sender="ping", receiver="echo", problem_id="test", type="echo/Ping", message_id=900,
                                 fleet="test")
            bad_shape.floats = [FloatArray(name="payload", shape=[4], data=[1.0])]
            raw.publish(bad_shape)
            raw.publish(Envelope(sender="ping", receiver="echo", problem_id="test", type="no/Such", message_id=901,
                                 fleet="test"))
            await super().on_start(carrier)

    env = isolated_ros_env()
    echo = {"address": "echo", "neighbours": ["ping"], "fleet": ["ping", "echo"], "problem_id": "test",
            "algorithm": "echo", "timeouts": {"discovery": 30, "stall": 30, "wall": 60}}
    with pytest.MonkeyPatch.context() as patch:
        for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
            patch.setenv(key, env[key])
        with AgentProcesses([echo], env) as fleet:
            vandal = Vandal(rounds=20, burst=50, payload_size=4)
            report = asyncio.run(run_ros_agents({"ping": vandal}, {"ping": ["echo"]}, ["ping", "echo"], "test",
                                                Timeouts(discovery=30, stall=30, wall=60, linger=0.5)))
            (outcome,) = fleet.wait(timeout=60)
    assert report.ok and len(vandal.latencies) == 20
    assert outcome.returncode == 0 and outcome.report["traffic"]["rejected"] == 2
    assert "shape (4,) needs 4 values, got 1" in outcome.stderr and "unknown message type 'no/Such'" in outcome.stderr
