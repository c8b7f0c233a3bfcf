"""`WireMessage` <-> `dro_ros.msg.Envelope`: a field-by-field copy, where a message crosses DDS."""
from __future__ import annotations

import numpy as np

from dro_ros.core.wire import FloatField, IntField, StringField, WireMessage

try:
    from dro_ros.msg import Envelope, FloatArray, IntArray, StringArray
except ImportError as error:  # pragma: no cover - depends on the colcon build
    raise ImportError("dro_ros.msg is missing: build the interfaces with `make build` (colcon) and "
                      "source .ros/install/local_setup.bash") from error

NS_PER_S = 1_000_000_000  # the wire stamp is unsigned ns since the epoch (beyond rclpy Time's int64 range)


def to_ros(wire: WireMessage) -> Envelope:
    message = Envelope(sender=wire.sender, receiver=wire.receiver, algorithm=wire.algorithm,
                       problem_id=wire.problem_id, type=wire.type, message_id=wire.message_id,
                       in_reply_to=wire.in_reply_to, iteration=wire.iteration, fleet=wire.fleet, epoch=wire.epoch)
    message.mac.frombytes(wire.mac)
    message.stamp.sec, message.stamp.nanosec = divmod(wire.stamp_ns, NS_PER_S)
    message.floats = [FloatArray(name=f.name, shape=list(f.shape), data=f.data) for f in wire.floats]
    message.ints = [IntArray(name=f.name, shape=list(f.shape), data=f.data) for f in wire.ints]
    message.strings = [StringArray(name=f.name, data=list(f.data)) for f in wire.strings]
    return message


def from_ros(message: Envelope) -> WireMessage:
    return WireMessage(
        sender=message.sender, receiver=message.receiver, algorithm=message.algorithm,
        problem_id=message.problem_id, type=message.type, message_id=message.message_id,
        in_reply_to=message.in_reply_to, iteration=message.iteration,
        stamp_ns=message.stamp.sec * NS_PER_S + message.stamp.nanosec,
        floats=[FloatField(f.name, tuple(f.shape), np.asarray(f.data, dtype=np.float64)) for f in message.floats],
        ints=[IntField(f.name, tuple(f.shape), np.asarray(f.data, dtype=np.int64)) for f in message.ints],
        strings=[StringField(f.name, list(f.data)) for f in message.strings],
        fleet=message.fleet, epoch=message.epoch, mac=message.mac.tobytes())
