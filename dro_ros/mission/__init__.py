"""Fleet missions, decided in pure Python (no rclpy): what a goal means, the scenario it is planned as from
the robots' live states, and the state machine that takes one goal from acceptance to a verified result.

The supervisor node (`dro_ros.ros.nodes.supervisor_node`) only adapts this to ROS 2: it serves the
`dro_ros/action/Mission` action and implements `FleetPort` with topics and services.
"""
from dro_ros.mission.goal import DiscTarget, GoalError, MissionGoal, PositionsTarget
from dro_ros.mission.machine import (FleetPort, Mission, MissionFeedback, MissionResult, MissionSettings,
                                     MissionStatus, Phase, PlanningOutcome, RobotState)
from dro_ros.mission.scenario import mission_scenario

__all__ = ["DiscTarget", "FleetPort", "GoalError", "Mission", "MissionFeedback", "MissionGoal", "MissionResult",
           "MissionSettings", "MissionStatus", "Phase", "PlanningOutcome", "PositionsTarget", "RobotState",
           "mission_scenario"]
