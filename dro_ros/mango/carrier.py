"""`MangoCarrier`: dro_ros agents talking through mango-agents 2.x TCP containers.

Each dro_ros agent is hosted by one mango agent (`HostAgent`, aid = the dro_ros address) in a TCP
container; a message travels as the JSON text of its `WireMessage` (floats as JSON numbers, which
round-trip float64 exactly), so an agent computes bit for bit what it computes in process. Addresses
are dro_ros addresses; a `Directory` says in which container (host, port) each one lives.

Waits are bounded: `send_awaitable(_many)` raises `ReplyTimeout` naming the silent receivers; a send
that mango cannot deliver (no container at that address) is recorded as the agent's error, naming the
receiver and its address.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

import mango
import numpy as np

from dro_ros.core.carrier import DEFAULT_REPLY_TIMEOUT, Agent, CarrierBase, ReplyTimeout, call_maybe_async
from dro_ros.core.codec import CodecError
from dro_ros.core.wire import FloatField, IntField, StringField, WireMessage

log = logging.getLogger("dro_ros.mango")


@dataclass(frozen=True)
class Endpoint:
    """Where an agent lives: its container's TCP address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


Directory = dict[str, Endpoint]
"""dro_ros address -> the endpoint of the container hosting it."""


def wire_to_json(wire: WireMessage) -> dict[str, Any]:
    """A `WireMessage` as JSON-able data (arrays as flat lists with their shapes)."""
    return {"sender": wire.sender, "receiver": wire.receiver, "algorithm": wire.algorithm,
            "problem_id": wire.problem_id, "type": wire.type, "message_id": wire.message_id,
            "in_reply_to": wire.in_reply_to, "iteration": wire.iteration, "stamp_ns": wire.stamp_ns,
            "floats": [[f.name, list(f.shape), f.data.tolist()] for f in wire.floats],
            "ints": [[f.name, list(f.shape), f.data.tolist()] for f in wire.ints],
            "strings": [[f.name, list(f.data)] for f in wire.strings]}


def wire_from_json(data: Any) -> WireMessage:
    """Inverse of `wire_to_json`, for data from the network: every field in the type `Envelope.msg` gives it
    (else `CodecError` naming the field); the codec validates the payload afterwards."""
    if not isinstance(data, dict):
        raise CodecError(f"envelope: expected a JSON object, got {type(data).__name__}")
    text = {name: _json_field(data, name, str) for name in ("sender", "receiver", "algorithm", "problem_id", "type")}
    numbers = {name: _json_field(data, name, int) for name in ("message_id", "in_reply_to", "iteration", "stamp_ns")}
    groups = {name: _json_field(data, name, list) for name in ("floats", "ints", "strings")}
    floats = [FloatField(*_json_array(item, f"floats[{k}]", np.float64)) for k, item in enumerate(groups["floats"])]
    ints = [IntField(*_json_array(item, f"ints[{k}]", np.int64)) for k, item in enumerate(groups["ints"])]
    strings = []
    for k, item in enumerate(groups["strings"]):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], list)
                and all(isinstance(t, str) for t in item[1])):
            raise CodecError(f"strings[{k}]: expected [name, [text, ...]]")
        strings.append(StringField(item[0], list(item[1])))
    return WireMessage(**text, **numbers, floats=floats, ints=ints, strings=strings)


def _json_field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CodecError(f"{name}: expected {kind.__name__}, got {value!r:.40}")
    return value


def _json_array(item: Any, where: str, dtype: type) -> tuple[str, tuple[int, ...], np.ndarray]:
    """[name, shape, flat values] of a float or int field."""
    if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], list)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in item[1]) and isinstance(item[2], list)):
        raise CodecError(f"{where}: expected [name, [dimension, ...], [value, ...]]")
    kinds = (int, float) if dtype is np.float64 else (int,)
    if any(isinstance(v, bool) or not isinstance(v, kinds) for v in item[2]):
        raise CodecError(f"{where}: {item[0]} holds a value that is not {'a number' if len(kinds) > 1 else 'an integer'}")
    try:
        values = np.asarray(item[2], dtype=dtype)
    except OverflowError:
        raise CodecError(f"{where}: {item[0]} holds a value beyond {np.dtype(dtype).name}") from None
    return item[0], tuple(item[1]), values


class HostAgent(mango.Agent):
    """The mango agent that carries one dro_ros agent; incoming messages go to its carrier."""

    def __init__(self) -> None:
        super().__init__()
        self.carrier: MangoCarrier | None = None

    def handle_message(self, content: Any, meta: dict[str, Any]) -> None:
        if self.carrier is None:
            return
        try:
            wire = wire_from_json(content)
        except CodecError as error:
            self.carrier._reject(f"malformed envelope from {meta.get('sender_id')!r}: {error}", "malformed")
            return
        self.carrier.arrived(wire)


class MangoCarrier(CarrierBase):
    """The carrier of one dro_ros agent hosted by `host` (see the module docstring)."""

    def __init__(self, agent: Agent, address: str, problem_id: str, host: HostAgent, directory: Directory,
                 neighbours: list[str]) -> None:
        super().__init__(agent, address, problem_id)
        unknown = sorted(set(neighbours) - set(directory))
        if unknown:
            raise ValueError(f"{address}: neighbours {unknown} are not in the directory")
        self.host = host
        self.directory = directory
        self.neighbours = sorted(neighbours)
        self.idle = asyncio.Event()
        self.idle.set()
        self._held: list[WireMessage] | None = []  # arrivals before `start`, handled after on_start
        host.carrier = self

    def arrived(self, wire: WireMessage) -> None:
        """An incoming envelope: handled now, or after `start` if the agent has not started yet."""
        if self._held is not None:
            self._held.append(wire)
        else:
            self._receive(wire, wire.cdr_size())

    def start(self) -> None:
        """Queue the agent's `on_start`, then everything that arrived before it (a peer may start first)."""
        if hasattr(self.agent, "on_start"):
            self._enqueue(lambda: call_maybe_async(self.agent.on_start, self))
        held, self._held = self._held or [], None
        for wire in held:
            self._receive(wire, wire.cdr_size())

    # --- verbs -----------------------------------------------------------------------------------
    def others(self) -> list[str]:
        return list(self.neighbours)

    async def send_awaitable_many(self, requests: list[tuple[Any, str]],
                                  timeout: float = DEFAULT_REPLY_TIMEOUT) -> list[Any]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in requests]
        ids = [self._expect_reply(content, receiver, lambda reply, f=future: f.done() or f.set_result(reply))
               for future, (content, receiver) in zip(futures, requests)]
        try:
            done, _ = await asyncio.wait(futures, timeout=timeout)
            if len(done) < len(futures):
                silent = [receiver for future, (_, receiver) in zip(futures, requests) if not future.done()]
                raise ReplyTimeout(self.address, silent, timeout)
            return [future.result() for future in futures]
        finally:
            for message_id in ids:
                self._pending_replies.pop(message_id, None)

    def schedule_using(self, callback: Callable[[], Any], delay: float) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(
            delay, lambda: self._enqueue(lambda: call_maybe_async(callback)))

    # --- transport hooks -------------------------------------------------------------------------
    def _known(self, receiver: str) -> bool:
        return receiver in self.directory

    def _transmit(self, wire: WireMessage, nbytes: int) -> None:
        endpoint = self.directory[wire.receiver]
        target = mango.AgentAddress((endpoint.host, endpoint.port), wire.receiver)
        asyncio.get_running_loop().create_task(self._send_over_tcp(wire_to_json(wire), target, wire.receiver, endpoint))

    async def _send_over_tcp(self, payload: dict[str, Any], target: mango.AgentAddress, receiver: str,
                             endpoint: Endpoint) -> None:
        if not await self.host.send_message(payload, target):
            self.stats.dropped += 1
            self._record_error(ConnectionError(f"{self.address}: cannot reach {receiver} at {endpoint}"))

    def _worker_started(self) -> None:
        self.idle.clear()

    def _worker_stopped(self) -> None:
        self.idle.set()
