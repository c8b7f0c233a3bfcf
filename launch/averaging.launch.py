"""Averaging consensus on a fleet: one agent_node per robot, from a config file.

    ros2 launch dro_ros averaging.launch.py config:=/path/to/config.yaml

The node list comes from `dro_ros.ros.launch_plan.node_list`, which the tests exercise directly.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from dro_ros.ros.launch_plan import load_config, node_list


def _nodes(context):
    config = load_config(LaunchConfiguration("config").perform(context))
    return [Node(package="dro_ros", executable=n.executable, name=n.name, namespace=n.namespace,
                 arguments=n.arguments, output="screen") for n in node_list(config)]


def generate_launch_description():
    default = os.path.join(get_package_share_directory("dro_ros"), "config", "averaging_ring6.yaml")
    return LaunchDescription([DeclareLaunchArgument("config", default_value=default),
                              OpaqueFunction(function=_nodes)])
