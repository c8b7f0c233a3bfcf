"""MOSAIC-style MILP task scheduling for robot fleets (pure Python, no rclpy).

    from dro_ros.scheduling import load_problem, solve, SolveOptions
    result = solve(load_problem("problem.json"), "tv", SolveOptions(solver="highs", gap=0.01))
    mosaic = solve(load_problem("problem.json"), "tv", semantics="mosaic")   # MOSAIC's model exactly

Modules: `problem` (MOSAIC JSON -> validated dataclasses), `semantics` (MOSAIC's model as published or
with its defects fixed), `links` (contact windows -> bits per step or average links), `time_varying`
(the "tv" scheduler MILP), `time_invariant` (the "ti" allocator MILP), `heuristic` (greedy MIP start), `solve` (CBC / HiGHS, limits, cancellation, status), `schedule`
(the result), `output` (MOSAIC output JSON), `gantt` (PNG chart), `scenarios` (seeded benchmark
problems), `cli` (`dro-ros schedule`).
"""
from dro_ros.scheduling.problem import Problem, ProblemError, load_problem, parse_problem
from dro_ros.scheduling.schedule import Compute, Schedule, Transfer
from dro_ros.scheduling.semantics import Semantics
from dro_ros.scheduling.solve import ScheduleResult, SolveOptions, SolveStatus, solve

__all__ = ["Compute", "Problem", "ProblemError", "Schedule", "ScheduleResult", "Semantics", "SolveOptions",
           "SolveStatus", "Transfer", "load_problem", "parse_problem", "solve"]
