"""Fleet execution without ROS: plans as continuous-time references, a velocity-loop fleet simulator and the
tracking law that closes the loop, with a reactive separation filter under it; for differential-drive robots
their geometry, tracking law and simulators (MuJoCo's among them). The ROS nodes `fleet_sim_node` and `tracker_node` adapt it."""
from dro_ros.fleet.diff_drive import DiffDrive, DiffDriveError
from dro_ros.fleet.plan import Plan, PlanError
from dro_ros.fleet.safety_filter import DisturbanceEstimate, SeparationFilter
from dro_ros.fleet.simulator import FleetSimulator
from dro_ros.fleet.tracker import TrackingLaw
from dro_ros.fleet.unicycle import UnicycleLaw
from dro_ros.fleet.unicycle_sim import UnicycleSimulator

__all__ = ["DiffDrive", "DiffDriveError", "DisturbanceEstimate", "FleetSimulator", "Plan", "PlanError",
           "SeparationFilter", "TrackingLaw", "UnicycleLaw", "UnicycleSimulator"]
