"""The MOSAIC output JSON and the Gantt chart."""
import json

import pytest

from scheduling_helpers import DATA, problem, run
from dro_ros.scheduling.problem import parse_problem
from dro_ros.scheduling.gantt import plot_gantt
from dro_ros.scheduling.output import to_mosaic_output, write_output


def test_a_transfer_gives_a_transmitter_and_a_receiver_entry():
    out = to_mosaic_output(run("chain_window", solver="highs").schedule)
    transfers = [e for e in out["tasks"] if e["name"] == "transfer_data"]
    assert [e["params"]["agent"] for e in transfers] == ["rover", "base"]
    for entry in transfers:
        assert entry["params"] | {"agent": None} == {"transmitter": "rover", "receiver": "base",
                                                     "data_type": "image", "bandwidth": 4.0, "agent": None}
        assert (entry["start_time"], entry["duration"]) == (3.0, 1.0)


def test_entries_are_sorted_by_start_time_and_computations_name_their_agent():
    out = to_mosaic_output(run("relay5", solver="highs").schedule)
    starts = [e["start_time"] for e in out["tasks"]]
    assert starts == sorted(starts)
    first, last = out["tasks"][0], out["tasks"][-1]
    assert (first["id"], first["params"], first["duration"]) == ("src", {"agent": "n1"}, 1.0)
    assert (last["id"], last["start_time"], last["params"]) == ("dst", 5.0, {"agent": "n5"})


def test_output_times_are_relative_to_info_time():
    out = to_mosaic_output(run("late_window", solver="highs").schedule)
    assert max(e["start_time"] for e in out["tasks"]) == 8.0


def test_skipped_tasks_are_absent():
    out = to_mosaic_output(run("optional_reward", solver="highs").schedule)
    assert [e["id"] for e in out["tasks"]] == ["big"]


def test_time_invariant_output_has_null_times_and_one_entry_per_flow():
    out = to_mosaic_output(run("ti_multihop", "ti", solver="highs").schedule)
    flows = [e for e in out["tasks"] if e["name"] == "transfer_data"]
    assert len(flows) == 2 and all(e["start_time"] is None and e["duration"] is None for e in out["tasks"])
    assert {e["params"]["child"] for e in flows} == {"c"}


def test_the_output_file_is_json(tmp_path):
    import json

    path = tmp_path / "out.json"
    write_output(run("two_way", solver="highs").schedule, path)
    assert len(json.loads(path.read_text())["tasks"]) == 4 + 2 * 2


def test_the_gantt_chart_is_a_png(tmp_path):
    p = problem("two_way")
    path = tmp_path / "gantt.png"
    plot_gantt(run("two_way", solver="highs").schedule, p.agents, p.horizon, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_time_invariant_schedule_has_no_gantt_chart(tmp_path):
    p = problem("ti_multihop")
    with pytest.raises(ValueError, match="timeline"):
        plot_gantt(run("ti_multihop", "ti", solver="highs").schedule, p.agents, p.horizon, tmp_path / "x.png")


@pytest.mark.parametrize("semantics, bandwidth", [("mosaic", 1.0), ("fixed", 2.0)])
def test_a_time_varying_transfer_prints_mosaics_data_per_step_or_the_rate(semantics, bandwidth):
    """MOSAIC's unit test: a 2 bits/s link with steps of 0.5 s; MOSAIC's own output prints 1.0."""
    data = json.loads((DATA / "mosaic/unit-tests/tv/test_communication.json").read_text())
    mosaic_output = json.loads((DATA / "mosaic/unit-tests/tv/test_communication.mosaic-output.json").read_text())
    result = run(data, semantics=semantics, solver="highs")
    out = to_mosaic_output(result.schedule, result.semantics, parse_problem(data).step)
    printed = {e["params"]["bandwidth"] for e in out["tasks"] if e["name"] == "transfer_data"}
    mosaic_printed = {e["params"]["bandwidth"] for e in mosaic_output["tasks"]
                      if e["name"] == "transfer_data"}
    assert printed == {bandwidth} and mosaic_printed == {1.0}
