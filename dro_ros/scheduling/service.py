"""Answer one scheduling request: validation, solve, and the reply as plain data.

This is everything `scheduler_node` does apart from translating ROS messages, so tests drive it
without ROS. Bad input never raises: the reply has status `invalid` and a message naming the field.
"""
from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass

from dro_ros.scheduling.output import to_mosaic_output
from dro_ros.scheduling.problem import ProblemError, parse_problem
from dro_ros.scheduling.semantics import SEMANTICS, Semantics
from dro_ros.scheduling.solve import MODELS, SOLVERS, SolveOptions, solve

INVALID = "invalid"


@dataclass(frozen=True)
class ScheduleRequest:
    """Fields of `srv/Schedule.srv`, with the node's defaults already applied, and the node's
    `semantics` parameter ("fixed" or "mosaic", see `semantics.py`)."""

    problem_json: str
    model: str = "tv"
    semantics: str = Semantics.FIXED.value
    solver: str = "cbc"
    time_limit: float | None = 60.0
    gap: float = 0.01
    threads: int = 1


@dataclass(frozen=True)
class ScheduleReply:
    """Fields of `msg/ScheduleResult.msg` (without the stamp)."""

    status: str
    message: str = ""
    objective: float = math.nan
    gap: float = math.nan
    build_time: float = 0.0
    solve_time: float = 0.0
    schedule_json: str = ""


def answer(request: ScheduleRequest, cancel: threading.Event | None = None) -> ScheduleReply:
    """Validate `request`, solve it, and describe the outcome; `cancel` stops the solve early."""
    problem_error = _check(request)
    if problem_error:
        return ScheduleReply(INVALID, problem_error)
    try:
        problem = parse_problem(json.loads(request.problem_json))
    except json.JSONDecodeError as error:
        return ScheduleReply(INVALID, f"problem_json: not valid JSON ({error})")
    except ProblemError as error:
        return ScheduleReply(INVALID, str(error))
    options = SolveOptions(solver=request.solver, time_limit=request.time_limit, gap=request.gap,
                           threads=request.threads, cancel=cancel)
    try:
        result = solve(problem, request.model, options, semantics=request.semantics)
    except ProblemError as error:  # what only the chosen model refuses, e.g. an OR-dependency in ti
        return ScheduleReply(INVALID, str(error))
    schedule_json = (json.dumps(to_mosaic_output(result.schedule, result.semantics, problem.step))
                     if result.schedule is not None else "")
    return ScheduleReply(
        status=result.status.value, message=result.message,
        objective=math.nan if result.objective is None else result.objective,
        gap=math.nan if result.gap is None else result.gap,
        build_time=result.build_time, solve_time=result.solve_time, schedule_json=schedule_json)


def _check(request: ScheduleRequest) -> str:
    if request.model not in MODELS:
        return f"model: expected one of {', '.join(MODELS)}, got {request.model!r}"
    if request.semantics not in SEMANTICS:
        return f"semantics: expected one of {', '.join(SEMANTICS)}, got {request.semantics!r}"
    if request.solver not in SOLVERS:
        return f"solver: expected one of {', '.join(SOLVERS)}, got {request.solver!r}"
    if request.time_limit is not None and not request.time_limit > 0:
        return f"time_limit: expected a positive number of seconds, got {request.time_limit!r}"
    if not 0 <= request.gap < 1:
        return f"gap: expected a relative gap in [0, 1), got {request.gap!r}"
    if request.threads < 1:
        return f"threads: expected at least 1, got {request.threads!r}"
    return ""
