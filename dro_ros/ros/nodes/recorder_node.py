"""`recorder`: every topic of the fleet into one rosbag2 MCAP file (`dro_ros.fleet.recording.BagWriter`).

Every `discovery_period` seconds it lists the graph's topics and subscribes to each new one that has a
publisher, with `raw=True`: each message is stored as it came over DDS (CDR bytes), stamped with this
node's clock at receipt. The subscription QoS follows the publishers, as `ros2 bag record` does:
TRANSIENT_LOCAL when every publisher is (latched plans and `/fleet/start` are received even if published
before the topic was discovered), BEST_EFFORT when any publisher is. A topic whose type has no installed
definition is logged once and skipped. Topics that appear later (an action's `_action/feedback` and
`_action/status`) are picked up by the next discovery.

`scenario` (the fleet's scenario as JSON) is written first, on `/fleet/scenario` (std_msgs/String), so
`dro-ros fleet report` finds the problem in the bag; the supervisor publishes each mission's scenario on
the same topic, recorded like any other. The node spins in a thread of its own and the main
thread waits (`ros.nodes.spin.run_node`): a signal (delivered to the main thread) never interrupts a write. On SIGINT or SIGTERM the
executor stops, then the bag is closed. A failed write (a full disk) ends the recorder with exit code 1
after closing what it has.

Parameters: `output` (required, a new file ending in .mcap), `scenario` (""), `discovery_period` (1.0 s),
`flush_period` (1.0 s), `exclude` (regular expressions of topic names; default `^/parameter_events$`).
A bad parameter is logged and the process exits with code 2.
"""
from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from dro_ros.fleet.recording import SCENARIO_TOPIC, BagWriter, RecordingError
from dro_ros.ros.conversions import ParameterError, read_parameter
from dro_ros.ros.nodes.spin import run_node



class RecorderNode(Node):
    def __init__(self, **node_options) -> None:
        """`node_options` go to rclpy's Node (`context`, `namespace`, ...)."""
        super().__init__("recorder", **node_options)
        output = read_parameter(self, "output", "string", "the bag to write, a new .mcap file")
        scenario = read_parameter(self, "scenario", "string", "the fleet's scenario as JSON", "")
        period = read_parameter(self, "discovery_period", "double", "seconds between topic discoveries", 1.0)
        flush = read_parameter(self, "flush_period", "double", "seconds of messages a kill may lose", 1.0)
        exclude = read_parameter(self, "exclude", "string_array", "regular expressions of topics not recorded",
                                 ["^/parameter_events$"])
        for name, value in (("discovery_period", period), ("flush_period", flush)):
            if not value > 0:
                raise ParameterError(f"{name}: must be positive, got {value}")
        self.lock = threading.Lock()  # `close` may run while a callback writes (an executor slow to stop)
        self.skipped: set[str] = set()
        self.subscriptions_by_topic: dict[str, Any] = {}
        try:
            self.exclude = [re.compile(pattern) for pattern in exclude]
            self.bag: BagWriter | None = BagWriter(output, flush_period=flush).open()
        except (re.error, RecordingError) as error:
            raise ParameterError(f"{'exclude' if isinstance(error, re.error) else 'output'}: {error}") from error
        if scenario:
            self.bag.write_text(SCENARIO_TOPIC, scenario, self.get_clock().now().nanoseconds)
        self.get_logger().info(f"recording to {output}")
        self.discover()
        self.create_timer(period, self.discover)

    def discover(self) -> None:
        if self.bag is None:   # closed
            return
        for topic, types in self.get_topic_names_and_types():
            if topic in self.subscriptions_by_topic or topic in self.skipped:
                continue
            if any(pattern.search(topic) for pattern in self.exclude):
                self.skipped.add(topic)
                continue
            publishers = self.get_publishers_info_by_topic(topic)
            if not publishers:
                continue  # only subscribers so far
            try:
                message_class = _message_class(types[0])
                with self.lock:
                    self.bag.add_topic(topic, types[0], latched=_latched(publishers))
            except (RecordingError, ImportError, AttributeError) as error:
                self.get_logger().warning(f"not recording {topic}: {error}")
                self.skipped.add(topic)
                continue
            self.subscriptions_by_topic[topic] = self.create_subscription(
                message_class, topic, lambda data, t=topic, m=types[0]: self._on_message(t, m, data),
                _qos(publishers), raw=True)

    def _on_message(self, topic: str, msgtype: str, data: bytes) -> None:
        with self.lock:
            if self.bag is not None:
                self.bag.write(topic, msgtype, data, self.get_clock().now().nanoseconds)

    def close(self) -> None:
        with self.lock:
            if self.bag is not None:
                counts = ", ".join(f"{topic} {entry.count}" for topic, entry in sorted(self.bag.topics.items()))
                print(f"recorder: closed {self.bag.close()}: {counts}", flush=True)
                self.bag = None


def _latched(publishers: list) -> bool:
    return all(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers)


def _qos(publishers: list) -> QoSProfile:
    reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                      reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if _latched(publishers)
                      else DurabilityPolicy.VOLATILE)


def _message_class(msgtype: str) -> type:
    """The Python class of `<package>/msg/<Type>`, or of an action's topic type `<package>/action/<A>_<Part>`
    (`_FeedbackMessage`, `_Goal`, `_Result`, `_Feedback`), which rosidl nests in the action's class."""
    package, kind, name = msgtype.split("/")
    module = importlib.import_module(f"{package}.{kind}")
    if hasattr(module, name):
        return getattr(module, name)
    action, _, part = name.partition("_")
    return getattr(getattr(module, action).Impl if part == "FeedbackMessage" else getattr(module, action), part)


def main(argv: list[str] | None = None) -> None:
    run_node(RecorderNode, "recorder", argv, finish=RecorderNode.close)


if __name__ == "__main__":
    main()
