"""Fleet trajectory optimization (thesis Ch. 5): problem model, CasADi stages, EAS, checker, and the
distributed algorithms NC-ADMM, CDS-BS and CDS-PS as carrier agents. No rclpy here.

Every solve is single-threaded, as on a robot with one processor (`stage.single_threaded_blas`).
"""
from dro_ros.trajectory.branch_sweep import BranchSweepAgent, run_branch_sweep
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import CheckReport, InfeasibleProblem, check, diagnose, simulate
from dro_ros.trajectory.eas import EasParameters, EasReport, solve_eas
from dro_ros.trajectory.nc_admm import NcAdmmAgent, run_nc_admm
from dro_ros.trajectory.outcome import FleetResult, FleetStatus
from dro_ros.trajectory.path_sweep import PathSweepAgent, run_path_sweep
from dro_ros.trajectory.obstacles import DiscObstacle, ObstacleError, PolygonObstacle
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, GoalTerminal, ProblemError
from dro_ros.trajectory.scenarios import Scenario, formation2d, load_scenario, platoon, scenario_from_config
from dro_ros.trajectory.stage import SolveResult, SolveStatus, Stage

__all__ = [
    "BallTerminal", "BranchSweepAgent", "CheckReport", "DiscObstacle", "EasParameters", "EasReport",
    "FixedTerminal", "FleetProblem", "GoalTerminal", "ObstacleError", "PolygonObstacle", "FleetResult", "FleetStatus", "InfeasibleProblem", "NcAdmmAgent",
    "PathSweepAgent", "ProblemError", "Scenario", "SolveResult", "SolveStatus", "Stage", "check", "diagnose",
    "formation2d", "load_scenario", "platoon", "run_branch_sweep", "run_nc_admm", "run_path_sweep",
    "scenario_from_config", "simulate", "solve_centralized", "solve_eas",
]
