"""MOSAIC's answers on MOSAIC's files: every problem of `data/mosaic/` under both semantics.

`data/mosaic/index.json` (a copy of /work/shared/mosaic) gives, per problem file, the model and the
status and objective nasa/MOSAIC's own scheduler returned. With `semantics="mosaic"` every problem
must give MOSAIC's status and objective (1e-6 relative); with the default semantics too, except the
problems `default-differs.json` lists, where a fixed MOSAIC defect is involved: there the fix must
be what changes the answer (the default keeps the constraint MOSAIC omits, MOSAIC's answer breaks it).
For the problems of MOSAIC's unit tests, `NAME.facts.json` states what those tests assert about the
schedule (our own encoding of nasa/MOSAIC's test_MOSAICSolver.py and test_MOSAICTISolver.py); the
facts must hold on our answer under both semantics.

A new case: drop `NAME.json` (and optionally `NAME.facts.json`) under `data/mosaic/` and add its row
to `index.json`.
"""
import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

from dro_ros.scheduling.links import average_links
from dro_ros.scheduling.problem import Problem, load_problem
from dro_ros.scheduling.schedule import Schedule
from dro_ros.scheduling.solve import ScheduleResult, SolveOptions, SolveStatus, solve

ROOT = Path(__file__).parent / "data" / "mosaic"
ROWS = json.loads((ROOT / "index.json").read_text())
DIFFERS = json.loads((ROOT / "default-differs.json").read_text())["problems"]
FEASIBLE = {"Optimal", "opt"}
RELATIVE = 1e-6


@lru_cache(maxsize=None)
def answer(path: str, model: str, semantics: str) -> tuple[Problem, ScheduleResult]:
    problem = load_problem(ROOT / path)
    return problem, solve(problem, model, SolveOptions(solver="highs", gap=0.0), semantics=semantics)


def check_mosaic_answer(row: dict, result: ScheduleResult) -> None:
    if row["objective"] is None:
        assert result.status is SolveStatus.INFEASIBLE and result.schedule is None and result.message
    else:
        assert row["mosaic_status"] in FEASIBLE and result.status is SolveStatus.OPTIMAL
        assert result.objective == pytest.approx(row["objective"], rel=RELATIVE, abs=0.0)


@pytest.mark.parametrize("row", ROWS, ids=[row["problem"] for row in ROWS])
def test_mosaic_semantics_gives_mosaics_status_and_objective(row):
    _, result = answer(row["problem"], row["model"], "mosaic")
    check_mosaic_answer(row, result)


@pytest.mark.parametrize("row", [r for r in ROWS if r["problem"] not in DIFFERS],
                         ids=[r["problem"] for r in ROWS if r["problem"] not in DIFFERS])
def test_the_default_gives_mosaics_answer_where_no_fixed_defect_is_involved(row):
    _, result = answer(row["problem"], row["model"], "fixed")
    check_mosaic_answer(row, result)


def link_use(problem: Problem, schedule: Schedule) -> dict[tuple[str, str], float]:
    """TI: bandwidth each link carries, summed over products (a product's flows to several children
    share one stream, so each product counts with its largest flow)."""
    per_product: dict[tuple[str, str, str], float] = defaultdict(float)
    for flow in schedule.transfers:
        key = (flow.sender, flow.receiver, flow.product)
        per_product[key] = max(per_product[key], flow.bandwidth)
    use: dict[tuple[str, str], float] = defaultdict(float)
    for (sender, receiver, _), rate in per_product.items():
        use[(sender, receiver)] += rate
    return use


@pytest.mark.parametrize("path", sorted(DIFFERS))
def test_where_the_default_differs_it_is_the_fix_that_changes_the_answer(path):
    row = next(r for r in ROWS if r["problem"] == path)
    assert DIFFERS[path] == "bounds_link_sum" and row["model"] == "ti"
    problem, fixed = answer(path, "ti", "fixed")
    _, mosaic = answer(path, "ti", "mosaic")
    links = average_links(problem)
    over = [key for key, rate in link_use(problem, mosaic.schedule).items() if rate > links[key].bandwidth + 1e-6]
    assert over, "MOSAIC's answer keeps every link within its bandwidth: the fix is not involved"
    assert all(rate <= links[key].bandwidth + 1e-6 for key, rate in link_use(problem, fixed.schedule).items())
    assert fixed.status is SolveStatus.OPTIMAL and fixed.objective > row["objective"] + 1e-6


FACT_FILES = sorted(ROOT.rglob("*.facts.json"))


@pytest.mark.parametrize("semantics", ["mosaic", "fixed"])
@pytest.mark.parametrize("facts_file", FACT_FILES, ids=[str(f.relative_to(ROOT)) for f in FACT_FILES])
def test_the_facts_mosaics_unit_tests_assert_hold_on_our_schedule(facts_file, semantics):
    path = str(facts_file.relative_to(ROOT)).replace(".facts.json", ".json")
    row = next(r for r in ROWS if r["problem"] == path)
    facts = json.loads(facts_file.read_text())
    problem, result = answer(path, row["model"], semantics)
    if facts.get("infeasible") or result.schedule is None:
        assert facts.get("infeasible") or all(step is None for step in facts.get("start_step", {}).values())
        assert result.status is SolveStatus.INFEASIBLE
        return
    schedule = result.schedule
    step = {c.task: round(c.start / problem.step) for c in schedule.computes if c.start is not None}
    for task, expected in facts.get("start_step", {}).items():
        assert step.get(task) == expected, f"{task} starts at step {step.get(task)}, MOSAIC's test: {expected}"
    for task, earliest in facts.get("start_step_at_least", {}).items():
        assert step[task] >= earliest
    for task, agent in facts.get("agent", {}).items():
        assert schedule.agent_of(task) == agent, f"{task} on {schedule.agent_of(task)}, MOSAIC's test: {agent}"
    for task, agents in facts.get("agent_in", {}).items():
        assert schedule.agent_of(task) in agents
    for first, second in facts.get("different_agents", []):
        assert schedule.agent_of(first) != schedule.agent_of(second)
    for first, second in facts.get("same_agent", []):
        assert schedule.agent_of(first) == schedule.agent_of(second) is not None
    assert all(task in schedule.tasks_done for task in facts.get("scheduled", []))
    assert all(any(task in schedule.tasks_done for task in group) for group in facts.get("scheduled_any", []))
    sent = {(t.sender, t.receiver, t.product, round(t.start / problem.step))
            for t in schedule.transfers if t.start is not None}
    for transfer in facts.get("transfers", []):
        assert (transfer["sender"], transfer["receiver"], transfer["product"], transfer["start_step"]) in sent
    for flow in facts.get("flows", []):  # MOSAIC's tests accept a rate within 0.01
        assert any((t.sender, t.receiver, t.product) == (flow["sender"], flow["receiver"], flow["product"])
                   and abs(t.bandwidth - flow["rate"]) < 0.01 for t in schedule.transfers), flow


def test_every_problem_file_has_its_row_in_the_index():
    listed = {row["problem"] for row in ROWS}
    files = {str(f.relative_to(ROOT)) for f in ROOT.rglob("*.json")
             if not f.name.endswith((".mosaic-output.json", ".facts.json"))
             and f.parent != ROOT}
    assert files == listed
