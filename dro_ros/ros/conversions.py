"""ROS values to and from the pure layer: TrajectoryPlan <-> `dro_ros.fleet.Plan`, node parameters (the
robots' kind among them), and yaw <-> quaternion.

Malformed input raises an error whose message starts with the offending field or parameter name, so a node
can log it and carry on (a bad message) or exit with code 2 (a bad parameter).
"""
from __future__ import annotations

import array
import math
from typing import Any

from builtin_interfaces.msg import Time
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from dro_ros.fleet import DiffDrive, DiffDriveError, Plan
from dro_ros.fleet.diff_drive import yaw
from dro_ros.fleet.plan import plan_from_message as plan_from_msg  # noqa: F401 (the nodes' name)
from dro_ros.msg import TrajectoryPlan


def plan_to_msg(plan: Plan, stamp: Time, frame_id: str) -> TrajectoryPlan:
    """The message of `plan`, arrays flattened row-major."""
    return TrajectoryPlan(stamp=stamp, robot=plan.robot, run_id=plan.run_id, frame_id=frame_id, step=plan.step,
                          dim=plan.dim, position=plan.position.ravel(), velocity=plan.velocity.ravel(),
                          input=plan.input.ravel(), cost=plan.cost)


class ParameterError(ValueError):
    """A missing or malformed node parameter; the message starts with its name."""


def read_parameter(node: Node, name: str, kind: str, description: str, default: Any = None) -> Any:
    """Declare parameter `name` and return its value as `kind`: bool, double, integer, string, string_array or
    double_array. It is declared dynamically typed, so an integer is accepted for a double (rate:=50).
    Unset (an empty list is unset too): `default`, or ParameterError when `default` is None."""
    descriptor = ParameterDescriptor(description=description, dynamic_typing=True)
    value = node.declare_parameter(name, default, descriptor).value
    if value is None:
        if default is None:
            raise ParameterError(f"{name}: required ({description})")
        return default
    number = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)  # noqa: E731
    sequence = isinstance(value, (list, tuple, array.array))
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "double" and number(value):
        return float(value)
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "string_array" and sequence and all(isinstance(x, str) for x in value):
        return list(value)
    if kind == "double_array" and sequence and all(number(x) for x in value):
        return [float(x) for x in value]
    raise ParameterError(f"{name}: expected a {kind.replace('_', ' ')} ({description}), got {value!r}")


DIFF_DRIVE = ("body_radius", "wheel_base", "wheel_radius", "max_wheel_speed", "max_wheel_accel", "offset")


def read_robot(node: Node) -> DiffDrive | None:
    """The robots' kind from parameter `robot_kind` (holonomic: None) and, for `diff_drive`, its geometry
    and limits from the parameters named as `DiffDrive`'s fields (the config's `robot` section)."""
    kind = read_parameter(node, "robot_kind", "string", "holonomic | diff_drive", "holonomic")
    if kind not in ("holonomic", "diff_drive"):
        raise ParameterError(f"robot_kind: expected holonomic or diff_drive, got {kind!r}")
    values = {name: read_parameter(node, name, "double", f"diff-drive {name} (fleet.diff_drive)", 0.0)
              for name in DIFF_DRIVE}
    if kind == "holonomic":
        return None
    try:
        return DiffDrive(**values)
    except DiffDriveError as error:
        raise ParameterError(str(error)) from error


def yaw_of(orientation: Any) -> float:
    """The yaw (rad) of a geometry_msgs/Quaternion."""
    return float(yaw(orientation.w, orientation.x, orientation.y, orientation.z))


def set_yaw(orientation: Any, angle: float) -> None:
    """Write the rotation by `angle` about z into a geometry_msgs/Quaternion."""
    orientation.x, orientation.y = 0.0, 0.0
    orientation.z, orientation.w = math.sin(angle / 2), math.cos(angle / 2)
