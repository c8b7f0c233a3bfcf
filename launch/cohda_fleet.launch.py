"""COHDA schedule selection on 4 robots, with the supervisor printing the result.

    ros2 launch dro_ros cohda_fleet.launch.py [config:=/path/to/config.yaml]

Default config: config/cohda_fleet.yaml. The node list comes from `dro_ros.ros.launch_plan.node_list` (tested
directly); `dro-ros fleet up config/cohda_fleet.yaml` starts the same nodes where ros2 launch is not installed.
"""
from dro_ros.ros.launch_description import fleet_launch_description


def generate_launch_description():
    return fleet_launch_description("cohda_fleet.yaml")
