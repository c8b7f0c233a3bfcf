"""Fleet execution without ROS: plans as continuous-time references, a velocity-loop fleet simulator and the
tracking law that closes the loop. numpy only; the ROS nodes `fleet_sim_node` and `tracker_node` adapt it."""
from dro_ros.fleet.plan import Plan, PlanError
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.fleet.tracker import TrackingLaw

__all__ = ["FleetSimulator", "Plan", "PlanError", "TrackingLaw"]
