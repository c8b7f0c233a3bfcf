"""Shared fixtures. ROS tests skip when ROS is absent, except under `make test` (DRO_ROS_REQUIRE_ROS=1)."""
import importlib.util
import os

import pytest


def ros_available() -> bool:
    return importlib.util.find_spec("rclpy") is not None and importlib.util.find_spec("dro_ros.msg") is not None


def pytest_collection_modifyitems(config, items):
    if ros_available():
        return
    if os.environ.get("DRO_ROS_REQUIRE_ROS") == "1":
        raise pytest.UsageError("ROS tests required but rclpy or the built dro_ros.msg is missing")
    skip = pytest.mark.skip(reason="ROS 2 not available (run `make test`)")
    for item in items:
        if "test/ros" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)
