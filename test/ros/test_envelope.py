"""The codec through the real ROS message: round trips, and byte counts equal to what rclpy serializes."""
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dro_ros.core.codec import FloatArray, IntArray, decode, encode, wire_message

text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10)
finite = st.floats(allow_nan=False, allow_infinity=False)


@wire_message("ros_test")
@dataclass
class Sample:
    iteration: int
    weight: float
    ok: bool
    tag: str
    names: list[str]
    values: FloatArray
    ids: IntArray


samples = st.builds(
    Sample, iteration=st.integers(-2**62, 2**62), weight=finite, ok=st.booleans(), tag=text,
    names=st.lists(text, max_size=3),
    values=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), elements=finite),
    ids=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4)))


@settings(max_examples=150, deadline=None)
@given(samples, text, st.integers(0, 2**63), text, st.integers(0, 2**64 - 1), st.binary(max_size=40))
def test_messages_round_trip_through_the_ros_envelope_with_exact_byte_counts(sample, sender, stamp, fleet, epoch, mac):
    from rclpy.serialization import deserialize_message, serialize_message

    from dro_ros.msg import Envelope
    from dro_ros.ros.envelope import from_ros, to_ros

    wire = encode(sample, sender=sender, receiver="robot_2", problem_id="p", message_id=5, in_reply_to=3,
                  stamp_ns=stamp)
    wire.fleet, wire.epoch, wire.mac = fleet, epoch, mac
    serialized = serialize_message(to_ros(wire))
    assert len(serialized) == wire.cdr_size()
    received = from_ros(deserialize_message(serialized, Envelope))
    assert (received.fleet, received.epoch, received.mac) == (fleet, epoch, mac)
    back = decode(received)
    assert (back.iteration, back.weight, back.ok, back.tag, back.names) == \
           (sample.iteration, sample.weight, sample.ok, sample.tag, sample.names)
    assert back.values.shape == sample.values.shape and np.array_equal(back.values, sample.values)
    assert back.ids.shape == sample.ids.shape and np.array_equal(back.ids, sample.ids)
