"""The wire form of one message: a plain mirror of `msg/Envelope.msg`.

`WireMessage` is what crosses a carrier. The in-process carrier delivers a fresh decode of it; the ROS
carrier copies it field by field into `dro_ros.msg.Envelope`. `cdr_size` is the exact number of bytes
Fast DDS puts on the wire for that Envelope (XCDR1, little endian, with the 4-byte encapsulation
header), so both carriers count the same bytes for the same message.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FloatField:
    """`msg/FloatArray.msg`: a named float64 array, row-major `data` of the given `shape`."""

    name: str
    shape: tuple[int, ...]
    data: np.ndarray


@dataclass
class IntField:
    """`msg/IntArray.msg`: a named int64 array, row-major `data` of the given `shape`."""

    name: str
    shape: tuple[int, ...]
    data: np.ndarray


@dataclass
class StringField:
    """`msg/StringArray.msg`: a named list of strings (a scalar string is a list of one)."""

    name: str
    data: list[str]


@dataclass
class WireMessage:
    """Envelope header plus typed payload; field order and meaning as in `msg/Envelope.msg`."""

    sender: str
    receiver: str
    algorithm: str
    problem_id: str
    type: str
    message_id: int
    in_reply_to: int = 0
    iteration: int = -1
    stamp_ns: int = 0
    floats: list[FloatField] = field(default_factory=list)
    ints: list[IntField] = field(default_factory=list)
    strings: list[StringField] = field(default_factory=list)
    fleet: str = ""        # the fleet's name, and with a fleet key the sender's epoch and the MAC
    epoch: int = 0         # (`dro_ros.core.auth`); a carrier without a fleet leaves them empty
    mac: bytes = b""

    def cdr_size(self) -> int:
        """Serialized size in bytes of the corresponding `Envelope` (see module docstring)."""
        return envelope_size((self.sender, self.receiver, self.algorithm, self.problem_id, self.type),
                             tuple((f.name, len(f.shape), f.data.size) for f in self.floats),
                             tuple((f.name, len(f.shape), f.data.size) for f in self.ints),
                             tuple((f.name, tuple(f.data)) for f in self.strings), (self.fleet, len(self.mac)))


@functools.lru_cache(maxsize=65536)
def envelope_size(header: tuple[str, ...], floats: tuple[tuple[str, int, int], ...],
                  ints: tuple[tuple[str, int, int], ...], strings: tuple[tuple[str, tuple[str, ...]], ...],
                  seal: tuple[str, int] = ("", 0)) -> int:
    """CDR bytes of an Envelope with header strings (sender, receiver, algorithm, problem_id, type),
    fields given as (name, dimensions, values) for floats and ints, (name, texts) for strings, and the
    seal (fleet name, MAC bytes)."""
    offset = _header_size(*header)
    for group in (floats, ints):
        for name, dimensions, values in group:
            offset = _string(offset, name)
            offset = _align(offset, 4) + 4 + 4 * dimensions
            offset = _align(offset, 4) + 4
            offset = _align(offset, 8) + 8 * values  # aligned even when empty
        offset = _align(offset, 4) + 4  # len(ints), then len(strings)
    for name, texts in strings:
        offset = _string(offset, name)
        offset = _align(offset, 4) + 4
        for text in texts:
            offset = _string(offset, text)
    fleet, mac_bytes = seal
    offset = _align(_string(offset, fleet), 8) + 8    # fleet, epoch
    offset = _align(offset, 4) + 4 + mac_bytes
    return 4 + offset


@functools.lru_cache(maxsize=4096)
def _header_size(*texts: str) -> int:
    """Bytes up to and including len(floats): stamp, five strings, three 64-bit integers."""
    offset = 8  # stamp: int32 sec, uint32 nanosec
    for text in texts:
        offset = _string(offset, text)
    return _align(offset, 8) + 24 + 4  # message_id, in_reply_to, iteration; len(floats)


def _align(offset: int, width: int) -> int:
    """CDR aligns each primitive to its own size, relative to the payload start."""
    return offset + (-offset) % width


def _string(offset: int, text: str) -> int:
    return _align(offset, 4) + 4 + len(text.encode()) + 1
