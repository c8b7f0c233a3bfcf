"""The pure fleet-spec layer between the algorithms and `dro_ros.ros` (no rclpy).

registry.py  the one registry of algorithms: name -> the factory that builds one agent (`make_agent`)
agent.py     `AgentSpec`: what one agent process runs, validated from JSON/YAML or ROS parameters
status.py    `AgentStatus`: an agent's status, typed, to and from `DiagnosticStatus` key-values
"""
from dro_ros.spec.agent import AgentSpec
from dro_ros.spec.registry import ALGORITHMS, Algorithm, SpecError, make_agent
from dro_ros.spec.status import AgentState, AgentStatus

__all__ = ["ALGORITHMS", "AgentSpec", "AgentState", "AgentStatus", "Algorithm", "SpecError", "make_agent"]
