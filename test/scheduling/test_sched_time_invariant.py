"""The time-invariant allocator on hand-checked cases.

Horizon 10 s, so a product of S bits streams at S / 10 bits/s; as in MOSAIC, every bit/s of flow on
a hop costs 1e-8 (the tie-break) and moving data at B bits/s over a link of average bandwidth bw with
energy e per bit costs e * bw * B.
"""
import pytest

from scheduling_helpers import raw, run
from dro_ros.scheduling.problem import ProblemError
from dro_ros.scheduling.solve import SolveStatus


def test_a_dependency_within_its_latency_is_allocated_across_the_link(solver):
    """20 bits -> 2 bits/s; hop latency 1 s + 20 bits / 10 bits/s = 3 s <= 5 s."""
    result = run("ti_latency", "ti", solver=solver)
    assert result.status is SolveStatus.OPTIMAL
    (flow,) = result.schedule.transfers
    assert (flow.sender, flow.receiver, flow.product, flow.child) == ("a", "b", "p", "c")
    assert flow.bandwidth == pytest.approx(2.0) and flow.start is None
    assert result.objective == pytest.approx(2e-8, abs=1e-12)


def test_a_dependency_beyond_its_latency_is_infeasible(solver):
    data = raw("ti_latency")
    data["Tasks"]["MaxLatency"]["c"]["p"] = 2.0
    assert run(data, "ti", solver=solver).status is SolveStatus.INFEASIBLE


def test_latency_chooses_the_agent_behind_the_faster_link(solver):
    """c is free on b (hop 4 + 2 = 6 s) and costs 1 on b2 (hop 0.5 + 2 = 2.5 s); the limit is 3 s."""
    result = run("ti_latency_choice", "ti", solver=solver)
    assert result.schedule.agent_of("c") == "b2" and result.objective == pytest.approx(1 + 2e-8, abs=1e-12)


def test_without_a_tight_latency_the_cheaper_agent_wins(solver):
    data = raw("ti_latency_choice")
    data["Tasks"]["MaxLatency"]["c"]["p"] = 10.0
    result = run(data, "ti", solver=solver)
    assert result.schedule.agent_of("c") == "b" and result.objective == pytest.approx(2e-8, abs=1e-12)


def test_a_product_flows_over_two_hops_when_there_is_no_direct_link(solver):
    result = run("ti_multihop", "ti", solver=solver)
    hops = sorted((t.sender, t.receiver, round(t.bandwidth, 9)) for t in result.schedule.transfers)
    assert hops == [("a", "r", 2.0), ("r", "b", 2.0)]
    assert result.objective == pytest.approx(4e-8, abs=1e-12)


def test_link_capacity_limits_what_crosses_it(solver):
    """Two products of 6 bits/s each need 12 bits/s; the link offers 10, so the optional c2 is
    dropped."""
    result = run("ti_capacity", "ti", solver=solver)
    assert result.schedule.tasks_done == {"p1", "p2", "c1"}
    assert sum(t.bandwidth for t in result.schedule.transfers) <= 10.0 + 1e-9


def test_mosaic_semantics_lets_each_product_use_the_whole_link(solver):
    """The published allocator bounds each product's bandwidth alone, so both 6 bits/s streams
    cross the 10 bits/s link and c2 runs."""
    result = run("ti_capacity", "ti", solver=solver, semantics="mosaic")
    assert result.schedule.tasks_done == {"p1", "p2", "c1", "c2"}
    assert sum(t.bandwidth for t in result.schedule.transfers) == pytest.approx(12.0)


def test_a_link_with_enough_capacity_carries_both_products(solver):
    data = raw("ti_capacity")
    data["CommunicationNetwork"][0]["bandwidth"] = 12.0
    result = run(data, "ti", solver=solver)
    assert "c2" in result.schedule.tasks_done and result.objective == pytest.approx(-5 + 12e-8, abs=1e-12)


def test_moving_data_that_costs_more_energy_than_computing_keeps_the_child_local(solver):
    """Moving 1 bit/s over the 10 bits/s link at 0.5 per bit costs 0.5 * 10 * 1 = 5 > 2, the energy
    of running c next to p on a."""
    result = run("ti_energy", "ti", solver=solver)
    assert result.schedule.agent_of("c") == "a" and result.objective == pytest.approx(2.0, abs=1e-6)


def test_cheap_links_move_the_child_to_the_agent_that_computes_for_free(solver):
    data = raw("ti_energy")
    data["CommunicationNetwork"][0]["energy_cost"] = 0.1
    result = run(data, "ti", solver=solver)
    assert result.schedule.agent_of("c") == "b" and result.objective == pytest.approx(1 + 1e-8, abs=1e-12)


def test_link_loads_count_against_the_cpu(solver):
    """Decoding the 2 bits/s stream costs b LinkComputationalLoadIn / H * B = 0.9 / 10 * 2 = 0.18 of
    its CPU (MOSAIC's units); with c at 0.1 that exceeds b's capacity of 0.25: infeasible."""
    data = raw("ti_latency")
    data["AgentCapabilities"]["MaxComputationLoad"]["b"] = 0.25
    data["AgentCapabilities"]["LinkComputationalLoadIn"] = {"a": {"b": 0.9}}
    assert run(data, "ti", solver=solver).status is SolveStatus.INFEASIBLE
    data["AgentCapabilities"]["LinkComputationalLoadIn"] = {"a": {"b": 0.5}}
    assert run(data, "ti", solver=solver).status is SolveStatus.OPTIMAL


def test_or_dependencies_are_rejected_with_the_task_named():
    with pytest.raises(ProblemError) as info:
        run("or_dependency", "ti")
    assert info.value.path == "Tasks.DependencyList.fuse" and "OR" in str(info.value)


def without_latency_bounds():
    data = raw("ti_capacity")  # c1 needs p1, c2 needs p2
    del data["Tasks"]["MaxLatency"]
    return data


@pytest.mark.parametrize("semantics", ["fixed", "mosaic"])
def test_a_missing_max_latency_is_rejected_as_mosaics_ti_rejects_it(semantics):
    with pytest.raises(ProblemError) as info:
        run(without_latency_bounds(), "ti", semantics=semantics)
    assert info.value.path == "Tasks.MaxLatency" and "missing" in str(info.value)


def test_the_time_varying_model_does_not_need_max_latency():
    assert run(without_latency_bounds(), "tv", solver="highs").status is SolveStatus.OPTIMAL


@pytest.mark.parametrize("bounds, message", [
    ({"c1": {"p1": 5.0}}, "no bound for ['p2']"),                                  # c2's bound missing
    ({"c1": {"p1": 5.0, "p2": 5.0}, "c2": {"p2": 5.0}}, "['p2'] not among its prerequisites"),
    ({"c1": {"p1": 5.0}, "c2": {"p2": 5.0}, "p1": {"c1": 5.0}}, "['c1'] not among its prerequisites"),
])
def test_latency_bounds_must_name_exactly_the_prerequisites(bounds, message):
    data = without_latency_bounds()
    data["Tasks"]["MaxLatency"] = bounds
    with pytest.raises(ProblemError) as info:
        run(data, "ti")
    assert info.value.path.startswith("Tasks.MaxLatency.") and message in str(info.value)


def test_empty_latency_entries_are_dropped_as_mosaic_drops_them():
    data = without_latency_bounds()
    data["Tasks"]["MaxLatency"] = {"c1": {"p1": 1e6}, "c2": {"p2": 1e6}, "p1": {}, "p2": {}}
    assert run(data, "ti", solver="highs").status is SolveStatus.OPTIMAL
