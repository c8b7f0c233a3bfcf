"""A fleet's topics into one rosbag2 MCAP file, written by rosbags' rosbag2 `Writer`; no rclpy.

`BagWriter("run.mcap")` writes the rosbag2 directory `run/` (`run/run.mcap` and `metadata.yaml`, rosbag2
format 9, MCAP storage) and, when closed, moves `run/run.mcap` to `run.mcap`: one self-describing file.
Its schemas are the messages' full `ros2msg` definitions (each type followed by its dependencies, the text
`ros2 bag record` stores and Foxglove decodes with), each channel holds the offered QoS, and the file's
`rosbag2` metadata record holds what `metadata.yaml` held, so `ros2 bag`, Foxglove and rosbags read it
without the directory.

Definitions come from the interface files the ROS packages install, `share/<package>/msg/<Type>.msg` and
`share/<package>/action/<Action>.action`, under every ament prefix and this Python environment (where
the ROS wheels install theirs): `InterfaceDefinitions`.

rosbags keeps the open MCAP chunk in memory until it holds 1 MiB; the writer closes it and flushes the
file every `flush_period` seconds of message time, so a recorder killed without closing loses at most
that much. Such a file has no summary (rosbags' reader refuses it); `recover` copies every complete
record of it into a closed bag.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from rosbags.interfaces import Connection, Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype
from rosbags.typesys.store import Typestore

ROSBAG2_VERSION = 9
SCENARIO_TOPIC = "/fleet/scenario"
"""std_msgs/String, latched: the scenario (JSON) of the fleet's current plans, written by the recorder at
start and published by the supervisor at each mission's release, so a bag describes its own problem."""


class RecordingError(ValueError):
    """A bag that cannot be written or read; the message names the file, topic or type."""


def interface_prefixes() -> list[Path]:
    """Where ROS packages install `share/<package>/`: the ament prefixes, then this Python environment."""
    prefixes = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return prefixes + [Path(sys.prefix)]


class InterfaceDefinitions:
    """A rosbags typestore filled on demand from installed interface files (see the module docstring).

    `require("nav_msgs/msg/Odometry")` parses `share/nav_msgs/msg/Odometry.msg` and, recursively, every
    type it names. An action's topic types are built from its `.action` file's three sections:
    `<pkg>/action/<A>_Goal`, `_Result`, `_Feedback`, and `_FeedbackMessage` (`goal_id`, `feedback`)."""

    def __init__(self, prefixes: list[Path] | None = None) -> None:
        self.prefixes = interface_prefixes() if prefixes is None else prefixes
        self.typestore: Typestore = get_typestore(Stores.EMPTY)

    def require(self, msgtype: str) -> None:
        """Register `msgtype` and its dependencies; RecordingError names a type without a definition."""
        pending = [msgtype]
        while pending:
            name = pending.pop()
            if name in self.typestore.fielddefs:
                continue
            types = get_types_from_msg(self._text(name), name)
            self.typestore.register(types)
            pending += [dependency for _, fields in types.values() for _, field in fields
                        for dependency in _named_types(field)]

    def definition(self, msgtype: str) -> tuple[str, str]:
        """(`ros2msg` definition text, RIHS01 type hash) of a registered type, as `ros2 bag record` stores
        it: the type's own text, then each dependency once as `====...` / `MSG: <type>` / its text. Written
        here for actions because rosbags' generator takes only `<pkg>/msg/` names, not an action's nested
        types (which appear as `<pkg>/<Type>`, the two-part names decoders take); message types keep
        rosbags' text."""
        self.require(msgtype)
        if "/action/" not in msgtype:
            return self.typestore.generate_msgdef(msgtype, ros_version=2)[0], self.typestore.hash_rihs01(msgtype)
        order: list[str] = []
        pending = [msgtype]
        while pending:
            name = pending.pop(0)
            if name in order:
                continue
            order.append(name)
            pending += [dependency for _, field in self.typestore.fielddefs[name][1]
                        for dependency in _named_types(field)]
        text = self._text(msgtype).rstrip("\n") + "\n"
        for name in order[1:]:
            text += "=" * 80 + f"\nMSG: {_two_part(name)}\n" + self._text(name).rstrip("\n") + "\n"
        # decoders (rosidl's parser in mcap_ros2, Foxglove) take two-part names: pkg/action/T -> pkg/T
        text = re.sub(r"\b([A-Za-z0-9_]+)/action/", r"\1/", text)
        return text, self.typestore.hash_rihs01(msgtype)

    def _text(self, msgtype: str) -> str:
        package, kind, name = _split(msgtype)
        if kind == "action" and name.endswith("_FeedbackMessage"):
            return f"unique_identifier_msgs/UUID goal_id\n{package}/action/{name.removesuffix('Message')} feedback\n"
        if kind == "action":
            action, _, part = name.rpartition("_")
            sections = re.split(r"^---[ \t]*$", self._file(package, "action", f"{action}.action"), flags=re.M)
            if part not in ("Goal", "Result", "Feedback") or len(sections) != 3:
                raise RecordingError(f"{msgtype}: not a goal, result or feedback of {package}/action/{action}")
            return sections[("Goal", "Result", "Feedback").index(part)]
        return self._file(package, kind, f"{name}.{kind}")

    def _file(self, package: str, kind: str, name: str) -> str:
        for prefix in self.prefixes:
            path = prefix / "share" / package / kind / name
            if path.is_file():
                return path.read_text()
        raise RecordingError(f"{package}/{kind}/{name}: no interface file under "
                             + ", ".join(str(p / 'share') for p in self.prefixes))


def _split(msgtype: str) -> tuple[str, str, str]:
    parts = msgtype.split("/")
    if len(parts) != 3 or parts[1] not in ("msg", "action"):
        raise RecordingError(f"{msgtype}: expected a message type <package>/msg/<Type> or <package>/action/<Type>")
    return parts[0], parts[1], parts[2]


def _two_part(msgtype: str) -> str:
    package, _, name = _split(msgtype)
    return f"{package}/{name}"


def _named_types(field: tuple) -> list[str]:
    """The message types a rosbags field description names (through arrays and sequences)."""
    nodetype, detail = field
    if nodetype == Nodetype.NAME:
        return [detail]
    if nodetype in (Nodetype.ARRAY, Nodetype.SEQUENCE):
        return _named_types(detail[0])
    return []


def _qos(latched: bool) -> Qos:
    """The offered QoS a channel records: RELIABLE, and TRANSIENT_LOCAL depth 1 for a latched topic (so
    `ros2 bag play` republishes it latched), else VOLATILE depth 10."""
    zero = QosTime(0, 0)
    return Qos(QosHistory.KEEP_LAST, 1 if latched else 10, QosReliability.RELIABLE,
               QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE, zero, zero,
               QosLiveliness.AUTOMATIC, zero, False)


def check_destination(path: str | Path) -> Path:
    """`path` as a new bag's file: it ends in `.mcap` and neither it nor its directory `<stem>/` exists."""
    path = Path(path)
    if path.suffix != ".mcap":
        raise RecordingError(f"{path}: a recording is an MCAP file; its name must end in .mcap")
    for taken in (path, path.with_suffix("")):
        if taken.exists():
            raise RecordingError(f"{taken} exists; remove it or record to another file")
    return path


@dataclass
class Topic:
    """One recorded topic: its rosbags connection and message count."""

    msgtype: str
    connection: Connection
    count: int = 0


class BagWriter:
    """`with BagWriter("run.mcap") as bag: bag.write(topic, msgtype, cdr_bytes, stamp_ns)`.

    A topic's type is fixed by its first message; a later message of another type on it is refused."""

    def __init__(self, path: str | Path, definitions: InterfaceDefinitions | None = None,
                 flush_period: float = 1.0) -> None:
        self.path = check_destination(path)
        self.definitions = definitions or InterfaceDefinitions()
        self.flush_period_ns = int(flush_period * 1e9)
        self.topics: dict[str, Topic] = {}
        self._writer = Writer(self.path.with_suffix(""), version=ROSBAG2_VERSION, storage_plugin=StoragePlugin.MCAP)
        self._flushed = 0
        self._open = False

    def open(self) -> "BagWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer.open()
        self._open = True
        return self

    __enter__ = open

    def add_topic(self, topic: str, msgtype: str, *, latched: bool = False) -> Topic:
        """Declare `topic` (done by the first `write` otherwise); RecordingError if its type has no
        definition or differs from the one recorded."""
        if topic in self.topics:
            if self.topics[topic].msgtype != msgtype:
                raise RecordingError(f"{topic}: recorded as {self.topics[topic].msgtype}, not {msgtype}")
            return self.topics[topic]
        msgdef, rihs01 = self.definitions.definition(msgtype)
        connection = self._writer.add_connection(topic, msgtype, msgdef=msgdef, rihs01=rihs01,
                                                 offered_qos_profiles=[_qos(latched)])
        self.topics[topic] = Topic(msgtype, connection)
        return self.topics[topic]

    def write(self, topic: str, msgtype: str, data: bytes, stamp: int, *, latched: bool = False) -> None:
        """Append one CDR-serialized message received at `stamp` (ns since the epoch)."""
        entry = self.add_topic(topic, msgtype, latched=latched)
        self._writer.write(entry.connection, stamp, data)
        entry.count += 1
        if stamp - self._flushed >= self.flush_period_ns:
            self.flush()
            self._flushed = stamp

    def write_text(self, topic: str, text: str, stamp: int) -> None:
        """Append `text` as a std_msgs/msg/String message."""
        self.definitions.require("std_msgs/msg/String")
        typestore = self.definitions.typestore
        data = typestore.serialize_cdr(typestore.types["std_msgs/msg/String"](data=text), "std_msgs/msg/String")
        self.write(topic, "std_msgs/msg/String", bytes(data), stamp, latched=True)

    def flush(self) -> None:
        """Close the open chunk and write it out (see the module docstring)."""
        storage = self._writer.storage
        if storage is not None and storage.chunk.bio.tell():
            storage.close_chunk()
            storage.bio.flush()

    def close(self) -> Path:
        """Write the summary and move the MCAP file to `path`; idempotent."""
        if self._open:
            self._open = False
            directory = self.path.with_suffix("")
            self._writer.close()
            (directory / f"{directory.name}.mcap").replace(self.path)
            shutil.rmtree(directory)
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.close()


def recover(path: str | Path, out: str | Path) -> int:
    """Copy every complete message of an MCAP file that was never closed (no summary, maybe cut in the
    middle of a record) into the closed bag `out`; returns the number of messages copied."""
    definitions = InterfaceDefinitions(prefixes=[])
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    copied = 0
    with open(path, "rb") as stream, BagWriter(out, definitions) as bag:
        try:
            for record in StreamReader(stream).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record
                    definitions.typestore.register(get_types_from_msg(record.data.decode(), record.name))
                elif isinstance(record, Channel):
                    channels[record.id] = record
                elif isinstance(record, Message) and record.channel_id in channels:
                    channel = channels[record.channel_id]
                    bag.write(channel.topic, schemas[channel.schema_id].name, record.data, record.log_time,
                              latched="transient_local" in channel.metadata.get("offered_qos_profiles", ""))
                    copied += 1
        except (McapError, struct.error):  # the file ends inside a record: what came before is kept
            pass
    return copied
