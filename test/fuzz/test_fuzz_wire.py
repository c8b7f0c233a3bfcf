"""Fuzzed messages: what a foreign process on the same DDS domain could publish into an inbox.

An `Envelope` crosses DDS typed by its IDL (strings, int64/uint64 header numbers, uint32 shapes, float64
and int64 data), so the fuzzer builds `WireMessage`s within those types: a valid encoding of every
registered message type, then one field changed (unknown or another type name, unknown algorithm, a
field deleted, duplicated or moved to another group, a shape that disagrees with its data, a huge or
64-dimensional shape, NaN/inf, extreme header numbers). `codec.decode` must return the declared dataclass
or raise `CodecError` naming the type or the field; `CarrierBase._receive` must count and log the
rejection, never raise."""
import copy
import dataclasses
import math

import numpy as np
import pytest
from fuzzing import fuzz_settings, keys_of, mutants, no_hang
from hypothesis import given
from hypothesis import strategies as st

import dro_ros.resource.admm.coordinator  # noqa: F401 - registers the message types of every algorithm
import dro_ros.resource.averaging  # noqa: F401
import dro_ros.resource.cohda.messages  # noqa: F401
import dro_ros.resource.termination  # noqa: F401
import dro_ros.trajectory.nc_admm  # noqa: F401
import dro_ros.trajectory.path_sweep  # noqa: F401
from dro_ros.core import codec
from dro_ros.core.carrier import CarrierBase
from dro_ros.core.codec import CodecError, decode, encode
from dro_ros.core.wire import FloatField, IntField, StringField, WireMessage

TYPES = sorted(codec._BY_NAME)
UINT32, INT64 = 2 ** 32 - 1, 2 ** 63 - 1
FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def valid_messages(draw: st.DrawFn) -> WireMessage:
    """A valid encoding of a registered message type, with small random values."""
    message_type = codec._BY_NAME[draw(st.sampled_from(TYPES))]
    shape = st.lists(st.integers(0, 3), max_size=3).map(tuple)
    values = {}
    for spec in message_type.fields:
        values[spec.name] = draw({
            "float": st.floats(-1e3, 1e3), "int": st.integers(-5, 5), "bool": st.booleans(),
            "str": st.text(max_size=5), "str_list": st.lists(st.text(max_size=3), max_size=3),
            "float_array": shape.map(lambda s: np.arange(math.prod(s), dtype=float).reshape(s)),
            "int_array": shape.map(lambda s: np.arange(math.prod(s), dtype=np.int64).reshape(s))}[spec.kind])
    if message_type.has_iteration:
        values[codec.ITERATION_FIELD] = draw(st.integers(0, 10))
    return encode(message_type.cls(**values), sender="robot_1", receiver="robot_0", problem_id="run",
                  message_id=draw(st.integers(1, 100)))


def _groups(wire: WireMessage) -> list[list]:
    return [group for group in (wire.floats, wire.ints, wire.strings) if group]


def hostile_messages() -> st.SearchStrategy[WireMessage]:
    """A valid message with one change a foreign publisher could make (module docstring)."""
    return valid_messages().flatmap(mutated)


def mutated(wire: WireMessage) -> st.SearchStrategy[WireMessage]:
    """`wire` (copied) with one change a foreign publisher could make."""
    return _mutated(copy.deepcopy(wire))


@st.composite
def _mutated(draw: st.DrawFn, wire: WireMessage) -> WireMessage:
    wire = copy.deepcopy(wire)
    how = draw(st.sampled_from(["type", "algorithm", "header", "delete", "duplicate", "move", "shape", "huge shape",
                                "deep shape", "values", "strings", "extra"]))
    groups = _groups(wire)
    if how == "type":
        wire.type = draw(st.sampled_from(TYPES + ["", "cohda", "admm/", "x/Solutions", wire.type + "\x00"]))
    elif how == "algorithm":
        wire.algorithm = draw(st.sampled_from(["", "unknown", "cohda", "../../etc"]))
    elif how == "header":
        name = draw(st.sampled_from(["message_id", "in_reply_to", "iteration", "stamp_ns"]))
        setattr(wire, name, draw(st.sampled_from([0, -1, INT64, -INT64 - 1, 2 ** 64 - 1])))
    elif how in ("delete", "duplicate", "move") and groups:
        group = draw(st.sampled_from(groups))
        item = group[draw(st.integers(0, len(group) - 1))]
        if how == "delete":
            group.remove(item)
        elif how == "duplicate":
            group.append(dataclasses.replace(item))
        elif isinstance(item, StringField):
            group.remove(item)
            wire.floats.append(FloatField(item.name, (), np.zeros(1)))
        else:
            group.remove(item)
            (wire.ints if isinstance(item, FloatField) else wire.floats).append(
                (IntField if isinstance(item, FloatField) else FloatField)(item.name, item.shape, item.data.copy()))
    elif how in ("shape", "huge shape", "deep shape") and (wire.floats or wire.ints):
        item = draw(st.sampled_from(wire.floats + wire.ints))
        item.shape = draw({"shape": st.lists(st.integers(0, 4), max_size=4).map(tuple),
                           "huge shape": st.lists(st.sampled_from([0, 1, UINT32, 2 ** 31]), min_size=1,
                                                  max_size=4).map(tuple),
                           "deep shape": st.integers(33, 80).map(lambda n: (1,) * n)}[how])
    elif how == "values" and (wire.floats or wire.ints):
        item = draw(st.sampled_from(wire.floats + wire.ints))
        n = draw(st.sampled_from([0, 1, item.data.size, item.data.size + 1, 10_000]))
        if isinstance(item, FloatField):
            item.data = np.array(draw(st.lists(FLOATS, min_size=min(n, 4), max_size=min(n, 4))) + [math.nan] *
                                 max(0, n - 4), dtype=float)
        else:
            item.data = np.full(n, draw(st.sampled_from([-1, 2, INT64, -INT64 - 1])), dtype=np.int64)
    elif how == "strings" and wire.strings:
        item = draw(st.sampled_from(wire.strings))
        item.data = draw(st.sampled_from([[], ["a", "b"], ["\x00" * 3], ["x" * 100_000], [""] * 1000]))
    else:
        group = draw(st.sampled_from(["floats", "ints", "strings"]))
        name = draw(st.sampled_from(["bogus", "", "iteration"]))
        getattr(wire, group).append(StringField(name, ["x"]) if group == "strings" else
                                    (FloatField if group == "floats" else IntField)(name, (), np.zeros(1)))
    return wire


@fuzz_settings()
@given(hostile_messages())
def test_decode_returns_the_declared_type_or_a_named_codec_error(wire):
    try:
        with no_hang():
            content = decode(wire)
    except CodecError as error:
        assert any(name in str(error) for name in ("type", wire.type)), str(error)
        return
    message_type = codec._BY_NAME[wire.type]
    assert isinstance(content, message_type.cls)
    for spec in message_type.fields:
        value = getattr(content, spec.name)
        expected = {"float": float, "int": int, "bool": bool, "str": str, "str_list": list,
                    "float_array": np.ndarray, "int_array": np.ndarray}[spec.kind]
        assert type(value) is expected, (spec.name, type(value))


class _Recorder:
    def __init__(self):
        self.messages = []

    def on_exchange_message(self, carrier, content, meta):
        self.messages.append(content)


class _Inbox(CarrierBase):
    """The carrier mechanics alone: `_receive` validates and hands valid messages to the agent at once."""

    def _known(self, address):
        return address == "robot_1"   # the sender of every valid message here

    def _transmit(self, wire, nbytes):
        raise AssertionError("the inbox sends nothing")

    def _deliver(self, content, meta):
        self.agent.on_exchange_message(self, content, meta)

    async def send_awaitable_many(self, requests, timeout=0.0):
        raise AssertionError("the inbox sends nothing")

    def others(self):
        return []

    def schedule_using(self, callback, delay):
        raise AssertionError("the inbox keeps no timers")


@fuzz_settings()
@given(hostile_messages())
def test_a_carrier_counts_a_hostile_message_as_rejected_or_delivers_a_valid_one(wire):
    """`CarrierBase._receive`, the entry of every networked message: never raises; a rejection is counted
    with its reason, which names the sender."""
    recorder = _Recorder()
    inbox = _Inbox(recorder, "robot_0", "run")
    with no_hang():
        inbox._receive(wire, wire.cdr_size())
    assert inbox.stats.rejected + len(recorder.messages) == 1
    if inbox.stats.rejected:
        assert "robot_1" in inbox.stats.reject_reasons[0]


@fuzz_settings()
@given(valid_messages().flatmap(lambda wire: mutants(_as_json(wire))))
def test_a_mango_envelope_is_a_wire_message_or_a_named_codec_error(mutant):
    """The JSON object a mango container receives (`mango.carrier.wire_from_json`), one node changed:
    a `WireMessage` the carrier can take, or a CodecError naming the field."""
    mango = pytest.importorskip("dro_ros.mango.carrier")
    try:
        with no_hang():
            wire = mango.wire_from_json(mutant.document)
    except CodecError as error:
        assert any(name and name in str(error) for name in keys_of(mutant.document) | {
            mutant.field, "floats", "ints", "strings", "envelope"}), str(error)
        return
    inbox = _Inbox(_Recorder(), wire.receiver or "robot_0", wire.problem_id)
    with no_hang():
        inbox._receive(wire, wire.cdr_size())
    assert inbox.stats.rejected + len(inbox.agent.messages) <= 1


def _as_json(wire):
    from dro_ros.mango.carrier import wire_to_json
    return wire_to_json(wire)
