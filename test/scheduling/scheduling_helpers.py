"""Helpers for the scheduling tests: fixture problems from `data/` and a one-call solve."""
import json
from pathlib import Path

from dro_ros.scheduling.problem import Problem, parse_problem
from dro_ros.scheduling.solve import ScheduleResult, SolveOptions, solve

DATA = Path(__file__).parent / "data"


def raw(name: str) -> dict:
    """The JSON object of fixture `name` (without .json), to modify in a test."""
    return json.loads((DATA / f"{name}.json").read_text())


def problem(name: str) -> Problem:
    return parse_problem(raw(name))


def run(source: str | dict, model: str = "tv", semantics: str = "fixed", **options) -> ScheduleResult:
    """Solve a fixture (by name) or a problem object; exact optimum (gap 0) unless told otherwise."""
    data = raw(source) if isinstance(source, str) else source
    return solve(parse_problem(data), model, SolveOptions(**options), semantics=semantics)
