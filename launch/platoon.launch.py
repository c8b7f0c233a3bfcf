"""A 4-robot platoon planned by the CDS branch sweep, simulated in 1-D.

    ros2 launch dro_ros platoon.launch.py [config:=/path/to/config.yaml]

Default config: config/platoon.yaml. The node list comes from `dro_ros.ros.launch_plan.node_list` (tested
directly); `dro-ros fleet up config/platoon.yaml` starts the same nodes where ros2 launch is not installed.
"""
from dro_ros.ros.launch_description import fleet_launch_description


def generate_launch_description():
    return fleet_launch_description("platoon.yaml")
