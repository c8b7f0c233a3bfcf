"""Invariants of every schedule the TV scheduler returns, on random small problems (hypothesis)."""
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dro_ros.scheduling import time_varying
from dro_ros.scheduling.heuristic import greedy_schedule
from dro_ros.scheduling.problem import parse_problem
from dro_ros.scheduling.solve import SolveOptions, solve

AGENTS = ["a0", "a1", "a2"]
HORIZON = 8


@st.composite
def problems(draw):
    n_tasks = draw(st.integers(2, 5))
    tasks = [f"t{k}" for k in range(n_tasks)]
    data = {"Time": {"Thor": HORIZON, "TimeStep": 1},
            "Tasks": {"OptionalTasks": {}, "TaskReward": {}, "ProductsSize": {}, "DependencyList": {}},
            "AgentCapabilities": {"ComputationTime": {}, "ComputationLoad": {},
                                  "MaxComputationLoad": {a: 1.0 for a in AGENTS}},
            "CommunicationNetwork": [],
            "Options": {"Packet Comms": draw(st.booleans())},
            "CostFunction": {"energy": 0.0, "total_task_reward": 1.0,
                             "total_time": draw(st.sampled_from([0.0, 0.5]))}}
    for k, task in enumerate(tasks):
        capable = draw(st.lists(st.sampled_from(AGENTS), min_size=1, max_size=2, unique=True))
        data["AgentCapabilities"]["ComputationTime"][task] = {a: draw(st.integers(1, 3)) for a in capable}
        data["AgentCapabilities"]["ComputationLoad"][task] = {a: draw(st.sampled_from([0.5, 1.0]))
                                                              for a in capable}
        data["Tasks"]["OptionalTasks"][task] = draw(st.booleans())
        data["Tasks"]["TaskReward"][task] = draw(st.integers(1, 10))
        data["Tasks"]["ProductsSize"][task] = draw(st.integers(1, 8))
        earlier = tasks[:k]
        clauses = [draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
                   for _ in range(draw(st.integers(0, 2 if earlier else 0)))]
        data["Tasks"]["DependencyList"][task] = clauses or [[]]
    for origin in AGENTS:
        for destination in AGENTS:
            if origin != destination and draw(st.integers(0, 3)) > 0:
                start = draw(st.integers(0, HORIZON - 1))
                data["CommunicationNetwork"].append({
                    "origin": origin, "destination": destination, "bandwidth": draw(st.integers(2, 8)),
                    "time_start": start, "time_end": draw(st.integers(start + 1, HORIZON + 2)),
                    "latency": 0.0, "energy_cost": 0.0})
    return parse_problem(data)


def check_schedule(p, schedule):
    """Capacity, once-only, required tasks, holdings at every start; returns nothing or fails."""
    done = [c.task for c in schedule.computes]
    assert len(done) == len(set(done))
    assert {t for t in p.tasks if not p.optional[t]} <= set(done)
    use = defaultdict(float)
    hold: dict[tuple[str, str], float] = {}
    for c in schedule.computes:
        assert 0 <= c.start and c.start + c.duration <= p.horizon + 1e-9
        for k in range(round(c.start), round(c.start + c.duration)):
            use[(c.agent, k)] += p.computation_load[c.task][c.agent]
        key = (c.agent, c.task)
        hold[key] = min(hold.get(key, float("inf")), c.start + c.duration)
    for t in schedule.transfers:
        for k in range(round(t.start), round(t.start + t.duration)):
            use[(t.sender, k)] += 1.0
            use[(t.receiver, k)] += 1.0
    assert max(use.values(), default=0.0) <= 1.0 + 1e-6
    for _ in range(len(schedule.transfers) + 1):
        for t in schedule.transfers:
            if hold.get((t.sender, t.product), float("inf")) <= t.start + 1e-9:
                key = (t.receiver, t.product)
                hold[key] = min(hold.get(key, float("inf")), t.start + t.duration)
    for t in schedule.transfers:
        assert hold.get((t.sender, t.product), float("inf")) <= t.start + 1e-9
    if not p.packet_comms:
        for c in schedule.computes:
            for clause in p.dependencies[c.task]:
                assert min(hold.get((c.agent, q), float("inf")) for q in clause) <= c.start + 1e-9


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_returned_schedule_respects_capacity_order_and_holdings(p):
    result = solve(p, "tv", SolveOptions(solver="highs"))
    if result.schedule is not None:
        check_schedule(p, result.schedule)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_greedy_start_satisfies_every_constraint_of_the_model(p):
    model = time_varying.build(p)
    if model.infeasible_reason is not None:
        return
    schedule = greedy_schedule(model)
    if schedule is None:
        return
    check_schedule(p, schedule)
    for var, value in model.start_values(schedule).items():
        var.varValue = value
    assert all(constraint.valid(1e-9) for constraint in model.lp.constraints())
