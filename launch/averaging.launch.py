"""Averaging consensus on 6 robots in a ring.

    ros2 launch dro_ros averaging.launch.py [config:=/path/to/config.yaml]

Default config: config/averaging_ring6.yaml. The node list comes from `dro_ros.ros.launch_plan.node_list` (tested
directly); `dro-ros fleet up config/averaging_ring6.yaml` starts the same nodes where ros2 launch is not installed.
"""
from dro_ros.ros.launch_description import fleet_launch_description


def generate_launch_description():
    return fleet_launch_description("averaging_ring6.yaml")
