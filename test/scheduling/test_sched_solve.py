"""Solver control: statuses, limits, cancellation, MIP starts, and the model's build time."""
import threading
import time

import pytest

from scheduling_helpers import problem, raw, run
from dro_ros.scheduling import time_varying
from dro_ros.scheduling.heuristic import greedy_schedule
from dro_ros.scheduling.problem import parse_problem
from dro_ros.scheduling.scenarios import scenario
from dro_ros.scheduling.solve import SolveOptions, SolveStatus, solve


@pytest.fixture(scope="module")
def hard_problem():
    """9 agents x 36 tasks x 30 steps with a makespan weight: not solved to 1% within seconds."""
    return parse_problem(scenario("rovers9_30_makespan"))


def test_the_9_agent_36_task_30_step_model_builds():
    """Its build time is a benchmark figure (`dro-ros bench mosaic`), not a test: timings vary with load."""
    p = parse_problem(scenario("rovers9_30"))
    assert (len(p.agents), len(p.tasks), p.n_steps) == (9, 36, 30)
    model = time_varying.build(p)
    assert len(model.c) > 10_000


def test_a_limit_that_stops_the_solver_before_any_solution_reports_no_solution(hard_problem, solver):
    result = solve(hard_problem, "tv", SolveOptions(solver=solver, time_limit=0.05, greedy_start=False))
    assert result.status is SolveStatus.NO_SOLUTION and result.schedule is None


def test_a_time_limit_keeps_the_incumbent_and_reports_its_gap(hard_problem):
    """The limit counts the greedy start's time; HiGHS needs about 20 s for its root LP here."""
    result = solve(hard_problem, "tv", SolveOptions(solver="highs", time_limit=40, gap=0.001))
    assert result.status is SolveStatus.FEASIBLE and result.schedule is not None
    assert result.gap is not None and 0.001 < result.gap < 0.2


class CancelledAfterStart(threading.Event):
    """Set from a timer thread `delay` seconds after the solve first looks at it (right after the model's
    build, whose time varies with the machine's load)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay, self.timer = delay, None

    def is_set(self) -> bool:
        if self.timer is None:
            self.timer = threading.Timer(self.delay, self.set)
            self.timer.start()
        return super().is_set()


def test_cancelling_from_another_thread_stops_the_solve_and_keeps_the_incumbent(hard_problem, solver):
    cancel = CancelledAfterStart(1.0)
    started = time.perf_counter()
    result = solve(hard_problem, "tv", SolveOptions(solver=solver, time_limit=60, cancel=cancel))
    cancel.timer.cancel()
    assert result.status is SolveStatus.CANCELLED
    assert time.perf_counter() - started < 15
    assert result.schedule is not None and len(result.schedule.computes) >= 24


def test_a_solve_cancelled_before_it_starts_returns_at_once():
    cancel = threading.Event()
    cancel.set()
    result = run("two_way", solver="cbc", cancel=cancel)
    assert result.status is SolveStatus.CANCELLED and result.schedule is None and result.solve_time == 0.0


def test_a_previous_schedule_is_a_feasible_mip_start():
    first = run("two_way", solver="highs")
    model = time_varying.build(problem("two_way"))
    for var, value in model.start_values(first.schedule).items():
        var.varValue = value
    assert all(constraint.valid(1e-9) for constraint in model.lp.constraints())


def test_re_solving_from_a_previous_schedule_reaches_the_same_optimum(solver):
    first = run("relay5", solver="highs")
    again = run("relay5", solver=solver, warm_start=first.schedule)
    assert again.status is SolveStatus.OPTIMAL and again.objective == pytest.approx(first.objective, abs=1e-9)


def test_the_greedy_start_places_every_task_of_the_benchmark_feasibly():
    model = time_varying.build(parse_problem(scenario("rovers9_40")))
    schedule = greedy_schedule(model)
    assert len(schedule.computes) == 36
    for var, value in model.start_values(schedule).items():
        var.varValue = value
    assert all(constraint.valid(1e-9) for constraint in model.lp.constraints())


def test_both_back_ends_agree_on_the_3_agent_benchmark_within_the_gap():
    p = parse_problem(scenario("rovers3_30"))
    cbc, highs = (solve(p, "tv", SolveOptions(solver=s, gap=0.01, time_limit=30)) for s in ("cbc", "highs"))
    assert cbc.status is SolveStatus.OPTIMAL and highs.status is SolveStatus.OPTIMAL
    assert abs(cbc.objective - highs.objective) <= 0.01 * abs(highs.objective)


def test_an_unknown_model_or_solver_is_a_value_error():
    p = problem("two_way")
    with pytest.raises(ValueError, match="model"):
        solve(p, "xx")
    with pytest.raises(ValueError, match="solver"):
        solve(p, "tv", SolveOptions(solver="gurobi"))


def test_the_result_counts_the_model():
    result = run(raw("relay5"), solver="highs")
    assert result.n_variables > 0 and result.n_constraints > 0 and result.build_time >= 0
