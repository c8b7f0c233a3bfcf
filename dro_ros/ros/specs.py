"""The agent spec, re-exported for the ROS layer: it lives in the pure layer, `dro_ros.spec`
(`spec.agent.AgentSpec`, the registry of algorithms in `spec.registry`)."""
from dro_ros.spec.agent import AgentSpec
from dro_ros.spec.registry import ALGORITHMS, SpecError

__all__ = ["ALGORITHMS", "AgentSpec", "SpecError"]
