"""Fleet membership: which envelopes a carrier admits. Pure Python, no transport.

Every envelope carries its fleet's name; a carrier refuses envelopes of another fleet and from senders
that are not members of its run. With a fleet key K (a shared secret of at least 16 bytes, from
`DRO_ROS_FLEET_KEY`, a file named by `DRO_ROS_FLEET_KEY_FILE` or by the config's `key_file`; never the key
itself in a config), the sender also sets

    mac = HMAC-SHA256(K, canonical(fleet, epoch, header, payload))          (RFC 2104, FIPS 198-1)

where `canonical` is an unambiguous, length-prefixed byte string of every envelope field but `mac`,
`epoch` is the sending carrier's start time (ns since the Unix epoch) and `message_id` its sequence
number (1, 2, ... per carrier). A receiver admits a sealed envelope only if the MAC verifies and its
(epoch, message_id) is fresh: the epoch is the sender's latest, and the id was not admitted before and
is within `REPLAY_WINDOW` of the highest admitted (the sliding anti-replay window of RFC 4303 Sec. 3.4.3,
so a captured envelope re-injected ahead of its predecessors does not make them look like replays):

- unsigned (no MAC) or forged (MAC does not verify: changed content, or a wrong key) are refused;
- a replay (a captured genuine envelope sent again) is refused;
- a restarted sender starts a new carrier with a later epoch, so its `message_id` 1 is admitted, and
  envelopes of its earlier epochs are refused from then on.

What it does not stop: a fleet member's key holder can say anything; a receiver that restarts within a
run forgets its pairs, so envelopes of that run captured before its restart can be replayed to it once;
a flood costs the receiver a MAC check per envelope (see the carrier's resource limits). A sender whose
clock stepped back across its restart has an earlier epoch and is refused until the receiver's next run.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from dro_ros.core.wire import WireMessage

log = logging.getLogger("dro_ros.auth")

KEY_ENV = "DRO_ROS_FLEET_KEY"
KEY_FILE_ENV = "DRO_ROS_FLEET_KEY_FILE"
MIN_KEY_BYTES = 16
REPLAY_WINDOW = 4096   # message ids remembered per sender below the highest admitted
MAC_BYTES = hashlib.sha256().digest_size
DOMAIN = b"dro_ros/envelope/v1"   # keeps these MACs apart from any other use of the same key


class FleetKeyError(ValueError):
    """The fleet key could not be read or is too weak; the message names its source."""


class Refusal(enum.Enum):
    """Why an arriving envelope was not admitted."""

    FOREIGN_FLEET = "foreign_fleet"   # another fleet's name
    STRANGER = "stranger"             # a sender that is not a member of this run's fleet
    UNSIGNED = "unsigned"             # no MAC, and this fleet has a key
    FORGED = "forged"                 # a MAC that does not verify
    REPLAYED = "replayed"             # (epoch, message_id) not above the sender's last admitted pair


def load_key(key_file: str | None = None, environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The fleet key: `DRO_ROS_FLEET_KEY` (the key text), else the file named by `DRO_ROS_FLEET_KEY_FILE`,
    else the file `key_file` (a config's); None when none is set. Surrounding whitespace is stripped."""
    if environ.get(KEY_ENV) and environ.get(KEY_FILE_ENV):
        raise FleetKeyError(f"{KEY_ENV} and {KEY_FILE_ENV} are both set: set one")
    if environ.get(KEY_ENV):
        return _checked(environ[KEY_ENV].encode().strip(), KEY_ENV)
    path = environ.get(KEY_FILE_ENV) or key_file
    if not path:
        return None
    source = f"{KEY_FILE_ENV}={path}" if environ.get(KEY_FILE_ENV) else f"key_file {path}"
    file = Path(path).expanduser()
    try:
        key = file.read_bytes().strip()
        mode = file.stat().st_mode
    except OSError as error:
        raise FleetKeyError(f"{source}: cannot read the fleet key ({error.strerror})") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s: the fleet key file is readable by other users (chmod 600 it)", source)
    return _checked(key, source)


def _checked(key: bytes, source: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise FleetKeyError(f"{source}: the fleet key has {len(key)} bytes, need at least {MIN_KEY_BYTES} "
                            f"(e.g. `openssl rand -hex 32`)")
    return key


@dataclass(frozen=True)
class Membership:
    """A fleet's name and, optionally, its key."""

    fleet: str
    key: bytes | None = field(default=None, repr=False)

    @classmethod
    def load(cls, fleet: str, key_file: str | None = None,
             environ: Mapping[str, str] = os.environ) -> "Membership":
        """`fleet` with the key of `load_key(key_file, environ)`."""
        return cls(fleet, load_key(key_file, environ))

    def seal(self, wire: WireMessage, epoch: int) -> None:
        """Set the fleet, the sender's epoch and, with a key, the MAC of `wire` (in place)."""
        wire.fleet, wire.epoch = self.fleet, epoch
        wire.mac = mac(self.key, wire) if self.key is not None else b""


class Gate:
    """Admission of arriving envelopes for one carrier: membership, MAC and replay checks.

    Not thread-safe: one thread (the transport's receiving thread) calls `check`."""

    def __init__(self, membership: Membership, members: set[str]) -> None:
        self.membership = membership
        self.members = frozenset(members)
        self._windows: dict[str, _Window] = {}

    def authentic(self, wire: WireMessage) -> Refusal | None:
        """The checks that need no memory: None if `wire` is of this fleet, from a member and, with a key,
        signed by it; else why not."""
        if wire.fleet != self.membership.fleet:
            return Refusal.FOREIGN_FLEET
        if wire.sender not in self.members:
            return Refusal.STRANGER
        key = self.membership.key
        if key is None:
            return None
        if not wire.mac:
            return Refusal.UNSIGNED
        if not hmac.compare_digest(wire.mac, mac(key, wire)):
            return Refusal.FORGED
        return None

    def check(self, wire: WireMessage) -> Refusal | None:
        """None if `wire` is admitted (and, with a key, remembered), else why not."""
        refusal = self.authentic(wire)
        if refusal is not None or self.membership.key is None:
            return refusal
        window = self._windows.get(wire.sender)
        if window is None or wire.epoch > window.epoch:
            self._windows[wire.sender] = _Window(wire.epoch, wire.message_id)
            return None
        if wire.epoch < window.epoch or not window.admit(wire.message_id):
            return Refusal.REPLAYED
        return None


@dataclass
class _Window:
    """One sender's epoch, its highest admitted message id `top`, and which of the `REPLAY_WINDOW` ids up
    to `top` were admitted (bit k of `seen`: id top - k)."""

    epoch: int
    top: int
    seen: int = 1

    def admit(self, message_id: int) -> bool:
        """Admit `message_id` unless it was seen or lies below the window."""
        if message_id > self.top:
            shift = message_id - self.top
            self.seen = 1 if shift >= REPLAY_WINDOW else ((self.seen << shift) | 1) & ((1 << REPLAY_WINDOW) - 1)
            self.top = message_id
            return True
        offset = self.top - message_id
        if offset >= REPLAY_WINDOW or self.seen >> offset & 1:
            return False
        self.seen |= 1 << offset
        return True


def mac(key: bytes, wire: WireMessage) -> bytes:
    """HMAC-SHA256 of `DOMAIN + canonical(wire)` (module docstring)."""
    return hmac.digest(key, DOMAIN + canonical(wire), "sha256")


def canonical(wire: WireMessage) -> bytes:
    """Every field of `wire` but `mac`, length-prefixed: no two envelopes give the same bytes."""
    parts: list[bytes] = []
    for text in (wire.fleet, wire.sender, wire.receiver, wire.algorithm, wire.problem_id, wire.type):
        _text(parts, text)
    parts.append(_integers(wire.epoch, wire.message_id, wire.in_reply_to, wire.iteration, wire.stamp_ns))
    for group, dtype in ((wire.floats, "<f8"), (wire.ints, "<i8")):
        parts.append(_length(len(group)))
        for array in group:
            _text(parts, array.name)
            parts.append(_length(len(array.shape)) + b"".join(_length(side) for side in array.shape))
            data = np.ascontiguousarray(array.data, dtype=dtype).tobytes()
            parts += (_length(len(data)), data)
    parts.append(_length(len(wire.strings)))
    for strings in wire.strings:
        _text(parts, strings.name)
        parts.append(_length(len(strings.data)))
        for text in strings.data:
            _text(parts, text)
    return b"".join(parts)


def _integers(epoch: int, message_id: int, in_reply_to: int, iteration: int, stamp_ns: int) -> bytes:
    """The header's integers, each as the message type declares it (uint64, or int64 for the iteration;
    the stamp as sec * 1e9 + nanosec, an int64 for any int32 sec)."""
    return struct.pack("<QQQqq", epoch, message_id, in_reply_to, iteration, stamp_ns)


def _length(value: int) -> bytes:
    return struct.pack("<Q", value)


def _text(parts: list[bytes], text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    parts += (_length(len(data)), data)
