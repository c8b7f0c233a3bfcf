"""`SimpleCarrier`: every agent in one asyncio process, as a deterministic discrete-event simulation.

The `ActorContainer` owns a virtual clock and an event queue ordered by (time, sender, sender's sequence
number). It delivers every event due at the earliest time, then waits until no agent is runnable (all
handlers finished, or parked on a reply, and no `compute` in progress) before advancing the clock. So:

* a message goes through the codec (`copy_for_delivery`: every field checked as `encode` checks it, every
  array copied): the receiver gets a copy, as on a network, and the traffic counters count the bytes
  of its wire form (`wire_size`);
* delays and the drop decision are drawn from one seeded RNG per sender, so a run is reproducible
  whatever the thread timing of `compute` calls;
* timeouts and timers are virtual: a neighbour that never answers costs no wall time and never hangs;
* completion is exact: the run is done when no event is queued and no agent is runnable.

Handlers of one agent run one at a time in arrival order (like a single-threaded ROS executor per node);
different agents run concurrently, and `compute` offloads CPU-heavy solves to threads.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import heapq
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from dro_ros.core.carrier import DEFAULT_REPLY_TIMEOUT, Agent, CarrierBase, MessageMeta, ReplyTimeout
from dro_ros.core.codec import copy_for_delivery
from dro_ros.core.report import RunReport, RunStatus, collect
from dro_ros.core.topology import Topology, TopologyError
from dro_ros.core.wire import WireMessage

log = logging.getLogger("dro_ros.simple")
_CURRENT_WORKER: contextvars.ContextVar["SimpleCarrier | None"] = contextvars.ContextVar("worker", default=None)


@dataclass(frozen=True)
class Outage:
    """`address`'s links cut (nothing in or out) from `start` for `duration` seconds of the carrier's clock."""

    address: str
    start: float
    duration: float

    def covers(self, address: str, t: float) -> bool:
        return address == self.address and self.start <= t < self.start + self.duration


@dataclass(frozen=True)
class NetworkModel:
    """Simulated link behaviour, the same for the in-process and the ROS carrier. `delay` in seconds: a
    constant or a (low, high) uniform range, drawn per message; `drop_probability` per message; `outages`
    cut an address's links for an interval. Times are the carrier's clock: virtual seconds from the run's
    start in process, seconds since the agent process started over DDS. Draws are seeded per sender by
    `seed`."""

    delay: float | tuple[float, float] = 0.0
    drop_probability: float = 0.0
    seed: int = 0
    outages: tuple[Outage, ...] = ()

    def __post_init__(self) -> None:
        low, high = self.delay_range
        if not 0 <= low <= high:
            raise ValueError(f"delay: need 0 <= low <= high, got {self.delay!r}")
        if not 0 <= self.drop_probability < 1:
            raise ValueError(f"drop_probability: need a value in [0, 1), got {self.drop_probability}")
        for k, outage in enumerate(self.outages):
            if not (isinstance(outage, Outage) and outage.start >= 0 and outage.duration > 0):
                raise ValueError(f"outages[{k}]: need an Outage with start >= 0 and duration > 0, got {outage!r}")

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> "NetworkModel":
        """From a fleet config's or an agent spec's `network` section: {delay: s | [low, high],
        drop_probability, seed, outages: [{robot, start, duration}]}; a ValueError names the field."""
        config = dict(config or {})
        unknown = sorted(set(config) - {"delay", "drop_probability", "seed", "outages"})
        if unknown:
            raise ValueError(f"network: unknown key(s) {', '.join(unknown)}")
        delay = config.get("delay", 0.0)
        if isinstance(delay, list) and len(delay) == 2 and all(_is_number(v) for v in delay):
            delay = (float(delay[0]), float(delay[1]))
        elif not _is_number(delay):
            raise ValueError(f"network.delay: expected seconds or [low, high], got {delay!r}")
        drop, seed = config.get("drop_probability", 0.0), config.get("seed", 0)
        if not _is_number(drop):
            raise ValueError(f"network.drop_probability: expected a number, got {drop!r}")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"network.seed: expected an integer, got {seed!r}")
        outages = config.get("outages") or []
        if not isinstance(outages, list):
            raise ValueError(f"network.outages: expected a list, got {outages!r}")
        parsed = []
        for k, item in enumerate(outages):
            where = f"network.outages[{k}]"
            if not isinstance(item, dict) or set(item) != {"robot", "start", "duration"}:
                raise ValueError(f"{where}: expected {{robot, start, duration}}, got {item!r}")
            if not isinstance(item["robot"], str) or not all(_is_number(item[f]) for f in ("start", "duration")):
                raise ValueError(f"{where}: expected a robot name and numbers of seconds, got {item!r}")
            parsed.append(Outage(item["robot"], float(item["start"]), float(item["duration"])))
        try:
            return cls(delay, float(drop), seed, tuple(parsed))
        except ValueError as error:
            raise ValueError(f"network.{error}") from None

    def to_config(self) -> dict[str, Any]:
        return {"delay": list(self.delay) if isinstance(self.delay, tuple) else self.delay,
                "drop_probability": self.drop_probability, "seed": self.seed,
                "outages": [{"robot": o.address, "start": o.start, "duration": o.duration} for o in self.outages]}

    @property
    def delay_range(self) -> tuple[float, float]:
        if isinstance(self.delay, (tuple, list)):
            return float(self.delay[0]), float(self.delay[1])
        return float(self.delay), float(self.delay)

    def cut(self, address: str, t: float) -> bool:
        """Whether `address`'s links are cut at `t` (an outage covers it)."""
        return any(outage.covers(address, t) for outage in self.outages)

    def draw_delay(self, rng: random.Random) -> float:
        low, high = self.delay_range
        return low if low == high else rng.uniform(low, high)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Event:
    """A queued action; the heap holds (time, owner, sequence, event) so ties break deterministically."""

    __slots__ = ("time", "fire", "cancelled")

    def __init__(self, at: float, fire: Callable[[], None]) -> None:
        self.time = at
        self.fire = fire
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ActorContainer:
    """Hosts `SimpleCarrier`s, runs the virtual clock, detects completion and collects results."""

    def __init__(self, topology: Topology | None = None, network: NetworkModel | None = None,
                 problem_id: str = "run") -> None:
        self.topology = topology
        self.network = network or NetworkModel()
        self.problem_id = problem_id
        self.carriers: list[SimpleCarrier] = []
        self.now = 0.0
        self.done_event = asyncio.Event()
        self._by_address: dict[str, SimpleCarrier] = {}
        self._events: list[tuple[float, str, int, _Event]] = []
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._dispatcher: asyncio.Task | None = None
        self._max_time = float("inf")
        self._time_limit_hit = False

    # --- membership ------------------------------------------------------------------------------
    def register(self, carrier: "SimpleCarrier", address: str | None) -> str:
        address = address or f"agent_{len(self.carriers) + 1}"
        if address in self._by_address:
            raise ValueError(f"address {address!r} is already registered")
        self.carriers.append(carrier)
        self._by_address[address] = carrier
        return address

    def neighbours_of(self, carrier: "SimpleCarrier") -> list[str]:
        if self.topology is None:
            return sorted(c.address for c in self.carriers if c is not carrier)
        index = self.carriers.index(carrier)
        if index >= self.topology.n:
            raise TopologyError(f"topology has {self.topology.n} nodes but {len(self.carriers)} agents")
        return sorted(self.carriers[j].address for j in self.topology.neighbours[index])

    def carrier(self, address: str) -> "SimpleCarrier | None":
        return self._by_address.get(address)

    # --- running ---------------------------------------------------------------------------------
    async def run(self, *, max_time: float = float("inf"), wall_timeout: float = 600.0) -> RunReport:
        """Call every agent's `on_start`, run until nothing is left to do, and report.

        `max_time` bounds the virtual clock; `wall_timeout` bounds the real time (then the run is
        cancelled and reported as `WALL_TIMEOUT`).
        """
        if self.topology is not None and self.topology.n != len(self.carriers):
            raise TopologyError(f"topology has {self.topology.n} nodes but {len(self.carriers)} agents")
        self._max_time = max_time
        started = time.perf_counter()
        for carrier in self.carriers:
            if hasattr(carrier.agent, "on_start"):
                carrier.schedule_using(lambda c=carrier: c.agent.on_start(c), 0.0)
        self._ensure_dispatching()
        try:
            await asyncio.wait_for(asyncio.shield(self.done_event.wait()), wall_timeout)
            status = None
        except asyncio.TimeoutError:
            self._dispatcher.cancel()
            status = RunStatus.WALL_TIMEOUT
        return self.report(status, time.perf_counter() - started)

    def report(self, status: RunStatus | None = None, wall_time: float = 0.0) -> RunReport:
        limit = RunStatus.TIME_LIMIT if self._time_limit_hit else None
        return collect(self.carriers, status, wall_time, simulated_time=self.now, limit_hit=limit)

    # --- the event queue -------------------------------------------------------------------------
    def schedule(self, owner: "SimpleCarrier", at: float, fire: Callable[[], None]) -> _Event:
        event = _Event(at, fire)
        heapq.heappush(self._events, (at, owner.address, owner.next_sequence(), event))
        self._ensure_dispatching()
        return event

    def _ensure_dispatching(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self.done_event.clear()
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while True:
            await self._wait_idle()
            batch_time = self._next_time()
            if batch_time is None:
                break
            if batch_time > self._max_time:
                self._time_limit_hit = True
                break
            self.now = batch_time
            while self._events and self._events[0][0] == batch_time:
                event = heapq.heappop(self._events)[3]
                if not event.cancelled:
                    event.fire()
        self.done_event.set()

    def _next_time(self) -> float | None:
        while self._events and self._events[0][3].cancelled:
            heapq.heappop(self._events)
        return self._events[0][0] if self._events else None

    async def _wait_idle(self) -> None:
        while True:
            if self._busy == 0:
                await asyncio.sleep(0)  # let tasks scheduled a moment ago claim the loop
                if self._busy == 0:
                    return
            await self._idle.wait()

    def busy(self, delta: int) -> None:
        self._busy += delta
        if self._busy == 0:
            self._idle.set()
        else:
            self._idle.clear()


class SimpleCarrier(CarrierBase):
    """In-process carrier for one agent inside an `ActorContainer` (see the module docstring)."""

    def __init__(self, container: ActorContainer, agent: Agent, address: str | None = None) -> None:
        self.container = container
        super().__init__(agent, container.register(self, address), container.problem_id)
        self._sequence = 0
        self._rng = random.Random(f"{container.network.seed}/{self.address}")
        self._drop_probability = container.network.drop_probability
        self._parked = 0

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    # --- verbs -----------------------------------------------------------------------------------
    def others(self) -> list[str]:
        return self.container.neighbours_of(self)

    async def send_awaitable_many(self, requests: list[tuple[Any, str]],
                                  timeout: float = DEFAULT_REPLY_TIMEOUT) -> list[Any]:
        """One virtual deadline and one park for the whole batch; replies bypass the handler."""
        if not requests:
            return []
        batch = asyncio.get_running_loop().create_future()
        replies: dict[int, Any] = {}
        parked = _CURRENT_WORKER.get() is self

        def settle(result: list[Any] | None = None, error: BaseException | None = None) -> None:
            if batch.done():
                return
            if parked:
                self._unpark()  # synchronously, before the dispatcher can see the system idle
            if error is None:
                batch.set_result(result)
            else:
                batch.set_exception(error)

        def on_reply(position: int, content: Any) -> None:
            replies[position] = content
            if len(replies) == len(requests):
                settle([replies[k] for k in range(len(requests))])

        def expire() -> None:
            silent = [receiver for k, (_, receiver) in enumerate(requests) if k not in replies]
            settle(error=ReplyTimeout(self.address, silent, timeout))

        ids = [self._expect_reply(content, receiver, functools.partial(on_reply, k))
               for k, (content, receiver) in enumerate(requests)]
        timer = self.container.schedule(self, self.container.now + timeout, expire)
        if parked:
            self._park()
        try:
            return await batch
        finally:
            timer.cancel()
            for message_id in ids:
                self._pending_replies.pop(message_id, None)

    def schedule_using(self, callback: Callable[[], Any], delay: float) -> _Event:
        return self.container.schedule(self, self.container.now + delay,
                                       lambda: self._enqueue(callback))

    async def compute(self, function: Callable[..., Any], *args: Any) -> Any:
        self.container.busy(+1)  # a solve in progress holds the virtual clock
        try:
            return await super().compute(function, *args)
        finally:
            self.container.busy(-1)

    # --- transport hooks -------------------------------------------------------------------------
    def _known(self, receiver: str) -> bool:
        return self.container.carrier(receiver) is not None

    def _transmit(self, wire: WireMessage, nbytes: int) -> None:
        """A message in wire form arrives through `_receive`, decoded and checked (the base class's path;
        this carrier's own sends go through `_post`)."""
        self._carry(wire.receiver, lambda receiver: receiver._receive(wire, nbytes))

    def _post(self, content: Any, receiver: str, message_id: int, in_reply_to: int) -> int:
        copy, type_name, iteration, nbytes = copy_for_delivery(content, sender=self.address, receiver=receiver,
                                                               problem_id=self.problem_id)
        meta = MessageMeta(self.address, receiver, type_name, self.problem_id, message_id, in_reply_to, iteration,
                           time.time_ns(), nbytes)
        self._carry(receiver, lambda carrier: carrier._accept(copy, meta))
        return nbytes

    def _carry(self, receiver: str, arrive: Callable[["SimpleCarrier"], None]) -> None:
        """Drop (an outage of either end now, or a seeded loss) or schedule the arrival after the simulated
        delay; a receiver cut off when it arrives loses it too."""
        container, network = self.container, self.container.network
        if network.cut(self.address, container.now) or network.cut(receiver, container.now):
            self.stats.dropped += 1
            log.debug("%s: dropped a message to %s (link outage)", self.address, receiver)
            return
        if self._drop_probability and self._rng.random() < self._drop_probability:
            self.stats.dropped += 1
            log.debug("%s: dropped a message to %s (simulated loss)", self.address, receiver)
            return
        at = container.now + network.draw_delay(self._rng)
        carrier = container.carrier(receiver)

        def land() -> None:
            if network.cut(receiver, container.now):
                self.stats.dropped += 1
                return
            arrive(carrier)
        container.schedule(self, at, land)

    # --- virtual-clock accounting of the agent's worker ------------------------------------------
    def _worker_started(self) -> None:
        self.container.busy(+1)

    def _worker_stopped(self) -> None:
        self.container.busy(-1)

    def _work(self) -> None:
        _CURRENT_WORKER.set(self)  # in this callback's context: send_awaitable knows it parks this worker
        super()._work()

    def _park(self) -> None:
        """The worker waits on replies: it no longer holds the virtual clock."""
        if self._parked == 0:
            self.container.busy(-1)
        self._parked += 1

    def _unpark(self) -> None:
        self._parked -= 1
        if self._parked == 0:
            self.container.busy(+1)


def cid(carrier: CarrierBase) -> str:
    """The address of a carrier (name kept from the reference API)."""
    return carrier.get_address()


async def run_in_process(agents: Iterable[Agent], *, topology: Topology | None = None,
                         network: NetworkModel | None = None, addresses: Iterable[str] | None = None,
                         problem_id: str = "run", max_time: float = float("inf"),
                         wall_timeout: float = 600.0) -> RunReport:
    """Run `agents` on a fresh `ActorContainer` (agent k is node k of `topology`) and report."""
    container = ActorContainer(topology, network, problem_id)
    agents = list(agents)
    names = list(addresses) if addresses is not None else [None] * len(agents)
    if len(names) != len(agents):
        raise ValueError(f"addresses: {len(names)} given for {len(agents)} agents")
    for agent, address in zip(agents, names):
        SimpleCarrier(container, agent, address)
    return await container.run(max_time=max_time, wall_timeout=wall_timeout)
