"""`dro-ros bench platoon` on a small fleet: every algorithm's row, all checked feasible, and the figure."""
from dro_ros.bench import platoon


def test_the_platoon_benchmark_reports_every_algorithm_feasible_and_draws_the_figure(tmp_path):
    result = platoon.run(sizes=(4,), horizon=400, figure=str(tmp_path / "platoon.png"))
    assert result["stated_data"][0]["infeasible"]                      # the stated data are refused, with a reason
    rows = {row["algorithm"]: row for row in result["rows"]}
    assert set(rows) == {"centralized", "NC-ADMM", "CDS-BS", "CDS-BS, prediction"}
    assert result["targets_met"]["all_checked_feasible"]
    assert rows["NC-ADMM"]["status"] == "solved"
    assert all(row["relative_objective"] >= 1 - 1e-6 for row in rows.values())   # feasible: none beats f_c
    assert abs(rows["CDS-BS, prediction"]["relative_objective"] - 1) <= 1e-3
    assert (tmp_path / "platoon.png").stat().st_size > 10_000
