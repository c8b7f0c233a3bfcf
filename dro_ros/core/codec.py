"""Typed message dataclasses and their one codec to and from `WireMessage`.

An algorithm declares each message it sends as a dataclass decorated with `@wire_message("algo")`.
Fields may be `float`, `int`, `bool`, `str`, `list[str]`, `FloatArray` or `IntArray`; a field named
`iteration` travels in the envelope header so `ros2 topic echo` shows it at a glance. Anything else is
refused when the class is declared, never at run time on the network.

Networked carriers send `encode(content)` and the receiver validates it field by field in `decode`.
The in-process carrier delivers `copy_message(content)` instead: the same field checks as `encode` and a
fresh copy of every array, so an agent can never mutate what another agent holds, exactly as on a
network, without building the wire form. The type's layout was validated once, at declaration;
`wire_size` gives the bytes `encode(content).cdr_size()` would count.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable

import numpy as np

from dro_ros.core.wire import FloatField, IntField, StringField, WireMessage, envelope_size

FloatArray = Annotated[np.ndarray, "float64"]
"""A float64 array of any shape (scalars are shape ())."""
IntArray = Annotated[np.ndarray, "int64"]
"""An int64 array of any shape."""

ITERATION_FIELD = "iteration"
MAX_DIMENSIONS = 32
"""Most dimensions a received array may have (numpy's limit is 64; every dro_ros message uses at most 3)."""
MAX_EXTENT = 2 ** 40
"""Largest product of a received shape's dimensions, zeros counted as ones (numpy cannot index beyond it)."""


class CodecError(ValueError):
    """A message that does not match its declared type; the text names the offending field."""


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    kind: str  # one of _KINDS


_KINDS = {
    float: "float",
    int: "int",
    bool: "bool",
    str: "str",
    list[str]: "str_list",
    FloatArray: "float_array",
    IntArray: "int_array",
}


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per registered type
class _MessageType:
    cls: type
    algorithm: str
    name: str
    fields: tuple[_FieldSpec, ...]
    has_iteration: bool

    @functools.cached_property
    def copy(self) -> Callable[[Any], Any]:
        """`copy_message` for this type, compiled once: each field through its checking copier."""
        specs = list(self.fields) + ([_FieldSpec(ITERATION_FIELD, "int")] if self.has_iteration else [])
        scope = {"cls": self.cls, "mt": self, **{f"c{k}": _COPIERS[spec.kind] for k, spec in enumerate(specs)},
                 **{f"s{k}": spec for k, spec in enumerate(specs)}}
        arguments = ", ".join(f"{spec.name}=c{k}(content.{spec.name}, mt, s{k})" for k, spec in enumerate(specs))
        return _compiled(f"def copy(content):\n    return cls({arguments})\n", scope, "copy")

    @functools.cached_property
    def variable_part(self) -> Callable[[Any], tuple]:
        """content -> what its wire size depends on beyond the type: array shapes and string texts."""
        parts = [f"content.{f.name}.shape" if f.kind.endswith("array") else f"(content.{f.name},)" if f.kind == "str"
                 else f"tuple(content.{f.name})" for f in self.fields if f.kind not in ("float", "int", "bool")]
        return _compiled(f"def variable(content):\n    return ({', '.join(parts)}{',' if parts else ''})\n", {},
                         "variable")


def _compiled(source: str, scope: dict[str, Any], name: str) -> Callable[[Any], Any]:
    """A function from generated source (as `dataclasses` builds `__init__`): no per-call loop over fields."""
    namespace: dict[str, Any] = {}
    exec(source, scope, namespace)  # noqa: S102 - the source is built from registered field names only
    return namespace[name]


_BY_CLASS: dict[type, _MessageType] = {}
_BY_NAME: dict[str, _MessageType] = {}


def wire_message(algorithm: str) -> Callable[[type], type]:
    """Class decorator: register a dataclass as a message of `algorithm` (type name `algorithm/Class`)."""

    def register(cls: type) -> type:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__}: @wire_message needs a dataclass")
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = []
        for item in dataclasses.fields(cls):
            kind = _KINDS.get(hints[item.name])
            if kind is None:
                raise TypeError(f"{cls.__name__}.{item.name}: unsupported wire type {hints[item.name]!r}; "
                                f"use float, int, bool, str, list[str], FloatArray or IntArray")
            fields.append(_FieldSpec(item.name, kind))
        has_iteration = any(f.name == ITERATION_FIELD and f.kind == "int" for f in fields)
        payload = tuple(f for f in fields if not (has_iteration and f.name == ITERATION_FIELD))
        message_type = _MessageType(cls, algorithm, f"{algorithm}/{cls.__name__}", payload, has_iteration)
        existing = _BY_NAME.get(message_type.name)
        if existing is not None and existing.cls is not cls:
            raise TypeError(f"message type {message_type.name} is registered twice")
        _BY_CLASS[cls] = message_type
        _BY_NAME[message_type.name] = message_type
        return cls

    return register


def encode(content: Any, *, sender: str, receiver: str, problem_id: str, message_id: int,
           in_reply_to: int = 0, stamp_ns: int = 0) -> WireMessage:
    """Map a registered message dataclass to a `WireMessage` holding fresh copies of its data."""
    message_type = _lookup_class(type(content))
    wire = WireMessage(sender=sender, receiver=receiver, algorithm=message_type.algorithm,
                       problem_id=problem_id, type=message_type.name, message_id=message_id,
                       in_reply_to=in_reply_to, stamp_ns=stamp_ns)
    if message_type.has_iteration:
        wire.iteration = _as_int(getattr(content, ITERATION_FIELD), message_type, ITERATION_FIELD)
    for spec in message_type.fields:
        value = getattr(content, spec.name)
        if spec.kind in ("float", "float_array"):
            data = _as_array(value, np.float64, message_type, spec)
            wire.floats.append(FloatField(spec.name, data.shape, data.ravel()))
        elif spec.kind in ("int", "bool", "int_array"):
            data = _as_array(value, np.int64, message_type, spec)
            wire.ints.append(IntField(spec.name, data.shape, data.ravel()))
        elif spec.kind == "str":
            if not isinstance(value, str):
                raise CodecError(f"{message_type.name}.{spec.name}: expected str, got {type(value).__name__}")
            wire.strings.append(StringField(spec.name, [value]))
        else:
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise CodecError(f"{message_type.name}.{spec.name}: expected a list of str")
            wire.strings.append(StringField(spec.name, list(value)))
    return wire


def decode(wire: WireMessage) -> Any:
    """Rebuild the message dataclass from a `WireMessage`, validating every field against its type."""
    message_type = _BY_NAME.get(wire.type)
    if message_type is None:
        raise CodecError(f"type: unknown message type {wire.type!r}")
    values: dict[str, Any] = {}
    if message_type.has_iteration:
        values[ITERATION_FIELD] = int(wire.iteration)
    floats = _by_name(wire.floats, message_type, "floats")
    ints = _by_name(wire.ints, message_type, "ints")
    strings = _by_name(wire.strings, message_type, "strings")
    for spec in message_type.fields:
        where = f"{message_type.name}.{spec.name}"
        if spec.kind in ("float", "float_array", "int", "bool", "int_array"):
            group = floats if spec.kind in ("float", "float_array") else ints
            item = group.pop(spec.name, None)
            if item is None:
                raise CodecError(f"{where}: missing")
            array = _checked_array(item, where, np.float64 if group is floats else np.int64)
            values[spec.name] = _from_array(array, spec.kind, where)
        else:
            item = strings.pop(spec.name, None)
            if item is None:
                raise CodecError(f"{where}: missing")
            if spec.kind == "str":
                if len(item.data) != 1:
                    raise CodecError(f"{where}: expected one string, got {len(item.data)}")
                values[spec.name] = str(item.data[0])
            else:
                values[spec.name] = [str(text) for text in item.data]
    extra = sorted([*floats, *ints, *strings])
    if extra:
        raise CodecError(f"{message_type.name}: unexpected field(s) {', '.join(extra)}")
    return message_type.cls(**values)


def copy_message(content: Any) -> Any:
    """A deep copy of a registered message, checked field by field as `encode` checks it.

    Equal to `decode(encode(content))` (scalars normalised to float/int/bool/str, arrays to fresh float64
    or int64 arrays), at a fraction of the cost.
    """
    return _lookup_class(type(content)).copy(content)


def copy_for_delivery(content: Any, *, sender: str, receiver: str, problem_id: str) -> tuple[Any, str, int, int]:
    """What the in-process carrier delivers: (`copy_message(content)`, type name, iteration (-1 if none),
    `wire_size` of the copy)."""
    message_type = _lookup_class(type(content))
    copy = message_type.copy(content)
    nbytes = _wire_size(message_type, sender, receiver, problem_id, message_type.variable_part(copy))
    return copy, message_type.name, copy.iteration if message_type.has_iteration else -1, nbytes


def wire_size(content: Any, *, sender: str, receiver: str, problem_id: str) -> int:
    """`encode(content, ...).cdr_size()` of a checked message (e.g. a `copy_message` result)."""
    message_type = _BY_CLASS[type(content)]
    return _wire_size(message_type, sender, receiver, problem_id, message_type.variable_part(content))


@functools.lru_cache(maxsize=65536)
def _wire_size(message_type: _MessageType, sender: str, receiver: str, problem_id: str,
               variable: tuple[tuple, ...]) -> int:
    """`variable`: `message_type.variable_part` of the message (array shapes, string texts)."""
    floats, ints, strings = [], [], []
    given = dict(zip((f.name for f in message_type.fields if f.kind not in ("float", "int", "bool")), variable))
    for spec in message_type.fields:
        shape = given.get(spec.name, ())
        if spec.kind in ("float", "float_array"):
            floats.append((spec.name, len(shape), math.prod(shape)))
        elif spec.kind in ("int", "bool", "int_array"):
            ints.append((spec.name, len(shape), math.prod(shape)))
        else:
            strings.append((spec.name, shape))
    return envelope_size((sender, receiver, message_type.algorithm, problem_id, message_type.name),
                         tuple(floats), tuple(ints), tuple(strings))


def _copy_float(value: Any, message_type: _MessageType, spec: _FieldSpec) -> float:
    return value if type(value) is float else float(_as_array(value, np.float64, message_type, spec))


def _copy_int(value: Any, message_type: _MessageType, spec: _FieldSpec) -> int:
    return value if type(value) is int else _as_int(value, message_type, spec.name)


def _copy_bool(value: Any, message_type: _MessageType, spec: _FieldSpec) -> bool:
    return bool(_as_array(value, np.int64, message_type, spec))


def _copy_str(value: Any, message_type: _MessageType, spec: _FieldSpec) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{message_type.name}.{spec.name}: expected str, got {type(value).__name__}")
    return str(value)


def _copy_str_list(value: Any, message_type: _MessageType, spec: _FieldSpec) -> list[str]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise CodecError(f"{message_type.name}.{spec.name}: expected a list of str")
    return [str(v) for v in value]


def _array_copier(dtype: type) -> Callable[[Any, _MessageType, _FieldSpec], np.ndarray]:
    def copy(value: Any, message_type: _MessageType, spec: _FieldSpec) -> np.ndarray:
        if type(value) is np.ndarray and value.dtype == dtype:
            return value.copy()
        return _as_array(value, dtype, message_type, spec)
    return copy


_COPIERS: dict[str, Callable[[Any, _MessageType, _FieldSpec], Any]] = {
    "float": _copy_float, "int": _copy_int, "bool": _copy_bool, "str": _copy_str, "str_list": _copy_str_list,
    "float_array": _array_copier(np.float64), "int_array": _array_copier(np.int64)}


def _lookup_class(cls: type) -> _MessageType:
    message_type = _BY_CLASS.get(cls)
    if message_type is None:
        raise CodecError(f"{cls.__name__} is not a registered message; decorate it with @wire_message")
    return message_type


def _by_name(items: list, message_type: _MessageType, group: str) -> dict:
    named = {}
    for item in items:
        if item.name in named:
            raise CodecError(f"{message_type.name}.{item.name}: duplicated in {group}")
        named[item.name] = item
    return named


def _as_int(value: Any, message_type: _MessageType, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise CodecError(f"{message_type.name}.{name}: expected int, got {type(value).__name__}")
    return int(value)


def _as_array(value: Any, dtype: type, message_type: _MessageType, spec: _FieldSpec) -> np.ndarray:
    where = f"{message_type.name}.{spec.name}"
    if spec.kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise CodecError(f"{where}: expected bool, got {type(value).__name__}")
    elif spec.kind == "int":
        _as_int(value, message_type, spec.name)
    elif spec.kind == "float":
        if isinstance(value, (bool, str)) or not np.isscalar(value):
            raise CodecError(f"{where}: expected float, got {type(value).__name__}")
    try:
        array = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise CodecError(f"{where}: expected {np.dtype(dtype).name} data ({error})") from None
    if spec.kind == "int_array" and not np.array_equal(array, value):
        raise CodecError(f"{where}: expected integers, got non-integral values")
    return array


def _checked_array(item: FloatField | IntField, where: str, dtype: type) -> np.ndarray:
    shape = tuple(int(n) for n in item.shape)
    if len(shape) > MAX_DIMENSIONS:
        raise CodecError(f"{where}: {len(shape)} dimensions, at most {MAX_DIMENSIONS} allowed")
    if shape and min(shape) < 0:
        raise CodecError(f"{where}: negative dimension in shape {shape}")
    if math.prod(max(n, 1) for n in shape) > MAX_EXTENT:
        raise CodecError(f"{where}: shape {shape} is too large")
    data = np.asarray(item.data, dtype=dtype)
    expected = math.prod(shape)
    if data.ndim != 1 or data.size != expected:
        raise CodecError(f"{where}: shape {shape} needs {expected} values, got {data.size}")
    return data.reshape(shape)


def _from_array(array: np.ndarray, kind: str, where: str) -> Any:
    if kind in ("float_array", "int_array"):
        return array
    if array.shape != ():
        raise CodecError(f"{where}: expected a scalar, got shape {array.shape}")
    if kind == "float":
        return float(array)
    if kind == "bool":
        if int(array) not in (0, 1):
            raise CodecError(f"{where}: expected a bool (0 or 1), got {int(array)}")
        return bool(array)
    return int(array)
