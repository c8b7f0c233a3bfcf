"""`Links`, an agent node's DDS endpoints kept from run to run: each envelope goes to the carrier of its run;
one of a run not yet attached waits for it, and the others are dropped when the next carrier attaches."""
import asyncio

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from dro_ros.core.auth import Membership  # noqa: E402
from dro_ros.core.codec import encode  # noqa: E402
from dro_ros.core.echo import Burst, EchoAgent  # noqa: E402
from dro_ros.ros.carrier import Links, RosCarrier  # noqa: E402
from dro_ros.ros.envelope import to_ros  # noqa: E402


@pytest.fixture
def node():
    with rclpy.init(domain_id=91):
        node = rclpy.create_node("links_test")
        yield node
        node.destroy_node()


def envelope(run: str, message_id: int, membership: Membership):
    wire = encode(Burst(iteration=message_id, payload=np.zeros(2)), sender="b", receiver="a",
                  problem_id=run, message_id=message_id)
    membership.seal(wire, 1)
    return to_ros(wire)


def test_an_envelope_of_the_next_run_waits_for_its_carrier_and_stale_ones_are_dropped(node):
    loop = asyncio.new_event_loop()
    membership = Membership.load("fleet")
    links = Links(node, "a", membership, ["a", "b"])

    def carrier(run: str, agent: EchoAgent) -> RosCarrier:
        return RosCarrier(node, agent, "a", ["b"], ["a", "b"], run, loop, membership=membership, links=links)

    first = carrier("run/1", EchoAgent())
    links._on_envelope(envelope("run/2", 1, membership))   # a neighbour already in the next run
    links._on_envelope(envelope("run/0", 2, membership))   # a straggler of an earlier run
    links._on_envelope(envelope("run/1", 3, membership))
    for k in range(300):   # a foreign fleet naming some later run is not held
        links._on_envelope(envelope("run/2", 10 + k, Membership.load("other")))
    loop.run_until_complete(asyncio.sleep(0.05))
    assert first.stats.received == 1
    first.close()
    assert links.publishers, "the publishers outlive the run"

    agent = EchoAgent()
    second = carrier("run/2", agent)
    second.begin()
    loop.run_until_complete(asyncio.sleep(0.05))
    assert (second.stats.received, agent.bursts) == (1, 1)
    assert not links.early, "the straggler is dropped once the next run attached"
    second.close()
    links.close()
    loop.close()
