"""`RosCarrier`: an agent as an rclpy node; messages are `dro_ros/msg/Envelope` on inbox topics.

Topics: agent `a` subscribes to `/a/dro/inbox`; sending to `b` publishes on `/b/dro/inbox`.
Request/reply (`send_awaitable`) travels the same way: the reply carries `in_reply_to` = the request's
`message_id` and is routed to the waiting future, not to the handler.

QoS (`INBOX_QOS`): RELIABLE, because the algorithms count on every round's message arriving;
TRANSIENT_LOCAL with KEEP_LAST(256), so a message published before the receiver's subscription was
discovered (start-up, a restarted node) is still delivered when it appears; 256 is far more than the
few rounds a synchronous algorithm can have in flight on one link.

Threads: rclpy's executor spins in its own thread (see `runtime.py`); the subscription callback only
converts the Envelope and hands it to the asyncio loop with `call_soon_threadsafe`; decoding,
validation and the agent's handlers run on the loop. Publishing from the loop thread is thread-safe.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from dro_ros.core.carrier import DEFAULT_REPLY_TIMEOUT, Agent, CarrierBase, ReplyTimeout, call_maybe_async
from dro_ros.core.wire import WireMessage
from dro_ros.ros.envelope import Envelope, from_ros, to_ros

INBOX_QOS = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                       history=HistoryPolicy.KEEP_LAST, depth=256)


def inbox_topic(address: str) -> str:
    return f"/{address}/dro/inbox"


class RosCarrier(CarrierBase):
    """One agent on its own node; `fleet` lists every address of the run (neighbours and others)."""

    def __init__(self, node: Node, agent: Agent, address: str, neighbours: list[str], fleet: list[str],
                 problem_id: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(agent, address, problem_id)
        unknown = sorted(set(neighbours) - set(fleet))
        if unknown:
            raise ValueError(f"{address}: neighbours {unknown} are not in the fleet")
        self.node = node
        self.loop = loop
        self.neighbours = sorted(neighbours)
        self.fleet = set(fleet)
        self.last_heard = time.monotonic()
        self._publishers = {n: node.create_publisher(Envelope, inbox_topic(n), INBOX_QOS) for n in self.neighbours}
        self.subscription = node.create_subscription(Envelope, inbox_topic(address), self._on_envelope, INBOX_QOS)

    # --- verbs -----------------------------------------------------------------------------------
    def others(self) -> list[str]:
        return list(self.neighbours)

    async def send_awaitable(self, content: Any, receiver: str, timeout: float = DEFAULT_REPLY_TIMEOUT) -> Any:
        message_id, future = self._expect_reply(content, receiver)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise ReplyTimeout(self.address, receiver, timeout) from None
        finally:
            self._pending_replies.pop(message_id, None)

    def schedule_using(self, callback: Callable[[], Any], delay: float) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, lambda: self._enqueue(lambda: call_maybe_async(callback)))

    async def compute(self, function: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.loop.run_in_executor(None, function, *args)
        finally:
            self.stats.compute_seconds += time.perf_counter() - started

    # --- discovery -------------------------------------------------------------------------------
    def unreached_neighbours(self) -> list[str]:
        """Neighbours whose inbox has not matched our publisher, or who do not yet publish to us."""
        missing = [n for n in self.neighbours if self._publishers[n].get_subscription_count() == 0]
        if not missing and self.subscription.get_publisher_count() < len(self.neighbours):
            missing = ["(a neighbour's publisher to this inbox)"]
        return missing

    # --- transport hooks -------------------------------------------------------------------------
    def _known(self, receiver: str) -> bool:
        return receiver in self.fleet and receiver != self.address

    def _transmit(self, wire: WireMessage, nbytes: int) -> None:
        publisher = self._publishers.get(wire.receiver)
        if publisher is None:
            publisher = self.node.create_publisher(Envelope, inbox_topic(wire.receiver), INBOX_QOS)
            self._publishers[wire.receiver] = publisher
        publisher.publish(to_ros(wire))

    def _on_envelope(self, message: Envelope) -> None:
        """Executor thread: convert, measure and hand over to the asyncio loop."""
        wire = from_ros(message)
        self.loop.call_soon_threadsafe(self._arrive, wire, wire.cdr_size())

    def _arrive(self, wire: WireMessage, nbytes: int) -> None:
        self.last_heard = time.monotonic()
        self._receive(wire, nbytes)
