"""The `main()` of a plain node: spin it until SIGINT/SIGTERM; a bad parameter exits with code 2. And
`spin_in_thread`, for a node whose main thread has work of its own (the supervisor's mission, the
recorder's waiting)."""
from __future__ import annotations

import signal
import sys
import threading
from typing import Callable

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from dro_ros.ros.conversions import ParameterError

STOP_CHECK_SECONDS = 0.1   # a signal stops the spin within this long (its handler runs between waits)


def spin_node(factory: Callable[[], Node], name: str, argv: list[str] | None = None) -> None:
    """Spin the node made by `factory` until SIGINT or SIGTERM, then destroy it and shut rclpy down, all
    from this thread: rclpy's own handlers would shut the context down under the executor's wait."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    try:
        try:
            node = factory()
        except ParameterError as error:
            rclpy.logging.get_logger(name).error(f"bad parameter {error}")
            sys.exit(2)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not stop.is_set():
            executor.spin_once(timeout_sec=STOP_CHECK_SECONDS)
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
    finally:
        rclpy.try_shutdown()


def spin_in_thread(node: Node, threads: int = 1) -> threading.Thread:
    """Spin `node` in a started daemon thread that ends when the context shuts down (`rclpy.try_shutdown`,
    SIGINT, SIGTERM); with `threads` > 1 a MultiThreadedExecutor runs that many callbacks at once (the
    supervisor: a mission's execute callback blocks while odometry keeps arriving)."""
    executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
    executor.add_node(node)

    def spin() -> None:
        try:
            executor.spin()
        except ExternalShutdownException:
            pass
        except RCLError:  # the context was shut down under the wait (SIGINT): the spin simply ends
            if executor.context.ok():
                raise

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    return thread
