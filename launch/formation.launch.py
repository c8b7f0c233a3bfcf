"""The 8-robot 2-D formation (CDS path sweep with EAS), simulator, trackers and supervisor.

    ros2 launch dro_ros formation.launch.py [config:=/path/to/config.yaml]

Default config: config/formation2d.yaml. The node list comes from `dro_ros.ros.launch_plan.node_list` (tested
directly); `dro-ros fleet up config/formation2d.yaml` starts the same nodes where ros2 launch is not installed.
"""
from dro_ros.ros.launch_description import fleet_launch_description


def generate_launch_description():
    return fleet_launch_description("formation2d.yaml")
