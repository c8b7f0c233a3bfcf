"""The makespan model (constraints (8) and (9) of time_varying.py), its lower bound and the greedy's
restarts. The tightened rows must leave every optimum unchanged."""
import pytest

from scheduling_helpers import problem, raw, run
from dro_ros.scheduling import time_varying
from dro_ros.scheduling.heuristic import greedy_schedule
from dro_ros.scheduling.problem import parse_problem
from dro_ros.scheduling.scenarios import generate
from dro_ros.scheduling.semantics import Semantics
from dro_ros.scheduling.solve import SolveStatus


def trade(makespan_weight: float) -> dict:
    """Agents a and b, 6 usable s. t1 (required) runs on a in 2 s; t2 (required) on a in 2 s or on b in 1 s
    for energy 0.5; t3 (optional, reward 1.5) on a in 2 s. Every task has load 1 and no prerequisite."""
    data = raw("independent")
    data["Time"]["Thor"] = 7  # steps 0-5 compute: the last step never does
    capabilities = data["AgentCapabilities"]
    capabilities["ComputationTime"] = {"t1": {"a": 2}, "t2": {"a": 2, "b": 1}, "t3": {"a": 2}}
    capabilities["ComputationLoad"] = {task: {agent: 1.0 for agent in times}
                                       for task, times in capabilities["ComputationTime"].items()}
    capabilities["EnergyCost"] = {"t1": {"a": 0.0}, "t2": {"a": 0.0, "b": 0.5}, "t3": {"a": 0.0}}
    data["Tasks"]["OptionalTasks"]["t3"] = True
    data["Tasks"]["TaskReward"]["t3"] = 1.5
    data["CostFunction"] = {"energy": 1.0, "total_task_reward": 1.0, "total_time": makespan_weight}
    return data


def test_a_heavy_makespan_weight_sends_a_task_to_the_faster_agent_and_skips_the_optional_one(solver):
    """Weight 1: t1 on a (0-2) and t2 on b (0-1): makespan 2 + energy 0.5 = 2.5. Adding t3 on a costs
    2 s for 1.5 (3.0); all on a costs 4 (6 - 1.5 = 4.5 with t3)."""
    result = run(trade(1.0), solver=solver)
    assert result.status is SolveStatus.OPTIMAL and result.objective == pytest.approx(2.5, abs=1e-9)
    assert result.schedule.tasks_done == {"t1", "t2"} and result.schedule.agent_of("t2") == "b"


def test_a_light_makespan_weight_runs_everything_on_the_cheap_agent(solver):
    """Weight 0.2: t1, t2, t3 on a end at 6 s: 1.2 - 1.5 = -0.3; with t2 on b the makespan is 4:
    0.8 + 0.5 - 1.5 = -0.2; without t3: 0.8 on a alone, 0.9 with b."""
    result = run(trade(0.2), solver=solver)
    assert result.objective == pytest.approx(-0.3, abs=1e-9)
    assert {c.agent for c in result.schedule.computes} == {"a"}


@pytest.mark.parametrize(("name", "bound"), [("chain_window", 5), ("relay5", 6), ("late_window", 9)])
def test_the_makespan_lower_bound_is_the_earliest_finish_of_the_last_required_task(name, bound):
    """chain_window: image 0-2, the link opens at 3, analyse 4-5; relay5: four 1 s hops after src
    (0-1), dst 5-6; late_window: the image arrives at 8, analyse 8-9. Z[s] is fixed to 1 up to it."""
    model = time_varying.build(problem(name))
    assert model.makespan_bound == bound
    assert [s for s, var in model.late.items() if var.lowBound == 1] == list(range(1, bound + 1))


def test_the_makespan_lower_bound_never_exceeds_an_optimal_makespan(solver):
    """Here the bound is tight: each fixture's optimum ends exactly at its earliest finish."""
    for name in ("chain_window", "relay5", "late_window"):
        result = run(name, solver=solver)
        finish = max(c.start + c.duration for c in result.schedule.computes)
        assert time_varying.build(problem(name)).makespan_bound == finish


def test_greedy_restarts_never_do_worse_and_stay_a_feasible_mip_start():
    model = time_varying.build(parse_problem(generate(n_agents=9, n_steps=30, seed=9, makespan_weight=0.1)))
    plain, restarted = greedy_schedule(model), greedy_schedule(model, restarts=10)
    assert model.objective_value(restarted) <= model.objective_value(plain)
    for var, value in model.start_values(restarted).items():
        var.varValue = value
    assert all(constraint.valid(1e-9) for constraint in model.lp.constraints())


def test_without_a_makespan_weight_the_model_has_no_makespan_variables():
    model = time_varying.build(problem("independent"))
    assert model.late == {} and not any(v.name.startswith("z_") for v in model.lp.variables())


def test_mosaic_semantics_ignores_the_makespan_weight_as_mosaic_does(solver):
    """Weight 1 ignored: energy - reward alone puts t1, t2 and t3 on a (0 - 1.5)."""
    result = run(trade(1.0), solver=solver, semantics="mosaic")
    assert result.objective == pytest.approx(-1.5, abs=1e-9) and result.schedule.tasks_done == {"t1", "t2", "t3"}
    assert time_varying.build(parse_problem(trade(1.0)), Semantics.MOSAIC).late == {}
