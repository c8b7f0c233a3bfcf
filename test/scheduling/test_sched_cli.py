"""`dro-ros schedule` (driven through `add_schedule_parser` / `run_schedule`) and `bench mosaic`."""
import json

from scheduling_helpers import DATA, raw
from dro_ros.cli import build_parser
from dro_ros.scheduling.scenarios import SCENARIOS, generate


def schedule(*argv: str) -> int:
    """`dro-ros schedule ARGV...`, in this process."""
    args = build_parser().parse_args(["schedule", *argv])
    return args.handler(args)


def test_schedule_prints_status_objective_and_times_and_writes_the_files(tmp_path, capsys):
    out, plot = tmp_path / "out.json", tmp_path / "gantt.png"
    code = schedule(str(DATA / "relay5.json"), "--solver", "highs", "--out", str(out), "--plot", str(plot))
    printed = capsys.readouterr().out
    assert code == 0
    assert "status: optimal" in printed and "objective: 6.004" in printed
    assert "tasks: 2 of 2 scheduled" in printed and "time: build" in printed
    assert len(json.loads(out.read_text())["tasks"]) == 2 + 2 * 4 and plot.stat().st_size > 0


def test_schedule_with_the_allocator_and_cbc(capsys):
    assert schedule(str(DATA / "ti_capacity.json"), "--model", "ti", "--solver", "cbc") == 0
    assert "(not scheduled: c2)" in capsys.readouterr().out


def test_an_infeasible_problem_exits_1_with_the_reason(capsys):
    assert schedule(str(DATA / "impossible.json"), "--solver", "highs") == 1
    assert "status: infeasible (required task 'b'" in capsys.readouterr().out


def test_a_malformed_problem_exits_2_naming_the_field(tmp_path, capsys):
    data = raw("chain_window")
    data["Tasks"]["ProductsSize"]["image"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert schedule(str(path)) == 2
    assert "Tasks.ProductsSize.image: expected a non-negative number, got -1" in capsys.readouterr().err


def test_an_or_dependency_with_the_allocator_exits_2(capsys):
    assert schedule(str(DATA / "or_dependency.json"), "--model", "ti") == 2
    assert "Tasks.DependencyList.fuse" in capsys.readouterr().err


def test_the_example_problem_in_config_solves(capsys):
    from pathlib import Path

    example = Path(__file__).parents[2] / "config" / "scheduling" / "rovers3.json"
    assert schedule(str(example), "--solver", "highs", "--gap", "0.01") == 0
    assert "tasks: 11 of 11 scheduled" in capsys.readouterr().out


def test_bench_reports_build_and_solve_figures_for_each_solver(capsys):
    args = build_parser().parse_args(["bench", "mosaic", "--json", "--set", 'scenarios=["rovers3_30"]',
                                      "--set", "time_limit=30"])
    assert args.handler(args) == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["scenarios"]
    assert (row["agents"], row["tasks"], row["steps"]) == (3, 11, 30)
    for figures in row["solvers"].values():
        assert figures["status"] == "optimal" and figures["gap"] <= 0.01
        assert figures["build_time"] > 0 and figures["solve_time"] > 0


def test_scenarios_are_seeded_and_sized_like_the_benchmark():
    assert generate(n_agents=9, n_steps=30, seed=9) == generate(n_agents=9, n_steps=30, seed=9)
    big = generate(**SCENARIOS["rovers9_30"])
    agents = big["AgentCapabilities"]["MaxComputationLoad"]
    assert len(agents) == 9 and len(big["Tasks"]["OptionalTasks"]) == 36
    assert sum(big["Tasks"]["OptionalTasks"].values()) == 12


def test_semantics_mosaic_reproduces_mosaics_objective_and_says_which_semantics(capsys):
    """MOSAIC's TI allocator lets both 6 bits/s products use the 10 bits/s link: c2 runs."""
    assert schedule(str(DATA / "ti_capacity.json"), "--model", "ti", "--semantics", "mosaic", "--solver", "highs") == 0
    printed = capsys.readouterr().out
    assert "tasks: 4 of 4 scheduled" in printed and "(mosaic semantics)" in printed


def test_semantics_mosaic_rejects_a_window_without_info_time_naming_it(tmp_path, capsys):
    """MOSAIC's TV scheduler raises KeyError there; the default takes info_time 0."""
    data = raw("chain_window")
    for window in data["CommunicationNetwork"]:
        window.pop("info_time", None)
    path = tmp_path / "no_info_time.json"
    path.write_text(json.dumps(data))
    assert schedule(str(path), "--semantics", "mosaic") == 2
    assert "CommunicationNetwork[0].info_time: missing" in capsys.readouterr().err
    assert schedule(str(path), "--solver", "highs") == 0


def test_bench_mosaic_compat_counts_the_problems_that_give_mosaics_answer(tmp_path):
    """Two problems of MOSAIC's: a feasible unit test and an infeasible probe; both match under both
    semantics, and a wrong reference objective is counted as a miss."""
    from dro_ros.bench import mosaic_compat
    source = DATA / "mosaic"
    rows = [row for row in json.loads((source / "index.json").read_text())
            if row["problem"] in ("unit-tests/tv/test_two_way_communication.json", "probes/probe_last_step_infeasible.json")]
    for row in rows:
        (tmp_path / row["problem"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / row["problem"]).write_text((source / row["problem"]).read_text())
    (tmp_path / "index.json").write_text(json.dumps(rows))
    report = mosaic_compat.run(data=str(tmp_path))
    assert report["problems"] == 2 and report["matched"] == {"fixed": 2, "mosaic": 2}
    rows[0]["objective"] *= 1 + 1e-5
    (tmp_path / "index.json").write_text(json.dumps(rows))
    assert mosaic_compat.run(data=str(tmp_path))["matched"] == {"fixed": 1, "mosaic": 1}
