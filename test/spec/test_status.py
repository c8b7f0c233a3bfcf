"""The typed agent status round-trips through DiagnosticStatus key-values, and bad values name their key."""
import pytest
from hypothesis import given, strategies as st

from dro_ros.spec.status import AgentState, AgentStatus

seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False)
counts = st.integers(min_value=0, max_value=10**9)
text = st.text(min_size=1, max_size=20)
address = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=8)
statuses = st.builds(
    AgentStatus, state=st.sampled_from(AgentState), run_id=st.none() | text, status=st.none() | text,
    planning_time=st.none() | seconds, messages=st.none() | counts, bytes=st.none() | counts,
    rejected=st.none() | st.dictionaries(st.sampled_from(["forged", "replayed", "malformed"]), counts, min_size=1),
    shed=st.none() | st.dictionaries(st.sampled_from(["inbox", "backlog"]), counts, min_size=1),
    waiting_for=st.lists(address, max_size=3).map(tuple), error=st.none() | text,
    critical_path=st.none() | seconds, compute=st.none() | seconds, solves=st.none() | counts,
    cost=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    result=st.none() | json_value.filter(lambda v: v is not None))


@given(statuses)
def test_status_round_trips_through_flat_string_values(status):
    values = status.to_values()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    assert AgentStatus.from_values(values) == status


def test_a_finished_run_reads_as_the_agent_node_publishes_it():
    values = {"state": "failed", "run_id": "formation2d/0", "status": "no_contact", "planning_time": "2.5",
              "messages": "0", "bytes": "0", "waiting_for": "robot_1,robot_2", "error": ""}
    status = AgentStatus.from_values(values)
    assert status.state is AgentState.FAILED and status.state.final
    assert status.waiting_for == ("robot_1", "robot_2") and status.planning_time == 2.5


@pytest.mark.parametrize("values, message", [
    ({"state": "sleeping"}, r"state: expected one of \['unconfigured'"),
    ({"state": "done", "rejected": '{"forged": -1}'}, "rejected: expected a JSON object of non-negative counts"),
    ({"run_id": "x/0"}, "state: missing"),
    ({"state": "done", "messages": "-3"}, "messages: expected a non-negative integer, got '-3'"),
    ({"state": "done", "critical_path": "fast"}, "critical_path: could not convert"),
    ({"state": "done", "mood": "good"}, "mood: not a key of an agent status"),
])
def test_a_malformed_status_names_the_key(values, message):
    with pytest.raises(ValueError, match=message):
        AgentStatus.from_values(values)
