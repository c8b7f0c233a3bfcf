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


def wire_from_json(data: dict[str, Any]) -> WireMessage:
    """Inverse of `wire_to_json`; the codec validates the payload afterwards."""
    return WireMessage(
        sender=str(data["sender"]), receiver=str(data["receiver"]), algorithm=str(data["algorithm"]),
        problem_id=str(data["problem_id"]), type=str(data["type"]), message_id=int(data["message_id"]),
        in_reply_to=int(data["in_reply_to"]), iteration=int(data["iteration"]), stamp_ns=int(data["stamp_ns"]),
        floats=[FloatField(n, tuple(s), np.asarray(v, dtype=np.float64)) for n, s, v in data["floats"]],
        ints=[IntField(n, tuple(s), np.asarray(v, dtype=np.int64)) for n, s, v in data["ints"]],
        strings=[StringField(n, [str(t) for t in v]) for n, v in data["strings"]])


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
        except (KeyError, TypeError, ValueError) as error:
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
