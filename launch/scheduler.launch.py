"""The MOSAIC-style scheduler service (scheduler_node).

    ros2 launch dro_ros scheduler.launch.py [config:=/path/to/config.yaml]

Default config: config/scheduler.yaml. The node list comes from `dro_ros.ros.launch_plan.node_list` (tested
directly); `dro-ros fleet up config/scheduler.yaml` starts the same nodes where ros2 launch is not installed.
"""
from dro_ros.ros.launch_description import fleet_launch_description


def generate_launch_description():
    return fleet_launch_description("scheduler.yaml")
