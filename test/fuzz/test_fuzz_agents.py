"""Hostile messages delivered to running agents: no agent crashes or stalls.

Each fleet (the shipped averaging, COHDA and ADMM configs, and a 3-robot trajectory scenario for CDS-PS,
CDS-BS and NC-ADMM) runs once in process while every message is recorded. Each example then runs the
fleet again, with one recorded message, changed as a foreign publisher could change it
(`test_fuzz_wire.mutated`, or a forged sender), delivered in wire form to its receiver's `_receive` at
the virtual time it was first sent. A message the carrier or the codec refuses is counted in the
receiver's `rejected`, with a reason naming the sender or the field, and the run ends as the clean run
did (a message the agent refuses, `MessageRejected`, is counted the same way). A message that passes every
check is one a fleet member could have sent (a replay, or valid
values under a member's name: only the fleet key of issue 19 item 4 tells those apart); it may change the
outcome, but the run still ends with a named status (an unfinished agent says whom it waits for, a failed
solve says why): never an unrelated exception (TypeError, KeyError, IndexError, ...) and never a hang.
"""
import asyncio
from functools import cache
from pathlib import Path

import pytest
from fuzzing import UNRELATED, fuzz_settings, no_hang
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_wire import mutated

from dro_ros.core.codec import encode
from dro_ros.core.report import RunStatus
from dro_ros.core.simple import ActorContainer, SimpleCarrier
from dro_ros.core.topology import Topology
from dro_ros.ros.launch_plan import agent_specs
from dro_ros.spec.fleet_config import parse_fleet_config, read_fleet_file

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = {"name": "three", "dim": 2, "horizon": 8, "duration": 4.0, "r_min": 0.3, "max_speed": 2.0,
            "max_input": 1.0, "initial": [[0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0]],
            "terminal": [{"kind": "fixed", "position": [2, 1], "velocity": [0, 0]},
                         {"kind": "fixed", "position": [1, 1], "velocity": [0, 0]},
                         {"kind": "fixed", "position": [0, 1], "velocity": [0, 0]}],
            "communication": {"edges": [[0, 1], [1, 2]]}, "sweep": {"path": [0, 1], "root": 1}}
FLEETS = {"averaging": "averaging_ring6", "cohda": "cohda_fleet", "admm": "admm_fleet",
          "path_sweep": {"algorithm": "path_sweep"}, "branch_sweep": {"algorithm": "branch_sweep"},
          "nc_admm": {"algorithm": "nc_admm", "params": {"max_iterations": 30, "stop": "feasible"}}}
UNRELATED_NAMES = tuple(error.__name__ for error in UNRELATED) + ("LinAlgError", "AxisError")


def _specs(fleet: str):
    source = FLEETS[fleet]
    if isinstance(source, str):
        config = read_fleet_file(ROOT / "config" / f"{source}.yaml")
        config["timeouts"] = {}
    else:
        config = {"kind": "trajectory", "scenario": SCENARIO, **source}
    return agent_specs(parse_fleet_config(config, fleet))


async def _run(fleet: str, inject=None, record=None):
    """The fleet in process; `inject(container, carriers)` schedules the hostile delivery, `record` lists
    every (time, sender, receiver, content) sent."""
    specs = _specs(fleet)
    names = [spec.address for spec in specs]
    edges = {tuple(sorted((names.index(s.address), names.index(n)))) for s in specs for n in s.neighbours}
    container = ActorContainer(Topology.from_edges(len(names), sorted(edges)), problem_id=specs[0].problem_id)
    carriers = [SimpleCarrier(container, spec.build_agent(), spec.address) for spec in specs]
    if record is not None:
        for carrier in carriers:
            post = carrier._post

            def recording(content, receiver, message_id, in_reply_to, carrier=carrier, post=post):
                record.append((container.now, carrier.address, receiver, content))
                return post(content, receiver, message_id, in_reply_to)
            carrier._post = recording
    if inject is not None:
        inject(container, {c.address: c for c in carriers})
    report = await container.run(wall_timeout=60.0)
    return report, {c.address: c for c in carriers}


@cache
def clean_run(fleet: str):
    """(status of the clean run, the first recorded message of each (sender, receiver, type))."""
    record: list = []
    report, _ = asyncio.run(_run(fleet, record=record))
    assert report.status in (RunStatus.COMPLETED, RunStatus.QUIESCENT), (fleet, report.status, report.failures)
    first = {}
    for at, sender, receiver, content in record:
        first.setdefault((sender, receiver, type(content).__name__), (at, sender, receiver, content))
    return report.status, list(first.values())


@st.composite
def hostile_deliveries(draw: st.DrawFn, fleet: str):
    """(time, wire message) for one recorded message of `fleet`, changed."""
    _, messages = clean_run(fleet)
    at, sender, receiver, content = draw(st.sampled_from(messages))
    names = sorted({m[1] for m in messages} | {m[2] for m in messages})
    wire = encode(content, sender=sender, receiver=receiver, problem_id=_specs(fleet)[0].problem_id, message_id=1)
    if draw(st.booleans()):
        wire = draw(mutated(wire))
    else:
        wire.sender = draw(st.sampled_from(names + ["intruder", ""]))
    return at, wire


@pytest.mark.parametrize("fleet", sorted(set(FLEETS) - {"nc_admm"}))
@fuzz_settings(0.2)
@given(data=st.data())
def test_a_running_fleet_survives_a_hostile_message(fleet, data):
    survives(fleet, data)


@fuzz_settings(0.1)
@given(data=st.data())
def test_a_running_nc_admm_fleet_survives_a_hostile_message(data):
    """As above; NC-ADMM runs ~25 iterations of local solves, so it gets half the examples."""
    survives("nc_admm", data)


def survives(fleet, data):
    """The module docstring's property for one hostile delivery drawn from `data`."""
    status, _ = clean_run(fleet)
    at, wire = data.draw(hostile_deliveries(fleet))

    refused = []

    def inject(container, carriers):
        target = carriers[wire.receiver]

        def deliver():
            before = target.stats.rejected
            target._receive(wire, wire.cdr_size())
            refused.extend(target.stats.reject_reasons[before:target.stats.rejected])
        container.schedule(target, at, deliver)

    with no_hang(60.0):
        report, carriers = asyncio.run(_run(fleet, inject=inject))
    for address, failure in report.failures.items():
        assert not failure.startswith(UNRELATED_NAMES), f"{address} crashed: {failure}"
    assert report.status is not RunStatus.WALL_TIMEOUT
    if refused:   # by the carrier or the codec, before it reached the agent: the run ends as the clean run did
        assert report.status is status and not report.failures, (refused, report.failures)
        assert wire.sender in refused[0] or "type" in refused[0], refused
