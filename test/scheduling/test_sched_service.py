"""The scheduler service's request handling, without ROS: replies, and bad input named."""
import json
import threading

import pytest
from scheduling_helpers import DATA, raw

from dro_ros.scheduling.scenarios import SCENARIOS, generate
from dro_ros.scheduling.service import ScheduleRequest, answer


def test_a_chain_problem_is_answered_with_its_optimal_schedule():
    reply = answer(ScheduleRequest((DATA / "chain_window.json").read_text(), solver="highs", gap=0.0))
    assert reply.status == "optimal" and reply.objective == pytest.approx(5.001, abs=1e-6)
    entries = json.loads(reply.schedule_json)["tasks"]  # the MOSAIC output JSON
    assert [(e["name"], e["start_time"], e["params"]["agent"]) for e in entries] == [
        ("image", 0.0, "rover"), ("transfer_data", 3.0, "rover"), ("transfer_data", 3.0, "base"),
        ("analyse", 4.0, "base")]


@pytest.mark.parametrize("change, message", [
    (dict(model="xx"), "model: expected one of tv, ti, got 'xx'"),
    (dict(semantics="nasa"), "semantics: expected one of fixed, mosaic, got 'nasa'"),
    (dict(solver="gurobi"), "solver: expected one of cbc, highs, got 'gurobi'"),
    (dict(gap=1.5), "gap: expected a relative gap in [0, 1)"),
    (dict(threads=0), "threads: expected at least 1"),
    (dict(problem_json="{not json"), "problem_json: not valid JSON"),
])
def test_bad_requests_are_invalid_and_name_the_field(change, message):
    fields = {"problem_json": (DATA / "independent.json").read_text(), **change}
    reply = answer(ScheduleRequest(**fields))
    assert reply.status == "invalid" and message in reply.message and reply.schedule_json == ""


def test_a_malformed_problem_names_the_field_path():
    data = raw("independent")
    data["Tasks"]["ProductsSize"]["t1"] = "big"
    reply = answer(ScheduleRequest(json.dumps(data)))
    assert reply.status == "invalid" and reply.message.startswith("Tasks.ProductsSize.t1")


def test_a_cancelled_solve_still_returns_its_incumbent():
    cancel = threading.Event()
    cancel.set()
    reply = answer(ScheduleRequest(json.dumps(generate(**SCENARIOS["rovers3_30"])), time_limit=None, gap=0.0),
                   cancel)
    assert reply.status == "cancelled"


def test_the_mosaic_semantics_gives_mosaics_objective_where_the_default_fixes_a_defect():
    """ti_capacity: two 6 bits/s products over one 10 bits/s link. MOSAIC lets each use the whole
    link (objective -5 + 12e-8, c2 runs); the default bounds their sum and drops c2."""
    request = dict(problem_json=(DATA / "ti_capacity.json").read_text(), model="ti", solver="highs", gap=0.0)
    mosaic, fixed = answer(ScheduleRequest(**request, semantics="mosaic")), answer(ScheduleRequest(**request))
    assert mosaic.status == fixed.status == "optimal"
    assert mosaic.objective == pytest.approx(-5 + 12e-8, abs=1e-12) and fixed.objective > mosaic.objective + 1


def test_an_or_dependency_sent_to_the_time_invariant_model_is_invalid_and_named():
    reply = answer(ScheduleRequest((DATA / "or_dependency.json").read_text(), model="ti"))
    assert reply.status == "invalid" and reply.message.startswith("Tasks.DependencyList.fuse")
