"""The trajectory benchmarks: `platoon` on a small fleet (every algorithm's row, all checked feasible, the
figure), `formation2d`'s median over repeats, and the row every benchmark builds from a `FleetResult`."""
import pytest

from dro_ros.bench import formation, platoon
from dro_ros.bench.repeats import median_run
from dro_ros.trajectory.centralized import solve_centralized
from dro_ros.trajectory.outcome import fleet_row
from dro_ros.trajectory.scenarios import platoon as platoon_scenario


def test_the_platoon_benchmark_reports_every_algorithm_feasible_and_draws_the_figure(tmp_path):
    result = platoon.run(sizes=(4,), horizon=400, repeats=2, figure=str(tmp_path / "platoon.png"))
    assert result["stated_data"][0]["infeasible"]                      # the stated data are refused, with a reason
    rows = {row["algorithm"]: row for row in result["rows"]}
    assert set(rows) == {"centralized", "NC-ADMM", "CDS-BS", "CDS-BS, prediction"}
    assert result["targets_met"]["all_checked_feasible"]
    assert rows["NC-ADMM"]["status"] == "solved" and rows["NC-ADMM"]["exact_solves"] > 0
    assert all(row["relative_objective"] >= 1 - 1e-6 for row in rows.values())   # feasible: none beats f_c
    assert abs(rows["CDS-BS, prediction"]["relative_objective"] - 1) <= 1e-3
    assert len(rows["centralized"]["time_samples_s"]) == 2 and len(rows["NC-ADMM"]["time_samples_s"]) == 1
    assert (tmp_path / "platoon.png").stat().st_size > 10_000


def test_a_timed_row_is_the_median_run_and_repeats_are_checked():
    runs = ["fast", "slow", "median"]
    assert median_run(runs, [1.0, 3.0, 2.0]) == "median"
    assert median_run(runs[:2], [1.0, 3.0]) == "fast"
    for benchmark in (formation, platoon):
        with pytest.raises(ValueError, match="repeats"):
            benchmark.run(repeats=0)


def test_a_benchmark_row_gives_each_time_once_with_its_unit():
    result = solve_centralized(platoon_scenario(3, horizon=20, duration=10.0, limits=False).problem)
    row = fleet_row("centralized", result)
    assert row["algorithm"] == "centralized" and row["status"] == "solved" and row["messages"] == 0
    assert row["wall_s"] == row["critical_path_s"] == result.wall_time
    assert not {"wall_time", "critical_path"} & set(row)
