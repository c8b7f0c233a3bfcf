"""Reading the MOSAIC JSON: every malformed input names the field it is about."""
import json

import pytest

from scheduling_helpers import DATA, raw
from dro_ros.scheduling.problem import ProblemError, load_problem, parse_problem


def error_of(data: dict) -> ProblemError:
    with pytest.raises(ProblemError) as info:
        parse_problem(data)
    return info.value


def test_a_non_numeric_product_size_names_the_task_and_the_value():
    data = raw("chain_window")
    data["Tasks"]["ProductsSize"]["image"] = "x"
    err = error_of(data)
    assert str(err) == "Tasks.ProductsSize.image: expected a non-negative number, got 'x'"
    assert err.path == "Tasks.ProductsSize.image" and isinstance(err, ValueError)


def test_a_missing_section_is_named():
    data = raw("chain_window")
    del data["Time"]
    assert str(error_of(data)) == "Time: missing"


def test_a_horizon_that_is_not_a_whole_number_of_steps_says_which_horizons_work():
    data = raw("chain_window")
    data["Time"] = {"Thor": 10.5, "TimeStep": 1}
    with pytest.raises(ProblemError) as info:
        parse_problem(data).n_steps  # the time-varying model asks; the time-invariant one does not
    message = str(info.value)
    assert message.startswith("Time.Thor: horizon 10.5 s is not a whole number of steps of 1 s")
    assert "use 10 s or 11 s" in message


def test_a_window_to_an_unknown_agent_is_named_by_its_index():
    data = raw("chain_window")
    data["CommunicationNetwork"][0]["destination"] = "mars"
    assert str(error_of(data)) == "CommunicationNetwork[0].destination: unknown agent 'mars'"


def test_a_dependency_on_an_unknown_task_is_named_by_its_position():
    data = raw("chain_window")
    data["Tasks"]["DependencyList"]["analyse"] = [["image", "ghost"]]
    assert str(error_of(data)) == "Tasks.DependencyList.analyse[0][1]: unknown task 'ghost'"


def test_a_capable_agent_without_a_computation_load_is_named():
    data = raw("chain_window")
    del data["AgentCapabilities"]["ComputationLoad"]["analyse"]["base"]
    assert error_of(data).path == "AgentCapabilities.ComputationLoad.analyse.base"


def test_true_is_not_accepted_as_a_number():
    data = raw("chain_window")
    data["AgentCapabilities"]["ComputationTime"]["image"]["rover"] = True
    assert error_of(data).path == "AgentCapabilities.ComputationTime.image.rover"


def test_an_unknown_cost_term_is_named():
    data = raw("chain_window")
    data["CostFunction"]["speed"] = 1.0
    assert error_of(data).path == "CostFunction.speed"


def test_info_time_defaults_to_zero_when_the_windows_omit_it():
    data = raw("chain_window")
    assert all("info_time" not in w for w in data["CommunicationNetwork"])
    assert parse_problem(data).info_time == 0.0


def test_info_time_is_the_median_of_the_windows():
    assert load_problem(DATA / "late_window.json").info_time == 100.0


def test_cost_function_at_top_level_wins_over_options():
    data = raw("chain_window")
    data["Options"]["CostFunction"] = {"total_task_reward": 5.0}
    assert parse_problem(data).weights.makespan == 1.0 and parse_problem(data).weights.reward == 1.0


def test_a_file_that_is_not_json_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ProblemError) as info:
        load_problem(bad)
    assert info.value.path == str(bad)


def test_every_fixture_is_valid():
    for path in DATA.glob("*.json"):
        assert load_problem(path).n_steps == json.loads(path.read_text())["Time"]["Thor"]


def test_empty_optional_tasks_mean_every_task_of_products_size_is_required_as_in_mosaics_ti():
    data = raw("ti_latency")
    data["Tasks"]["OptionalTasks"] = {}
    problem = parse_problem(data)
    assert problem.tasks == tuple(data["Tasks"]["ProductsSize"]) and not any(problem.optional.values())
