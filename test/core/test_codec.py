from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dro_ros.core.codec import (CodecError, FloatArray, IntArray, copy_for_delivery, copy_message, decode, encode,
                                wire_message, wire_size)


@wire_message("test")
@dataclass
class Everything:
    iteration: int
    gain: float
    count: int
    active: bool
    label: str
    names: list[str]
    matrix: FloatArray
    indices: IntArray

text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)
everything = st.builds(
    Everything, iteration=st.integers(-2**62, 2**62), gain=finite, count=st.integers(-2**62, 2**62),
    active=st.booleans(), label=text, names=st.lists(text, max_size=4),
    matrix=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), elements=finite),
    indices=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=5)))


def wire_of(message):
    return encode(message, sender="a", receiver="b", problem_id="p", message_id=1)


def same(a: Everything, b: Everything) -> bool:
    return (a.iteration, a.gain, a.count, a.active, a.label, a.names) == \
           (b.iteration, b.gain, b.count, b.active, b.label, b.names) \
        and a.matrix.shape == b.matrix.shape and np.array_equal(a.matrix, b.matrix) \
        and a.indices.shape == b.indices.shape and np.array_equal(a.indices, b.indices)


@settings(max_examples=200, deadline=None)
@given(everything)
def test_every_message_round_trips_through_the_wire_form(message):
    assert same(decode(wire_of(message)), message)


@settings(max_examples=200, deadline=None)
@given(everything)
def test_the_in_process_copy_equals_the_wire_round_trip_and_counts_the_same_bytes(message):
    copy = copy_message(message)
    assert same(copy, decode(wire_of(message))) and copy.matrix is not message.matrix
    wire = wire_of(message)
    assert wire_size(copy, sender="a", receiver="b", problem_id="p") == wire.cdr_size()
    delivered, type_name, iteration, nbytes = copy_for_delivery(message, sender="a", receiver="b", problem_id="p")
    assert same(delivered, copy) and (type_name, iteration, nbytes) == (wire.type, wire.iteration, wire.cdr_size())


def test_the_in_process_copy_checks_fields_as_encode_does():
    with pytest.raises(CodecError, match="Everything.gain: expected float, got str"):
        copy_message(Everything(0, "1.0", 2, True, "x", ["y"], np.zeros(3), np.arange(2)))
    with pytest.raises(CodecError, match="Everything.indices: expected integers"):
        copy_message(Everything(0, 1.0, 2, True, "x", ["y"], np.zeros(3), np.array([0.5])))


def test_decoded_message_is_a_copy_the_sender_cannot_change():
    original = Everything(0, 1.0, 2, True, "x", ["y"], np.zeros(3), np.arange(2))
    received = decode(wire_of(original))
    original.matrix[0] = 99.0
    assert received.matrix[0] == 0.0


def test_iteration_travels_in_the_envelope_header():
    wire = wire_of(Everything(7, 1.0, 2, True, "x", [], np.zeros(1), np.zeros(1, dtype=int)))
    assert wire.iteration == 7 and "iteration" not in [f.name for f in wire.ints]


@pytest.mark.parametrize("corrupt, field", [
    (lambda w: w.floats.pop(0), "Everything.gain: missing"),
    (lambda w: setattr(w.floats[1], "shape", (5, 5)), "Everything.matrix: shape (5, 5) needs 25 values"),
    (lambda w: setattr(w.ints[1], "data", np.array([3])), "Everything.active: expected a bool"),
    (lambda w: setattr(w, "type", "test/Nope"), "unknown message type 'test/Nope'"),
    (lambda w: w.strings[0].data.append("extra"), "Everything.label: expected one string"),
])
def test_a_malformed_wire_message_names_the_offending_field(corrupt, field):
    wire = wire_of(Everything(1, 1.0, 2, True, "x", ["y"], np.zeros(3), np.arange(2)))
    corrupt(wire)
    with pytest.raises(CodecError, match=field.replace("(", r"\(").replace(")", r"\)")):
        decode(wire)


def test_sending_a_wrong_type_names_the_field():
    with pytest.raises(CodecError, match="Everything.count: expected int"):
        wire_of(Everything(1, 1.0, "two", True, "x", [], np.zeros(1), np.zeros(1, dtype=int)))


def test_unsupported_field_types_are_refused_when_declared():
    with pytest.raises(TypeError, match="Bad.payload: unsupported wire type"):
        @wire_message("test")
        @dataclass
        class Bad:
            payload: dict
