"""`dro-ros bench mosaic-compat --json`: MOSAIC's own answers on MOSAIC's own files, reproduced.

For every problem of a MOSAIC reference folder (`index.json` rows: problem file, model, MOSAIC's status
and objective, printed as `reference`; by default the repository's copy in test/scheduling/data/mosaic)
and for both semantics ("mosaic" and the default "fixed"): our status and objective, and whether they
match MOSAIC's (same status; objective within `relative` of MOSAIC's). `default-differs.json` in the folder
names the problems where a fixed MOSAIC defect is expected to change the default's answer.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dro_ros.scheduling.problem import ProblemError, load_problem
from dro_ros.scheduling.semantics import SEMANTICS
from dro_ros.scheduling.solve import ScheduleResult, SolveOptions, SolveStatus, solve

REPO_DATA = Path(__file__).resolve().parents[2] / "test" / "scheduling" / "data" / "mosaic"
FEASIBLE = {"Optimal", "opt"}


def matches(row: dict[str, Any], result: ScheduleResult, relative: float) -> bool:
    """Same status as MOSAIC (optimal, or infeasible where MOSAIC found no schedule) and, when
    feasible, an objective within `relative` of MOSAIC's."""
    if row["objective"] is None:
        return result.status is SolveStatus.INFEASIBLE
    return (row["mosaic_status"] in FEASIBLE and result.status is SolveStatus.OPTIMAL
            and abs(result.objective - row["objective"]) <= relative * abs(row["objective"]))


def run(data: str | None = None, solver: str = "highs", relative: float = 1e-6) -> dict[str, Any]:
    """Benchmark; `data`: the reference folder, `solver`: cbc or highs, `relative`: objective tolerance."""
    root = Path(data) if data else REPO_DATA
    if not (root / "index.json").is_file():
        raise ValueError(f"data: no index.json in {root}")
    differs_file = root / "default-differs.json"
    differs = json.loads(differs_file.read_text())["problems"] if differs_file.is_file() else {}
    rows, started = [], time.perf_counter()
    for entry in json.loads((root / "index.json").read_text()):
        row: dict[str, Any] = {"problem": entry["problem"], "model": entry["model"],
                               "reference": {"status": entry["mosaic_status"], "objective": entry["objective"]}}
        for semantics in SEMANTICS:
            try:
                result = solve(load_problem(root / entry["problem"]), entry["model"],
                               SolveOptions(solver=solver, gap=0.0), semantics=semantics)
            except ProblemError as error:
                row[semantics] = {"status": "invalid", "message": str(error), "matches": False}
                continue
            row[semantics] = {"status": result.status.value, "objective": result.objective,
                              "matches": matches(entry, result, relative),
                              "seconds": round(result.build_time + result.solve_time, 3)}
        row["fixed"]["defect"] = differs.get(entry["problem"])
        rows.append(row)
    summary = {semantics: sum(row[semantics]["matches"] for row in rows) for semantics in SEMANTICS}
    expected_default = [row for row in rows if row["fixed"]["defect"] is None]
    return {"benchmark": "mosaic-compat", "data": str(root), "solver": solver, "relative": relative,
            "problems": len(rows), "matched": summary,
            "default_matched_where_no_fixed_defect": f"{sum(r['fixed']['matches'] for r in expected_default)}"
                                                     f" of {len(expected_default)}",
            "seconds": round(time.perf_counter() - started, 1), "rows": rows}
