"""A transport probe: the `EchoAgent` answers requests so that a peer can time the carrier it runs on.

It answers each `Ping` with itself, counts `Burst`s (fire-and-forget), answers a `Flush` with the count
(`Counted`) and ends on `Stop`. `dro-ros bench transport` drives it from a `PingAgent`, in one process or
over DDS (algorithm `echo` in an agent spec).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dro_ros.core.carrier import Carrier, MessageMeta
from dro_ros.core.codec import FloatArray, wire_message


@wire_message("echo")
@dataclass
class Ping:
    iteration: int
    payload: FloatArray


@wire_message("echo")
@dataclass
class Burst:
    iteration: int
    payload: FloatArray


@wire_message("echo")
@dataclass
class Flush:
    expected: int


@wire_message("echo")
@dataclass
class Counted:
    received: int


@wire_message("echo")
@dataclass
class Stop:
    reason: str


class EchoAgent:
    """Answers each `Ping` with itself, counts `Burst`s, answers `Flush` with the count, ends on `Stop`."""

    def __init__(self) -> None:
        self.finished = False
        self.bursts = 0

    def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        if isinstance(content, Ping):
            carrier.reply_to_other(content, meta)
        elif isinstance(content, Burst):
            self.bursts += 1
        elif isinstance(content, Flush):
            carrier.reply_to_other(Counted(self.bursts), meta)
            self.bursts = 0
        elif isinstance(content, Stop):
            self.finished = True
