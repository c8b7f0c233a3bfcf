"""The `main()` of a plain node: spin it until SIGINT/SIGTERM; a bad parameter exits with code 2. And
`spin_in_thread`, for a node whose main thread has work of its own (the supervisor's mission, the
recorder's waiting)."""
from __future__ import annotations

import sys
import threading
from typing import Callable

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from dro_ros.ros.conversions import ParameterError


def spin_node(factory: Callable[[], Node], name: str, argv: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=argv):
            try:
                rclpy.spin(factory())
            except ParameterError as error:
                rclpy.logging.get_logger(name).error(f"bad parameter {error}")
                sys.exit(2)
            except RuntimeError:  # SIGINT/SIGTERM shut the context down under rclpy (ros2/rclpy#398)
                if rclpy.ok():
                    raise
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


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
