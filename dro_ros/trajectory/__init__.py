"""Fleet trajectory optimization (thesis Ch. 5): problem model, CasADi stages, EAS, checker, and the
distributed algorithms NC-ADMM, CDS-BS and CDS-PS as carrier agents. No rclpy here.

Every solve here is single-threaded, as on a robot with one processor: MUMPS's BLAS (CasADi's own
OpenBLAS, loaded with the first solver) is held to one thread unless OPENBLAS_NUM_THREADS says otherwise.
Its default, a thread per core, oversubscribes the cores when several agents solve at once, and the
critical-path clock (thread CPU time) would not count the helper threads' work; measured on formation2d,
CDS-PS+EAS critical path 2.03 s -> 1.72 s with the centralized wall time unchanged (9.9 s, 9.7 s).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from dro_ros.trajectory.branch_sweep import BranchSweepAgent, run_branch_sweep
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.checker import CheckReport, InfeasibleProblem, check, diagnose, simulate
from dro_ros.trajectory.eas import EasParameters, EasReport, solve_eas
from dro_ros.trajectory.nc_admm import NcAdmmAgent, run_nc_admm
from dro_ros.trajectory.outcome import FleetResult, FleetStatus
from dro_ros.trajectory.path_sweep import PathSweepAgent, run_path_sweep
from dro_ros.trajectory.problem import BallTerminal, FixedTerminal, FleetProblem, ProblemError
from dro_ros.trajectory.scenarios import Scenario, formation2d, load_scenario, platoon, scenario_from_config
from dro_ros.trajectory.stage import SolveResult, SolveStatus, Stage

__all__ = [
    "BallTerminal", "BranchSweepAgent", "CheckReport", "EasParameters", "EasReport",
    "FixedTerminal", "FleetProblem", "FleetResult", "FleetStatus", "InfeasibleProblem", "NcAdmmAgent",
    "PathSweepAgent", "ProblemError", "Scenario", "SolveResult", "SolveStatus", "Stage", "check", "diagnose",
    "formation2d", "load_scenario", "platoon", "run_branch_sweep", "run_nc_admm", "run_path_sweep",
    "scenario_from_config", "simulate", "solve_centralized", "solve_eas",
]
