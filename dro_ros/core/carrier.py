"""The carrier: the only thing an agent sees of the network.

An agent talks through five verbs (after the `distributed-resource-optimization` carrier):
`send_to_other`, `reply_to_other`, `send_awaitable`, `others`, `get_address`; plus `schedule_using`
(a timer) and `compute` (run a CPU-heavy local solve off the event loop, charged to the agent).
`CarrierBase` holds what every transport shares: message ids, encoding, traffic counters, validation
of incoming messages and the routing of replies. A transport only says how a `WireMessage` travels and
how time passes.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, NamedTuple, Protocol

from dro_ros.core.codec import CodecError, decode, encode
from dro_ros.core.wire import WireMessage

log = logging.getLogger("dro_ros.carrier")

DEFAULT_REPLY_TIMEOUT = 5.0
LOG_BURST = 5              # the first rejections (or sheddings) of a kind are each logged,
LOG_EVERY_SECONDS = 10.0   # later ones at most once per this period, with the count since


@dataclass(frozen=True)
class Limits:
    """Bounds on what an agent keeps queued, so a flood cannot exhaust its memory.

    `inbox`: messages of one sender waiting for the agent's handler (and, on DDS, also those between the
    receiving thread and the event loop); `backlog`: messages to one receiver waiting for its reader
    (back-pressure). A message over a bound is dropped (the newest: what is queued stays in order, and a
    flooding sender loses its own messages, not another's) and counted in `TrafficStats.shed`."""

    inbox: int = 10_000
    backlog: int = 10_000

    def __post_init__(self) -> None:
        for name in ("inbox", "backlog"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limits.{name}: expected a positive integer, got {value!r}")


class UnknownReceiverError(LookupError):
    """`send_*` named an address that is not part of this run."""


class MessageRejected(ValueError):
    """Raised by an agent's handler for an incoming message it refuses (content of the wrong shape, a
    non-finite value, a sender that may not send it, a round its protocol cannot have sent, e.g. one far
    ahead); the text names the field. The carrier counts it as rejected (kind `protocol`) and logs it,
    rate-limited, and the agent carries on: a foreign or faulty sender cannot fail a run with one bad
    message."""


class ReplyTimeout(TimeoutError):
    """`send_awaitable(_many)` got no reply within its timeout; `receivers` are the silent ones."""

    def __init__(self, sender: str, receivers: list[str], timeout: float) -> None:
        super().__init__(f"{sender}: no reply from {', '.join(receivers)} within {timeout:g} s")
        self.receivers = receivers
        self.timeout = timeout


class MessageMeta(NamedTuple):
    """Envelope header of a received message, as handed to `on_exchange_message` (immutable)."""

    sender: str
    receiver: str
    type: str
    problem_id: str
    message_id: int
    in_reply_to: int
    iteration: int
    stamp_ns: int
    nbytes: int


@dataclass
class TrafficStats:
    """Per-agent counters; bytes are the CDR size of the envelope (`WireMessage.cdr_size`)."""

    sent: int = 0
    received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    dropped: int = 0
    rejected: int = 0
    compute_seconds: float = 0.0
    reject_reasons: list[str] = field(default_factory=list)
    rejected_by: dict[str, int] = field(default_factory=dict)  # kind -> count (receiver, problem_id,
    #   malformed, protocol (`MessageRejected`), stranger; and `auth.Refusal` values: foreign_fleet, stranger, unsigned, forged, replayed)
    shed: dict[str, int] = field(default_factory=dict)         # bound hit (`Limits`): inbox, backlog -> count
    inbox_peak: int = 0                                        # most messages of one sender queued at once


class Agent(Protocol):
    """What a carrier drives. Optional: `on_start(carrier)`, `on_inbox_drained(carrier)` (see
    `CarrierBase._work`), a `finished` flag and `result()`."""

    def on_exchange_message(self, carrier: "Carrier", content: Any, meta: MessageMeta) -> Awaitable[None] | None:
        ...


class TimerHandle(Protocol):
    def cancel(self) -> None:
        ...


class Carrier(ABC):
    """The verbs an agent uses; see the module docstring."""

    @abstractmethod
    def send_to_other(self, content: Any, receiver: str) -> None:
        """Send `content` (a `@wire_message` dataclass) to `receiver`, fire and forget."""

    @abstractmethod
    def reply_to_other(self, content: Any, meta: MessageMeta) -> None:
        """Answer the message whose header is `meta`; wakes the sender's `send_awaitable`."""

    async def send_awaitable(self, content: Any, receiver: str, timeout: float = DEFAULT_REPLY_TIMEOUT) -> Any:
        """Send and wait for the reply's content; raises `ReplyTimeout` after `timeout` seconds."""
        (reply,) = await self.send_awaitable_many([(content, receiver)], timeout)
        return reply

    @abstractmethod
    async def send_awaitable_many(self, requests: list[tuple[Any, str]],
                                  timeout: float = DEFAULT_REPLY_TIMEOUT) -> list[Any]:
        """Send every (content, receiver) request and wait for all replies, in request order.

        One deadline for the batch; `ReplyTimeout.receivers` names those that did not answer.
        """

    @abstractmethod
    def others(self) -> list[str]:
        """Addresses of this agent's neighbours under the configured topology, sorted."""

    @abstractmethod
    def get_address(self) -> str:
        """This agent's own address."""

    @abstractmethod
    def schedule_using(self, callback: Callable[[], Any], delay: float) -> TimerHandle:
        """Call `callback` (plain or async) after `delay` seconds, serialized with this agent's messages."""

    async def compute(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` off the event loop so other agents proceed; its time counts as compute."""
        started = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, function, *args)
        finally:
            self.stats.compute_seconds += time.perf_counter() - started


class CarrierBase(Carrier):
    """Shared mechanics of every transport (ids, codec, counters, reply routing, validation)."""

    def __init__(self, agent: Agent, address: str, problem_id: str) -> None:
        self.agent = agent
        self.address = address
        self.problem_id = problem_id
        self.stats = TrafficStats()
        self.error: str | None = None
        self._next_message_id = 1
        self._pending_replies: dict[int, tuple[str, Callable[[Any], None]]] = {}
        self._inbox: deque[Callable[[], Awaitable[None] | None]] = deque()
        self._working = False
        self._last_job_drained = False  # the job running is `on_inbox_drained`
        self.limits = Limits()
        self._waiting: Counter[str] = Counter()  # sender -> messages queued for the handler
        self._tally_lock = threading.Lock()      # counters may be bumped from a transport's receiving thread
        self._last_logged: dict[str, tuple[float, int]] = {}  # kind -> (time logged, count then)

    # --- verbs -----------------------------------------------------------------------------------
    def get_address(self) -> str:
        return self.address

    def send_to_other(self, content: Any, receiver: str) -> None:
        self._send(content, receiver, in_reply_to=0)

    def reply_to_other(self, content: Any, meta: MessageMeta) -> None:
        self._send(content, meta.sender, in_reply_to=meta.message_id)

    # --- transport hooks -------------------------------------------------------------------------
    @abstractmethod
    def _known(self, receiver: str) -> bool:
        """Whether `receiver` is an address of this run."""

    @abstractmethod
    def _transmit(self, wire: WireMessage, nbytes: int) -> None:
        """Put an encoded message on its way to `wire.receiver`."""

    def _worker_started(self) -> None:
        """Hook: the agent's worker became runnable."""

    def _worker_stopped(self) -> None:
        """Hook: the agent's worker ran out of work."""

    # --- shared mechanics ------------------------------------------------------------------------
    def _send(self, content: Any, receiver: str, in_reply_to: int) -> int:
        if not self._known(receiver):
            raise UnknownReceiverError(f"{self.address}: unknown receiver {receiver!r}")
        message_id = self._next_message_id
        self._next_message_id += 1
        nbytes = self._post(content, receiver, message_id, in_reply_to)
        self.stats.sent += 1
        self.stats.bytes_sent += nbytes
        return message_id

    def _post(self, content: Any, receiver: str, message_id: int, in_reply_to: int) -> int:
        """Encode and transmit a message; returns its size in bytes. The in-process carrier overrides it."""
        wire = encode(content, sender=self.address, receiver=receiver, problem_id=self.problem_id,
                      message_id=message_id, in_reply_to=in_reply_to, stamp_ns=time.time_ns())
        nbytes = wire.cdr_size()
        self._transmit(wire, nbytes)
        return nbytes

    def _expect_reply(self, content: Any, receiver: str, on_reply: Callable[[Any], None]) -> int:
        """Send a request; its reply's content goes to `on_reply` (not to the handler)."""
        message_id = self._send(content, receiver, in_reply_to=0)
        self._pending_replies[message_id] = (receiver, on_reply)
        return message_id

    def _receive(self, wire: WireMessage, nbytes: int) -> None:
        """Validate and decode an arriving message; a bad one is logged and counted, never raised (as is one
        the agent's handler refuses with `MessageRejected`)."""
        if wire.receiver != self.address:
            return self._reject(f"addressed to {wire.receiver!r}, not {self.address!r}", "receiver")
        if wire.sender == self.address or not self._known(wire.sender):
            return self._reject(f"sender {wire.sender!r} is not another member of this run", "stranger")
        if wire.problem_id != self.problem_id:
            return self._reject(f"problem_id {wire.problem_id!r} from {wire.sender!r} is not {self.problem_id!r}",
                                "problem_id")
        try:
            content = decode(wire)
        except CodecError as error:
            return self._reject(f"malformed message from {wire.sender!r}: {error}", "malformed")
        self._accept(content, MessageMeta(sender=wire.sender, receiver=wire.receiver, type=wire.type,
                                          problem_id=wire.problem_id, message_id=wire.message_id,
                                          in_reply_to=wire.in_reply_to, iteration=wire.iteration,
                                          stamp_ns=wire.stamp_ns, nbytes=nbytes))
        return None

    def _accept(self, content: Any, meta: MessageMeta) -> None:
        """Count a valid incoming message and route it: to a waiting `send_awaitable`, or to the handler."""
        self.stats.received += 1
        self.stats.bytes_received += meta.nbytes
        pending = self._pending_replies.get(meta.in_reply_to) if meta.in_reply_to else None
        if pending is not None and pending[0] == meta.sender:
            del self._pending_replies[meta.in_reply_to]
            pending[1](content)
            return
        self._deliver(content, meta)

    def _reject(self, reason: str, kind: str) -> None:
        """Count and log (rate-limited) an incoming message refused for `reason`; thread-safe."""
        with self._tally_lock:
            self.stats.rejected += 1
            count = self.stats.rejected_by[kind] = self.stats.rejected_by.get(kind, 0) + 1
            if len(self.stats.reject_reasons) < 20:
                self.stats.reject_reasons.append(reason)
        self._log_limited(kind, count, "dropped incoming message (%s): %s", kind, reason)

    def refusals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Copies of (`stats.rejected_by`, `stats.shed`), safe while a receiving thread updates them."""
        with self._tally_lock:
            return dict(self.stats.rejected_by), dict(self.stats.shed)

    def _shed(self, kind: str, peer: str) -> None:
        """Count and log (rate-limited) a message dropped because a `Limits` bound was hit; thread-safe."""
        with self._tally_lock:
            count = self.stats.shed[kind] = self.stats.shed.get(kind, 0) + 1
        bound = self.limits.inbox if kind == "inbox" else self.limits.backlog
        self._log_limited(f"shed {kind}", count, "shedding load: %s bound of %d messages %s %s hit, newest dropped",
                          kind, bound, "from" if kind == "inbox" else "to", peer)

    def _log_limited(self, kind: str, count: int, message: str, *args: Any) -> None:
        """Log the first `LOG_BURST` events of `kind`, then at most one per `LOG_EVERY_SECONDS`, with the count."""
        now = time.monotonic()
        logged_at, logged_count = self._last_logged.get(kind, (-LOG_EVERY_SECONDS, 0))
        if count > LOG_BURST and now - logged_at < LOG_EVERY_SECONDS:
            return
        self._last_logged[kind] = (now, count)
        suppressed = count - logged_count - 1
        log.warning("%s: " + message + (f" (and {suppressed} more since the last report)" if suppressed else ""),
                    self.address, *args)

    # --- the agent's serialized worker: one handler at a time, in arrival order -----------------
    def _deliver(self, content: Any, meta: MessageMeta) -> None:
        """Queue the message for the agent's handler, unless its sender has `limits.inbox` queued already."""
        if not self._hold_slot(meta.sender):
            return
        self._enqueue(functools.partial(self._handle, content, meta))

    def _hold_slot(self, sender: str) -> bool:
        """Take one of `sender`'s `limits.inbox` slots in the handler's queue, or shed the message."""
        waiting = self._waiting[sender]
        if waiting >= self.limits.inbox:
            self._shed("inbox", sender)
            return False
        self._waiting[sender] = waiting + 1
        with self._tally_lock:
            self.stats.inbox_peak = max(self.stats.inbox_peak, waiting + 1)
        return True

    def _release_slot(self, sender: str) -> None:
        left = self._waiting[sender] - 1
        if left:
            self._waiting[sender] = left
        else:
            del self._waiting[sender]   # no entry stays behind for a sender heard once

    def _handle(self, content: Any, meta: MessageMeta) -> Awaitable[None] | None:
        self._release_slot(meta.sender)
        return self.agent.on_exchange_message(self, content, meta)

    def _enqueue(self, job: Callable[[], Awaitable[None] | None]) -> None:
        """Queue `job` (called without arguments; an awaitable result is awaited) for the agent's worker."""
        self._inbox.append(job)
        if not self._working:
            self._working = True
            self._worker_started()
            asyncio.get_running_loop().call_soon(self._work)

    def _work(self) -> None:
        """The agent's worker: run the queued jobs in order, inline while they are plain calls; a job that
        returns an awaitable moves the worker into a task until the inbox is empty.

        Each time the inbox runs empty, the agent's optional `on_inbox_drained(carrier)` runs (an agent
        that acts once on everything queued, like COHDA's decision), and the worker goes on if that
        queued more."""
        pending = self._run_jobs()
        if pending is None:
            self._worker_done()
        else:
            asyncio.get_running_loop().create_task(self._await_jobs(pending))

    async def _await_jobs(self, pending: Awaitable[None]) -> None:
        try:
            while pending is not None:
                try:
                    await pending
                except MessageRejected as refusal:
                    self._reject(str(refusal), "protocol")
                except Exception as error:  # reported in the run report, never swallowed
                    self._record_error(error)
                pending = self._run_jobs()
        finally:
            self._worker_done()

    def _run_jobs(self) -> Awaitable[None] | None:
        """Run jobs until the inbox is empty (None) or a job returns an awaitable (returned, not awaited)."""
        inbox = self._inbox
        while True:
            if not inbox:
                drained = getattr(self.agent, "on_inbox_drained", None)
                if drained is None or self._last_job_drained:
                    return None
                inbox.append(functools.partial(drained, self))
                self._last_job_drained = True
            else:
                self._last_job_drained = False
            job = inbox.popleft()
            try:
                outcome = job()
            except MessageRejected as refusal:
                self._reject(str(refusal), "protocol")
                continue
            except Exception as error:  # reported in the run report, never swallowed
                self._record_error(error)
                continue
            if outcome is not None and inspect.isawaitable(outcome):
                return outcome

    def _worker_done(self) -> None:
        self._working = False
        self._worker_stopped()

    def _record_error(self, error: BaseException) -> None:
        if self.error is None:
            self.error = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("%s: handler raised:\n%s", self.address,
                  "".join(traceback.format_exception(type(error), error, error.__traceback__)))


async def call_maybe_async(callback: Callable[..., Any], *args: Any) -> None:
    outcome = callback(*args)
    if inspect.isawaitable(outcome):
        await outcome
