"""The reference package's mango integration: a carrier over a mango `Role`, and two roles.

`DistributedOptimizationRole(algorithm)` hosts a participant, `CoordinatorRole(coordinator)` a
coordinator that starts on `StartCoordinatedDistributedOptimization` and finally sends each participant
an `OptimizationFinishedMessage` with its share of the result. Neighbours are mango's topology
neighbours (`include_self` adds the own address). Payloads are copied (`copied`) before sending (mango does
not copy messages inside one container); across containers the container's codec must know their types.
Every awaited reply times out after `reply_timeout` seconds (`ReplyTimeout`), and `wait_done` takes a
timeout too. dro_ros's own transport for its agents is `dro_ros.mango.MangoCarrier` (JSON envelopes).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import mango

from dro_ros.compat.algorithm import Coordinator, DistributedAlgorithm, on_exchange_message, start_optimization
from dro_ros.compat.carrier import Carrier, copied
from dro_ros.core.carrier import ReplyTimeout

log = logging.getLogger("dro_ros.compat.mango")


@dataclass
class StartCoordinatedDistributedOptimization:
    """Sent to a `CoordinatorRole`: start a run with `input` (e.g. an `ADMMStart`)."""

    input: Any


@dataclass
class OptimizationFinishedMessage:
    """Coordinator -> participant at the end of a run: the participant's result."""

    result: Any


@dataclass
class _Request:
    content: Any
    request_id: str


@dataclass
class _Reply:
    content: Any
    request_id: str


class MangoCarrier(Carrier):
    """The carrier of the algorithm hosted by mango role `parent` (see the module docstring)."""

    def __init__(self, parent: mango.Role, include_self: bool = False, reply_timeout: float = 60.0) -> None:
        self._parent = parent
        self._include_self = include_self
        self.reply_timeout = reply_timeout
        self._pending: dict[str, asyncio.Future] = {}

    def _post(self, content: Any, receiver: Any) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(self._deliver(copied(content), receiver))

    async def _deliver(self, content: Any, receiver: Any) -> bool:
        delivered = await self._parent.context.send_message(content, receiver)
        if not delivered:  # mango returns False when no container listens at the address
            log.error("%s: cannot reach %s (%s not delivered)", self.get_address(), receiver,
                      type(content).__name__)
        return delivered

    def send_to_other(self, content: Any, receiver: Any, meta: dict | None = None) -> asyncio.Task:
        return self._post(content, receiver)

    def reply_to_other(self, content: Any, meta: dict) -> asyncio.Task:
        request_id = meta.get("_request_id")
        reply = _Reply(content, request_id) if request_id else content
        return self._post(reply, mango.sender_addr(meta))

    def send_awaitable(self, content: Any, receiver: Any, meta: dict | None = None) -> asyncio.Future:
        request_id = str(uuid4())
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending[request_id] = future

        def expire() -> None:
            if self._pending.pop(request_id, None) is not None and not future.done():
                future.set_exception(ReplyTimeout(str(self.get_address()), [str(receiver)], self.reply_timeout))

        timer = loop.call_later(self.reply_timeout, expire)
        future.add_done_callback(lambda _: timer.cancel())
        self._post(_Request(content, request_id), receiver)
        return future

    def resolve(self, reply: _Reply) -> None:
        future = self._pending.pop(reply.request_id, None)
        if future is not None and not future.done():
            future.set_result(reply.content)

    def others(self, participant_id: Any = None) -> list[Any]:
        neighbours = list(self._parent.context.neighbors())
        return neighbours + [self._parent.context.addr] if self._include_self else neighbours

    def get_address(self) -> Any:
        return self._parent.context.addr


def _report(task: asyncio.Task, errors: list[BaseException], what: str) -> None:
    if not task.cancelled() and task.exception() is not None:
        errors.append(task.exception())
        log.error("%s raised: %r", what, task.exception())


class DistributedOptimizationRole(mango.Role):
    """Hosts a `DistributedAlgorithm`; handler exceptions are logged and kept in `errors`."""

    def __init__(self, algorithm: DistributedAlgorithm, include_self: bool = False) -> None:
        super().__init__()
        self.algorithm = algorithm
        self._include_self = include_self
        self._carrier: MangoCarrier | None = None
        self.errors: list[BaseException] = []

    def setup(self) -> None:
        self._carrier = MangoCarrier(self, self._include_self)
        self.context.subscribe_message(self, self._on_reply, lambda content, meta: isinstance(content, _Reply))
        self.context.subscribe_message(
            self, self._on_message,
            lambda content, meta: not isinstance(content, (_Reply, StartCoordinatedDistributedOptimization)))

    def _on_reply(self, content: _Reply, meta: dict) -> None:
        self._carrier.resolve(content)

    def _on_message(self, content: Any, meta: dict) -> None:
        if isinstance(content, _Request):
            content, meta = content.content, {**meta, "_request_id": content.request_id}
        task = asyncio.get_running_loop().create_task(on_exchange_message(self.algorithm, self._carrier, content, meta))
        task.add_done_callback(lambda t: _report(t, self.errors, type(self.algorithm).__name__))


class CoordinatorRole(mango.Role):
    """Hosts a `Coordinator`: runs it on `StartCoordinatedDistributedOptimization`; `wait_done` returns
    its result (raising what the coordinator raised)."""

    def __init__(self, coordinator: Coordinator, include_self: bool = False) -> None:
        super().__init__()
        self.coordinator = coordinator
        self._include_self = include_self
        self._carrier: MangoCarrier | None = None
        self._done: asyncio.Future | None = None

    def setup(self) -> None:
        self._carrier = MangoCarrier(self, self._include_self)
        self.context.subscribe_message(self, self._on_reply, lambda content, meta: isinstance(content, _Reply))
        self.context.subscribe_message(
            self, self._on_start, lambda content, meta: isinstance(content, StartCoordinatedDistributedOptimization))

    def _on_reply(self, content: _Reply, meta: dict) -> None:
        self._carrier.resolve(content)

    def _on_start(self, content: StartCoordinatedDistributedOptimization, meta: dict) -> None:
        self._done = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().create_task(self._run(content.input, meta))

    async def _run(self, start: Any, meta: dict) -> None:
        try:
            results = await start_optimization(self.coordinator, self._carrier, start, meta)
            for share, address in zip(results, self._carrier.others("coordinator")):
                await self.context.send_message(OptimizationFinishedMessage(copied(share)), address)
        except Exception as error:  # handed to wait_done, never lost in the task
            log.error("coordinator raised: %r", error)
            if not self._done.done():
                self._done.set_exception(error)
            return
        if not self._done.done():
            self._done.set_result(results)

    async def wait_done(self, timeout: float = 600.0) -> Any:
        """The coordinator's result; `TimeoutError` after `timeout` s."""
        if self._done is None:
            raise RuntimeError("wait_done: the optimization has not been started")
        return await asyncio.wait_for(asyncio.shield(self._done), timeout)
