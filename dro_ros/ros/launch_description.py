"""The one launch description behind every `launch/*.launch.py`: the config's node list as `launch_ros`
nodes. Imports `launch` only when called, so the rest of dro_ros runs where launch is not installed.

    ros2 launch dro_ros formation.launch.py config:=/path/to/fleet.yaml
"""
from __future__ import annotations

import os


def fleet_launch_description(default_config: str):
    """Declare the `config` argument (default: `default_config` in the package's config/ directory) and
    start `dro_ros.ros.launch_plan.node_list(config)`; the launch ends when a required node exits."""
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction, Shutdown
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    from dro_ros.ros.launch_plan import load_config, node_list

    def nodes(context):
        config = load_config(LaunchConfiguration("config").perform(context))
        return [Node(package="dro_ros", executable=n.executable, name=n.name, namespace=n.namespace,
                     parameters=[n.parameters], output="screen",
                     on_exit=Shutdown(reason=f"{n.name} exited") if n.required else None)
                for n in node_list(config)]

    default = os.path.join(get_package_share_directory("dro_ros"), "config", default_config)
    return LaunchDescription([DeclareLaunchArgument("config", default_value=default,
                                                    description="fleet config (YAML)"),
                              OpaqueFunction(function=nodes)])
