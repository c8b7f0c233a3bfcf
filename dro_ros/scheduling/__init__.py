"""MOSAIC-style MILP task scheduling for robot fleets (pure Python, no rclpy).

    from dro_ros.scheduling import load_problem, solve, SolveOptions
    result = solve(load_problem("problem.json"), "tv", SolveOptions(solver="highs", gap=0.01))

Modules: `problem` (MOSAIC JSON -> validated dataclasses), `links` (contact windows -> bits per step or
average links), `time_varying` (the "tv" scheduler MILP), `time_invariant` (the "ti" allocator MILP),
`heuristic` (greedy MIP start), `solve` (CBC / HiGHS, limits, cancellation, status), `schedule`
(the result), `output` (MOSAIC output JSON), `gantt` (PNG chart), `scenarios` (seeded benchmark
problems), `cli` (`dro-ros schedule`).
"""
from dro_ros.scheduling.problem import Problem, ProblemError, load_problem, parse_problem
from dro_ros.scheduling.schedule import Compute, Schedule, Transfer
from dro_ros.scheduling.solve import ScheduleResult, SolveOptions, SolveStatus, solve

__all__ = ["Compute", "Problem", "ProblemError", "Schedule", "ScheduleResult", "SolveOptions", "SolveStatus",
           "Transfer", "load_problem", "parse_problem", "solve"]
