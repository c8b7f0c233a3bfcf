"""The `main()` of a plain node: spin it until SIGINT/SIGTERM; a bad parameter exits with code 2."""
from __future__ import annotations

import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
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
