"""`RosCarrier`: an agent as an rclpy node; messages are `dro_ros/msg/Envelope` on inbox topics.

Topics: agent `a` subscribes to `/a/dro/inbox`; sending to `b` publishes on `/b/dro/inbox`.
Request/reply (`send_awaitable`) travels the same way: the reply carries `in_reply_to` = the request's
`message_id` and is routed to the waiting request, not to the handler.

QoS (`INBOX_QOS`): RELIABLE with KEEP_ALL, because the algorithms count on every message arriving, in
order: a full history makes the writer wait for acknowledgements instead of overwriting unacknowledged
samples (KEEP_LAST(256) lost 3528 of a 5000-message burst in `dro-ros bench transport`). VOLATILE, so
acknowledged samples are freed and a long run does not grow a history.

Back-pressure: when a slow reader fills the writer's history, `publish` raises; the carrier then keeps
that message and every later one to the same receiver in an ordered backlog, retried every millisecond
from the event loop, so nothing is lost, order is kept, and no agent's handler blocks.

Fleet membership (`dro_ros.core.auth`): every envelope sent is sealed with the fleet's name, this
carrier's epoch and, with a fleet key, a MAC; every envelope received passes the `Gate` first, in the
receiving thread, so a refused one (another fleet, a stranger, unsigned, forged, replayed) costs no queue
space. Refusals are counted in `stats.rejected_by` and logged, rate-limited.

Resource limits (`Limits`): at most `limits.inbox` messages of one sender between the receiving thread
and the agent's handler (twice that in all: the hop to the event loop, then the handler's queue), and at
most `limits.backlog` messages to one receiver in its backlog; beyond, the newest is dropped and counted
in `stats.shed`.

Link faults (`core.simple.NetworkModel`, the in-process carrier's model, from the fleet config's `network`
section): a message sent while either end's links are cut (an `Outage`, in seconds since `origin`, by
default the agent process's start) or lost (seeded `drop_probability`) is dropped and counted in
`stats.dropped`; otherwise it is published after the drawn `delay`. A message arriving while this
carrier's own links are cut is dropped too. The handshake's `Hello`s go through the same links.

Endpoints kept from run to run (`Links`): a lifecycle `agent_node` plans many runs (a receding-horizon
mission is one per window), so its inbox subscription and its publishers belong to the node's `Links`, not
to a run's carrier: they are created once and stay matched, and a run starts without DDS discovery. The
links hand each envelope to the attached carrier when it names that carrier's run (`problem_id`) and hold
a bounded number of others, so a neighbour that starts the next run first is heard once this node's
carrier for it attaches; the rest are dropped then.

Start-up handshake: a VOLATILE reader that matches a writer late skips what was written before, so a
matched publisher alone does not prove delivery. Each carrier repeats `Hello(heard=...)` to every
neighbour until that neighbour answers `heard=True` (it has received from us, so its reader is matched to
our writer); only then does the runtime start the agent. Messages that arrive before the local agent
started are held and handed over right after its `on_start`.

Threads: rclpy's executor spins in its own thread (see `runtime.py`); the subscription callback only
converts the Envelope, admits it (gate, inbox share) and hands it to the asyncio loop with
`call_soon_threadsafe`; decoding, validation and the agent's handlers run on the loop. Publishing from the loop thread is thread-safe.
"""
from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Callable

from rclpy._rclpy_pybind11 import RCLError
from rclpy.duration import Duration
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from dro_ros.core.auth import Gate, Membership
from dro_ros.core.carrier import (DEFAULT_REPLY_TIMEOUT, Agent, CarrierBase, Limits, MessageMeta, ReplyTimeout,
                                  call_maybe_async)
from dro_ros.core.codec import wire_message
from dro_ros.core.simple import NetworkModel
from dro_ros.core.wire import WireMessage
from dro_ros.ros.envelope import Envelope, from_ros, to_ros

PROCESS_START = time.monotonic()
"""The origin of link outages' times unless a carrier is given another (`RosCarrier`)."""
INBOX_QOS = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE,
                       history=HistoryPolicy.KEEP_ALL, depth=1)


@wire_message("dro")
@dataclass
class Hello:
    """Start-up handshake: `heard` says whether the sender has already received from the receiver."""

    heard: bool


BACKLOG_RETRY_SECONDS = 0.001


def inbox_topic(address: str) -> str:
    return f"/{address}/dro/inbox"


class Links:
    """An agent's DDS endpoints, kept by its node across runs (module docstring): the inbox subscription on
    `/<address>/dro/inbox` and one publisher per receiver. At most one carrier is attached at a time;
    envelopes of another run wait in `early` until a carrier of their run attaches: only authentic ones
    (`Gate.authentic`: this fleet, a member of `fleet`, signed with a key), at most `early_limit`, the oldest
    dropped first, so a flood of envelopes naming some other run cannot grow it."""

    def __init__(self, node: Node, address: str, membership: Membership, fleet: list[str],
                 early_limit: int = 256) -> None:
        self.node = node
        self.address = address
        self.gate = Gate(membership, set(fleet) - {address})
        self.publishers: dict[str, Publisher] = {}
        self.early: deque[Envelope] = deque(maxlen=early_limit)
        self._carrier: "RosCarrier | None" = None
        self._lock = threading.Lock()
        # No QoS event handlers: rclpy's executor crashes (InvalidHandle, in its spin thread) when an event
        # handler is destroyed while it waits.
        self.subscription = node.create_subscription(Envelope, inbox_topic(address), self._on_envelope, INBOX_QOS,
                                                     event_callbacks=SubscriptionEventCallbacks(
                                                         use_default_callbacks=False))

    def publisher(self, receiver: str) -> Publisher:
        publisher = self.publishers.get(receiver)
        if publisher is None:
            publisher = self.publishers[receiver] = self.node.create_publisher(
                Envelope, inbox_topic(receiver), INBOX_QOS,
                event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))
        return publisher

    def attach(self, carrier: "RosCarrier") -> None:
        """Route this address's envelopes to `carrier`, first those of its run that came early, in order;
        the other early ones are dropped."""
        with self._lock:
            self._carrier = carrier
            early, self.early = list(self.early), deque(maxlen=self.early.maxlen)
            for message in early:
                if message.problem_id == carrier.problem_id:
                    carrier.admit(message)

    def detach(self, carrier: "RosCarrier") -> None:
        with self._lock:
            if self._carrier is carrier:
                self._carrier = None

    def close(self) -> None:
        """Destroy the endpoints (the node lives on)."""
        with self._lock:
            self._carrier = None
            self.early.clear()
        self.node.destroy_subscription(self.subscription)
        for publisher in self.publishers.values():
            self.node.destroy_publisher(publisher)
        self.publishers.clear()

    def _on_envelope(self, message: Envelope) -> None:
        """Executor thread: to the attached carrier if the envelope is of its run, else into `early`."""
        with self._lock:
            carrier = self._carrier
            if carrier is not None and message.problem_id == carrier.problem_id:
                carrier.admit(message)
            elif self.gate.authentic(from_ros(message)) is None:
                self.early.append(message)


class RosCarrier(CarrierBase):
    """One agent on its own node; `fleet` lists every address of the run (neighbours and others);
    `membership` is the fleet's name and key."""

    def __init__(self, node: Node, agent: Agent, address: str, neighbours: list[str], fleet: list[str],
                 problem_id: str, loop: asyncio.AbstractEventLoop, *, membership: Membership,
                 limits: Limits = Limits(), network: NetworkModel | None = None, origin: float | None = None,
                 links: Links | None = None) -> None:
        """`network`: simulated link faults (module docstring), timed from `origin` (`time.monotonic()`;
        default: this process's start, `PROCESS_START`). `links`: the node's endpoints, kept after this
        run (module docstring); without, the carrier creates its own and destroys them on `close`."""
        super().__init__(agent, address, problem_id)
        unknown = sorted(set(neighbours) - set(fleet))
        if unknown:
            raise ValueError(f"{address}: neighbours {unknown} are not in the fleet")
        self.node = node
        self.loop = loop
        self.neighbours = sorted(neighbours)
        self.fleet = set(fleet)
        self.membership = membership
        self.limits = limits
        self.network = network if network is not None and network != NetworkModel() else None
        self.origin = PROCESS_START if origin is None else origin
        self._rng = random.Random(f"{network.seed if network else 0}/{address}")
        self._delayed = 0   # messages held back by the simulated delay, not yet published
        self.epoch = time.time_ns()   # a restarted sender's carrier has a later one (auth module docstring)
        self.gate = Gate(membership, self.fleet - {address})
        self._arriving: Counter[str] = Counter()  # sender -> envelopes handed to the loop, not yet received
        self.last_heard = time.monotonic()
        self.started = False
        self.closed = False
        self._heard: set[str] = set()     # neighbours we received from
        self._confirmed: set[str] = set()  # neighbours that received from us
        self._held: list[tuple[Any, MessageMeta]] = []
        self._backlog: dict[str, deque[Envelope]] = {}
        if links is not None and links.address != address:
            raise ValueError(f"{address}: links of {links.address!r}")
        self._own_links = links is None
        self.links = Links(node, address, membership, fleet) if links is None else links
        self._publishers = {n: self.links.publisher(n) for n in self.neighbours}  # this run's receivers
        self.links.attach(self)

    # --- verbs -----------------------------------------------------------------------------------
    def others(self) -> list[str]:
        return list(self.neighbours)

    async def send_awaitable_many(self, requests: list[tuple[Any, str]],
                                  timeout: float = DEFAULT_REPLY_TIMEOUT) -> list[Any]:
        futures = [self.loop.create_future() for _ in requests]

        def resolver(future: asyncio.Future) -> Callable[[Any], None]:
            return lambda content: future.done() or future.set_result(content)

        ids = [self._expect_reply(content, receiver, resolver(future))
               for (content, receiver), future in zip(requests, futures)]
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        except asyncio.TimeoutError:
            silent = [receiver for (_, receiver), future in zip(requests, futures) if not future.done()]
            raise ReplyTimeout(self.address, silent, timeout) from None
        finally:
            for message_id in ids:
                self._pending_replies.pop(message_id, None)

    def schedule_using(self, callback: Callable[[], Any], delay: float) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, lambda: self._enqueue(lambda: call_maybe_async(callback)))

    # --- start-up handshake -----------------------------------------------------------------------
    def greet(self) -> None:
        """Send `Hello` to every matched neighbour that has not yet confirmed it heard us."""
        for neighbour in self.unconfirmed_neighbours():
            if self._publishers[neighbour].get_subscription_count() > 0:
                self.send_to_other(Hello(heard=neighbour in self._heard), neighbour)

    def unconfirmed_neighbours(self) -> list[str]:
        return [n for n in self.neighbours if n not in self._confirmed]

    def handed_over(self) -> bool:
        """Every message sent so far is written to its DDS writer (none held back by a simulated delay or
        waiting in a backlog)."""
        return not self._delayed and not any(self._backlog.values())

    def delivered(self) -> bool:
        """Every message sent so far is written and acknowledged by its reader (RELIABLE)."""
        return self.handed_over() and all(p.wait_for_all_acked(Duration(seconds=0)) for p in self._publishers.values())

    def close(self) -> None:
        """Leave the run: detach from the links, and destroy them if this carrier created them."""
        self.closed = True
        self.links.detach(self)
        if self._own_links:
            self.links.close()
        self._publishers.clear()
        self._backlog.clear()

    def begin(self) -> None:
        """Start the agent (`on_start`), then hand over what arrived before."""
        self.started = True
        if hasattr(self.agent, "on_start"):
            self._enqueue(lambda: call_maybe_async(self.agent.on_start, self))
        for content, meta in self._held:
            self._release_slot(meta.sender)   # its slot moves to the handler's queue
            super()._deliver(content, meta)
        self._held.clear()

    # --- transport hooks -------------------------------------------------------------------------
    def _known(self, receiver: str) -> bool:
        return receiver in self.fleet and receiver != self.address

    def _transmit(self, wire: WireMessage, nbytes: int) -> None:
        if self.closed:
            return None
        if self.network is not None:   # simulated link faults (module docstring)
            network, now = self.network, time.monotonic() - self.origin
            if network.cut(self.address, now) or network.cut(wire.receiver, now) or (
                    network.drop_probability and self._rng.random() < network.drop_probability):
                with self._tally_lock:
                    self.stats.dropped += 1
                return None
            delay = network.draw_delay(self._rng)
            if delay > 0:
                self._delayed += 1
                self.loop.call_later(delay, self._publish_delayed, wire)
                return None
        return self._publish(wire)

    def _publish_delayed(self, wire: WireMessage) -> None:
        self._delayed -= 1
        self._publish(wire)

    def _publish(self, wire: WireMessage) -> None:
        if self.closed:
            return None
        self.membership.seal(wire, self.epoch)
        publisher = self._publishers.get(wire.receiver)
        if publisher is None:
            publisher = self._publishers[wire.receiver] = self.links.publisher(wire.receiver)
        message = to_ros(wire)
        backlog = self._backlog.get(wire.receiver)
        if backlog:
            if len(backlog) >= self.limits.backlog:
                return self._shed("backlog", wire.receiver)
            backlog.append(message)
            return None
        try:
            publisher.publish(message)
        except RCLError:
            self._backlog[wire.receiver] = deque([message])
            self.loop.create_task(self._drain(wire.receiver, publisher))
        return None

    async def _drain(self, receiver: str, publisher: Publisher) -> None:
        backlog = self._backlog[receiver]
        while backlog:
            try:
                publisher.publish(backlog[0])
                backlog.popleft()
            except RCLError:
                await asyncio.sleep(BACKLOG_RETRY_SECONDS)

    def admit(self, message: Envelope) -> None:
        """Executor thread (from `Links`): convert, admit (the `Gate`, then a slot of the sender's `limits.inbox`), and
        hand over to the asyncio loop."""
        if self.network is not None and self.network.cut(self.address, time.monotonic() - self.origin):
            with self._tally_lock:
                self.stats.dropped += 1
            return None
        wire = from_ros(message)
        refusal = self.gate.check(wire)
        if refusal is not None:
            return self._reject(f"{refusal.value} envelope from {wire.sender!r} (fleet {wire.fleet!r})", refusal.value)
        with self._tally_lock:
            arriving = self._arriving[wire.sender]
            if arriving < self.limits.inbox:
                self._arriving[wire.sender] = arriving + 1
                self.stats.inbox_peak = max(self.stats.inbox_peak, arriving + 1)
        if arriving >= self.limits.inbox:
            return self._shed("inbox", wire.sender)
        self.loop.call_soon_threadsafe(self._arrive, wire, wire.cdr_size())
        return None

    def _arrive(self, wire: WireMessage, nbytes: int) -> None:
        with self._tally_lock:
            self._arriving[wire.sender] -= 1
        self.last_heard = time.monotonic()
        self._receive(wire, nbytes)

    def _deliver(self, content: Any, meta: MessageMeta) -> None:
        first_contact = meta.sender not in self._heard
        self._heard.add(meta.sender)
        if isinstance(content, Hello):
            if content.heard:
                self._confirmed.add(meta.sender)
            if first_contact or not content.heard:
                self.send_to_other(Hello(heard=True), meta.sender)
            return
        self._confirmed.add(meta.sender)  # it only sends after it heard us
        if self.started:
            super()._deliver(content, meta)
        elif self._hold_slot(meta.sender):
            self._held.append((content, meta))
