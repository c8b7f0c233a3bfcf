"""An rclpy node that a launcher-side process runs next to the fleet: its own context, joined to the fleet's
DDS domain, spun in a thread of its own until `close` (the dropout injector, the chaos suite's monitor)."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class SideNode:
    """`node` (named `name`) in a new context on the domain of `env` (a fleet's environment); `extra` names
    further nodes of that context that others spin (e.g. an action client's)."""

    def __init__(self, env: dict[str, str], name: str, *extra: str) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions

        self.context = Context()
        with joined_domain(env):
            rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
            self.node = rclpy.create_node(name, context=self.context)
            self.extra: list[Any] = [rclpy.create_node(other, context=self.context) for other in extra]
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def spin(self) -> None:
        """Start spinning `node` (call once its subscriptions and timers exist)."""
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        while not self.stopping.is_set():
            self.executor.spin_once(timeout_sec=0.1)

    def close(self) -> None:
        import rclpy

        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5.0)
        self.executor.shutdown()
        for node in self.extra + [self.node]:
            node.destroy_node()
        rclpy.try_shutdown(context=self.context)


@contextmanager
def joined_domain(env: dict[str, str]) -> Iterator[None]:
    """This process in the fleet's DDS domain (`env`'s ROS_DOMAIN_ID and discovery range) while a context
    and its nodes are created; the environment is restored afterwards."""
    keys = ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: env[key] for key in keys if key in env})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
