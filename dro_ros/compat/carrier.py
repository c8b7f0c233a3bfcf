"""The reference package's carrier interface and its in-process carrier.

Addresses are the 1-based registration numbers (`cid`); `meta` is a dict with "sender" and
"message_id". Unlike the reference:

* every payload is delivered as a copy, as a network would deliver it (`copied`);
* a reply goes only to the `send_awaitable` future waiting for it; one nobody awaits is counted in
  `unawaited_replies`, not handled as a new message, so two agents that answer every message do not
  answer each other's answers forever;
* a reply awaited with `send_awaitable` times out (`ReplyTimeout`, after the container's `reply_timeout`);
* an exception raised by a handler is re-raised by `start_*` instead of being lost in a task, and fails
  the `send_awaitable` future of the request it was handling at once.
"""
from __future__ import annotations

import asyncio
import copy
import logging
import pickle
from abc import ABC, abstractmethod
from typing import Any, Callable, Sequence
from uuid import uuid4

from dro_ros.compat.algorithm import Coordinator, DistributedAlgorithm, on_exchange_message, start_optimization
from dro_ros.core.carrier import ReplyTimeout

log = logging.getLogger("dro_ros.compat")
DEFAULT_RUN_TIMEOUT = 600.0


class EventWithValue:
    """An `asyncio.Event` with the value it carries once set."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.value: Any = None

    async def wait(self) -> Any:
        await self.event.wait()
        return self.value


class Carrier(ABC):
    """The verbs an algorithm uses (see the module docstring of `dro_ros.core.carrier`)."""

    @abstractmethod
    def send_to_other(self, content: Any, receiver: Any, meta: dict | None = None) -> Any:
        """Send `content` to `receiver`, fire and forget."""

    @abstractmethod
    def reply_to_other(self, content: Any, meta: dict) -> Any:
        """Answer the message whose `meta` is given."""

    @abstractmethod
    def send_awaitable(self, content: Any, receiver: Any, meta: dict | None = None) -> asyncio.Future:
        """Send `content`; the returned future resolves to the reply's content."""

    @abstractmethod
    def others(self, participant_id: Any = None) -> list[Any]:
        """The addresses of the other participants."""

    @abstractmethod
    def get_address(self) -> Any:
        """This participant's own address."""

    async def wait_for(self, awaitable: asyncio.Future | EventWithValue) -> Any:
        return await (awaitable.wait() if isinstance(awaitable, EventWithValue) else awaitable)


class ActorContainer:
    """The carriers of one in-process run; `done_event` is set whenever no message is in flight."""

    def __init__(self, reply_timeout: float = 60.0) -> None:
        self.actors: list[SimpleCarrier] = []
        self.active_tasks = 0
        self.done_event = asyncio.Event()
        self.reply_timeout = reply_timeout
        self.errors: list[BaseException] = []
        self.unawaited_replies = 0

    def _register(self, carrier: "SimpleCarrier") -> int:
        self.actors.append(carrier)
        return len(self.actors)

    def _carrier(self, address: Any) -> "SimpleCarrier":
        if not isinstance(address, int) or not 1 <= address <= len(self.actors):
            raise LookupError(f"receiver {address!r}: not an address of this container (1..{len(self.actors)})")
        return self.actors[address - 1]

    def _task_started(self) -> None:
        self.active_tasks += 1
        self.done_event.clear()

    def _task_finished(self) -> None:
        self.active_tasks -= 1
        if self.active_tasks == 0:
            self.done_event.set()

    def raise_errors(self) -> None:
        """Re-raise the first exception a handler raised (the others are logged)."""
        if self.errors:
            raise self.errors[0]


class SimpleCarrier(Carrier):
    """One participant (`actor`) in an `ActorContainer`; see the module docstring."""

    def __init__(self, container: ActorContainer, actor: DistributedAlgorithm | Coordinator) -> None:
        self.container = container
        self.actor = actor
        self.aid = container._register(self)
        self._awaiting: dict[Any, asyncio.Future] = {}

    def get_address(self) -> int:
        return self.aid

    def others(self, participant_id: Any = None) -> list[int]:
        return [carrier.aid for carrier in self.container.actors if carrier is not self]

    def send_to_other(self, content: Any, receiver: int, meta: dict | None = None) -> asyncio.Task:
        target = self.container._carrier(receiver)
        header = {"message_id": uuid4(), **(meta or {}), "sender": self.aid}
        payload = copied(content)
        self.container._task_started()
        return asyncio.get_running_loop().create_task(self._deliver(target, payload, header))

    def reply_to_other(self, content: Any, meta: dict) -> asyncio.Task:
        return self.send_to_other(content, meta["sender"], {**meta, "reply": True})

    def send_awaitable(self, content: Any, receiver: int, meta: dict | None = None) -> asyncio.Future:
        """Send; the future resolves to the reply or raises `ReplyTimeout` after `reply_timeout` s."""
        message_id = uuid4()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._awaiting[message_id] = future
        timeout = self.container.reply_timeout

        def expire() -> None:
            if not future.done():
                future.set_exception(ReplyTimeout(str(self.aid), [str(receiver)], timeout))
            self._awaiting.pop(message_id, None)

        timer = loop.call_later(timeout, expire)
        future.add_done_callback(lambda _: timer.cancel())
        self.send_to_other(content, receiver, {**(meta or {}), "message_id": message_id})
        return future

    def schedule_using(self, fn: Callable[[], Any], delay_s: float) -> asyncio.Task:
        async def later() -> None:
            await asyncio.sleep(max(delay_s, 0.0))
            fn()

        return asyncio.get_running_loop().create_task(later())

    async def _deliver(self, target: "SimpleCarrier", content: Any, meta: dict) -> None:
        try:
            if meta.get("reply"):
                waiting = target._awaiting.pop(meta["message_id"], None)
                if waiting is None:
                    self.container.unawaited_replies += 1
                    log.debug("participant %s: reply from %s that nobody awaits", target.aid, self.aid)
                elif not waiting.done():
                    waiting.set_result(content)
            else:
                await on_exchange_message(target.actor, target, content, meta)
        except Exception as error:  # re-raised by start_* (ActorContainer.raise_errors)
            log.exception("participant %s: handler raised", target.aid)
            self.container.errors.append(error)
            waiting = self._awaiting.pop(meta["message_id"], None)
            if waiting is not None and not waiting.done():  # the request failed: its sender hears at once
                waiting.set_exception(error)
        finally:
            self.container._task_finished()


def copied(content: Any) -> Any:
    """A copy of `content` as a network would deliver it: a pickle round trip, or `copy.deepcopy` for
    payloads pickle cannot handle (e.g. holding a lambda)."""
    try:
        return pickle.loads(pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(content)


def cid(carrier: SimpleCarrier) -> int:
    """The 1-based address of `carrier`."""
    return carrier.aid


async def start_distributed_optimization(actors: Sequence[DistributedAlgorithm], start_message: Any, *,
                                         timeout: float = DEFAULT_RUN_TIMEOUT) -> None:
    """Register `actors` (addresses 1..n), send `start_message` from 1 to 2, wait until no message is in flight.

    Raises `TimeoutError` if messages still circulate after `timeout` s, and a handler's exception.
    """
    if len(actors) < 2:
        raise ValueError(f"actors: need at least 2 participants, got {len(actors)}")
    container = ActorContainer()
    carriers = [SimpleCarrier(container, actor) for actor in actors]
    carriers[0].send_to_other(start_message, cid(carriers[1]))
    await _wait_done(container, timeout)


async def start_coordinated_optimization(actors: Sequence[DistributedAlgorithm], coordinator: Coordinator,
                                         start_message: Any, *, timeout: float = DEFAULT_RUN_TIMEOUT) -> Any:
    """Register `actors` (1..n) and `coordinator` (n+1) and return what the coordinator returns.

    For the ADMM coordinators that is a list of every actor's x, in `actors` order, carrying the run's
    status (`.status`, `.result`).
    """
    container = ActorContainer()
    for actor in actors:
        SimpleCarrier(container, actor)
    carrier = SimpleCarrier(container, coordinator)
    run = asyncio.ensure_future(start_optimization(coordinator, carrier, start_message, {}))
    done, _ = await asyncio.wait({run}, timeout=timeout)
    if not done:
        run.cancel()
        raise TimeoutError(f"coordinated optimization did not finish within {timeout:g} s")
    failure = run.exception()  # read now, so it is never left unretrieved in the task
    await _wait_done(container, timeout)
    if failure is not None:
        raise failure
    return run.result()


async def _wait_done(container: ActorContainer, timeout: float) -> None:
    if container.active_tasks:
        try:
            await asyncio.wait_for(container.done_event.wait(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"messages still in flight after {timeout:g} s "
                               f"({container.active_tasks} undelivered)") from None
    container.raise_errors()
