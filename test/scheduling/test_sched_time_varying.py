"""The time-varying scheduler on hand-checked cases (item 8 of issue 5), with both back ends.

Fixtures weighing the makespan (total_time = 1) have a unique optimum: objective = makespan + 0.001 per
transfer (the tie-break), so the expected values below are worked out by hand in each docstring.
"""
import json

import pytest

from scheduling_helpers import DATA, raw, run
from dro_ros.scheduling.problem import ProblemError
from dro_ros.scheduling.solve import SolveStatus


def test_independent_tasks_all_run_and_the_shared_task_goes_to_the_idle_agent(solver):
    """a: t1 (2 s) and b: t2 (3 s) fill the 3 usable steps of a 4 s horizon (the last step never
    computes) except one second of a, so t3 must run on a."""
    result = run("independent", solver=solver)
    assert result.status is SolveStatus.OPTIMAL and result.objective == pytest.approx(0.0, abs=1e-9)
    assert result.schedule.tasks_done == {"t1", "t2", "t3"} and result.schedule.agent_of("t3") == "a"


def test_a_chain_across_agents_waits_for_the_contact_window(solver):
    """image 0-2 s on the rover; the link opens at 3 s and carries 4 bits/s, the product is 4 bits:
    one step 3-4 s; analyse 4-5 s on the base. Objective 5 + 0.001."""
    result = run("chain_window", solver=solver)
    assert result.objective == pytest.approx(5.001, abs=1e-6)
    (transfer,) = result.schedule.transfers
    assert (transfer.sender, transfer.receiver, transfer.start, transfer.duration) == ("rover", "base", 3.0, 1.0)
    assert [(c.task, c.agent, c.start) for c in result.schedule.computes][-1] == ("analyse", "base", 4.0)


def test_a_product_too_large_for_one_step_streams_over_several(solver):
    """10 bits at 4 bits/s: steps 2, 3 and 4 (4 + 4 + 2 bits), so analyse starts at 5. Objective 6.001."""
    result = run("large_product", solver=solver)
    (transfer,) = result.schedule.transfers
    assert (transfer.start, transfer.duration) == (2.0, 3.0)
    assert result.objective == pytest.approx(6.001, abs=1e-6)


def test_a_product_too_large_for_one_step_needs_three_packets_in_packet_mode(solver):
    """Packet mode: each step's packet carries 4 of the 10 bits, so three packets (at 2, 3, 4 s)."""
    data = raw("large_product")
    data["Options"]["Packet Comms"] = True
    result = run(data, solver=solver)
    assert [t.start for t in result.schedule.transfers] == [2.0, 3.0, 4.0]
    assert result.objective == pytest.approx(6.003, abs=1e-6)


def test_a_window_that_opens_late_delays_the_chain_and_times_are_relative_to_info_time(solver):
    """info_time 100 s; the window opens at 106.5 s: step 6 carries 2 bits, step 7 another 4, so the
    4-bit image arrives at 8 s (relative) and analyse runs 8-9 s. Objective 9.001."""
    result = run("late_window", solver=solver)
    assert result.objective == pytest.approx(9.001, abs=1e-6)
    analyse = next(c for c in result.schedule.computes if c.task == "analyse")
    assert analyse.start == 8.0


def test_a_window_that_opens_after_the_horizon_makes_the_chain_infeasible(solver):
    data = raw("late_window")
    data["CommunicationNetwork"][0]["time_start"] = 109.5
    result = run(data, solver=solver)
    assert result.status is SolveStatus.INFEASIBLE and result.schedule is None
    assert "'analyse'" in result.message


def test_a_two_way_exchange_sends_one_product_each_way_one_after_the_other(solver):
    """pa, pb at 0-1 s; a transfer occupies both agents, so the two transfers take steps 1 and 2;
    qa, qb run 3-4 s. Objective 4 + 2 * 0.001."""
    result = run("two_way", solver=solver)
    assert result.objective == pytest.approx(4.002, abs=1e-6)
    moves = {(t.product, t.sender, t.receiver): t.start for t in result.schedule.transfers}
    assert set(moves) == {("pa", "a", "b"), ("pb", "b", "a")}
    assert sorted(moves.values()) == [1.0, 2.0]


def test_optional_tasks_are_done_or_skipped_by_reward(solver):
    """3 s on one agent: 'big' (reward 10, 2 s) beats 'small' (reward 3, 2 s); 'costly' (reward 5,
    energy 8, energy weight 1) would fit but loses 3, so it is skipped. Objective -10."""
    result = run("optional_reward", solver=solver)
    assert result.schedule.tasks_done == {"big"}
    assert result.objective == pytest.approx(-10.0, abs=1e-9)


def test_an_or_dependency_is_met_by_the_faster_alternative(solver):
    """fuse needs gps OR vision: gps (1 s) + transfer + fuse ends at 3 s; vision would end at 6 s."""
    result = run("or_dependency", solver=solver)
    assert result.schedule.tasks_done == {"gps", "fuse"}
    assert result.objective == pytest.approx(3.001, abs=1e-6)


def test_an_or_dependency_falls_back_when_one_alternative_cannot_reach(solver):
    """Without the rover1 -> base link only vision can feed fuse: 4 s + 1 s transfer + 1 s."""
    data = raw("or_dependency")
    data["CommunicationNetwork"] = [w for w in data["CommunicationNetwork"] if w["origin"] != "rover1"]
    result = run(data, solver=solver)
    assert "vision" in result.schedule.tasks_done and "gps" not in result.schedule.tasks_done
    assert result.objective == pytest.approx(6.001, abs=1e-6)


def test_impossible_dependencies_are_infeasible_with_a_reason(solver):
    """b runs only on y and needs a, which runs only on x; nothing links x to y."""
    result = run("impossible", solver=solver)
    assert result.status is SolveStatus.INFEASIBLE and result.schedule is None
    assert "'b'" in result.message


def test_a_cyclic_dependency_is_infeasible(solver):
    data = raw("impossible")
    data["Tasks"]["DependencyList"]["a"] = [["b"]]
    assert run(data, solver=solver).status is SolveStatus.INFEASIBLE


def test_capacity_conflicts_are_proved_infeasible_by_the_solver(solver):
    """Two required 2 s tasks on one agent with full load cannot both fit in 3 s."""
    data = raw("independent")
    data["AgentCapabilities"]["ComputationTime"]["t1"] = {"b": 2}
    data["AgentCapabilities"]["ComputationLoad"]["t1"] = {"b": 1.0}
    data["AgentCapabilities"]["ComputationTime"]["t2"] = {"b": 2}
    result = run(data, solver=solver)
    assert result.status is SolveStatus.INFEASIBLE and result.message.startswith("the solver proved")


def test_a_five_agent_relay_chain_forwards_the_product_hop_by_hop(solver):
    """n1 -> n2 -> n3 -> n4 -> n5 at 1 bit/s, 1 bit: hops at 1, 2, 3, 4 s; dst on n5 at 5-6 s.
    Objective 6 + 4 * 0.001."""
    result = run("relay5", solver=solver)
    hops = [(t.sender, t.receiver, t.start) for t in result.schedule.transfers]
    assert hops == [("n1", "n2", 1.0), ("n2", "n3", 2.0), ("n3", "n4", 3.0), ("n4", "n5", 4.0)]
    assert result.objective == pytest.approx(6.004, abs=1e-6)


def test_a_broken_chain_skips_its_optional_last_task_and_stays_feasible(solver):
    """c (optional, reward 10) runs only on n3, which nothing reaches from n1 where b is done."""
    result = run("broken_chain", solver=solver)
    assert result.status is SolveStatus.OPTIMAL
    assert result.schedule.tasks_done == {"a", "b"} and result.objective == pytest.approx(0.0, abs=1e-9)


def test_only_one_of_a_group_of_incompatible_tasks_runs(solver):
    """x (reward 5) and y (reward 8) are incompatible: y alone. Objective -8."""
    result = run("incompatible", solver=solver)
    assert result.schedule.tasks_done == {"y"} and result.objective == pytest.approx(-8.0, abs=1e-9)


def test_initial_information_replaces_the_computation(solver):
    """The base already holds the image at t = 0, so analyse needs no transfer and no rover work."""
    data = raw("chain_window")
    data["Tasks"]["OptionalTasks"]["image"] = True
    data["AgentCapabilities"]["InitialInformation"]["image"]["base"] = True
    result = run(data, solver=solver)
    assert result.schedule.tasks_done == {"analyse"} and result.schedule.transfers == ()
    assert result.objective == pytest.approx(1.0, abs=1e-9)


def test_without_a_makespan_weight_the_schedule_is_not_hurried(solver):
    """The published code ignores total_time; here a zero weight leaves only the tie-break."""
    data = raw("chain_window")
    data["CostFunction"]["total_time"] = 0.0
    assert run(data, solver=solver).objective == pytest.approx(0.001, abs=1e-9)


def test_a_horizon_of_whole_steps_only_up_to_rounding_is_kept_by_default_and_refused_as_mosaic_does():
    """Thor 0.3 s in steps of 0.1 s: 0.3 / 0.1 = 2.9999..., so MOSAIC's grid fails its assertion; the
    default takes 3 steps. The 0.1 s task then runs at step 0 (the last step never computes)."""
    data = raw("independent")
    data["Time"] = {"Thor": 0.3, "TimeStep": 0.1}
    data["Tasks"]["OptionalTasks"] = {"t1": True, "t2": True, "t3": True}
    data["AgentCapabilities"]["ComputationTime"] = {"t1": {"a": 0.1}, "t2": {"b": 0.1}, "t3": {"a": 0.1}}
    data["CommunicationNetwork"] = [{"origin": "a", "destination": "b", "bandwidth": 1, "time_start": 0,
                                     "time_end": 1, "latency": 0, "energy_cost": 0, "info_time": 0}]
    assert run(data, solver="highs").status is SolveStatus.OPTIMAL
    with pytest.raises(ProblemError) as info:
        run(data, solver="highs", semantics="mosaic")
    assert info.value.path == "Time.Thor" and "assertion" in str(info.value)


def test_a_product_of_size_0_arrives_in_the_step_its_transfer_starts(solver):
    """MOSAIC's end(t) is the first e >= t with the data carried >= size, so a size-0 transfer ends
    where it starts and occupies no step (SEMANTICS.md 1.3): T0 on A0 at 0, transfer at 1, T1 on A1 at
    1, the last start step of a 1-step task in 3 steps. Size 5 needs step 1 to carry it: infeasible."""
    data = json.loads((DATA / "mosaic" / "probes" / "probe_short_link_credit.json").read_text())
    data["Time"]["Thor"] = 3.0
    data["Tasks"]["ProductsSize"]["T0"] = 0
    data["CommunicationNetwork"][0].update(time_start=1.0, time_end=2.0, bandwidth=1.0)
    result = run(data, solver=solver)
    assert result.status is SolveStatus.OPTIMAL and result.objective == pytest.approx(0.001, abs=1e-9)
    (transfer,) = result.schedule.transfers
    assert (transfer.start, transfer.duration) == (1.0, 0.0) and result.schedule.computes[-1].start == 1.0
    data["Tasks"]["ProductsSize"]["T0"] = 5
    assert run(data, solver=solver).status is SolveStatus.INFEASIBLE
