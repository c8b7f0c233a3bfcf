"""The MOSAIC output JSON: `{"tasks": [...]}` sorted by start time.

A computation gives one entry ``{"id": task, "name": task, "start_time", "duration",
"params": {"agent"}}``; a transfer gives two ``transfer_data`` entries, one for the transmitter and one
for the receiver (``params.agent``), each with ``transmitter``, ``receiver``, ``data_type`` (the task
whose product travels) and ``bandwidth`` (bits/s; with `Semantics.MOSAIC`, a time-varying transfer's
data in its start step, bits/s x step, as MOSAIC prints it). Times are seconds relative to the problem's
`info_time`. Time-invariant schedules have null times and one entry per (link, product, child) flow,
whose ``params.child`` names the task the flow feeds.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dro_ros.scheduling.schedule import Schedule
from dro_ros.scheduling.semantics import Semantics

TRANSFER = "transfer_data"


def to_mosaic_output(schedule: Schedule, semantics: Semantics = Semantics.FIXED,
                     step: float | None = None) -> dict[str, Any]:
    """The MOSAIC output object of `schedule`; `step` (s) is the time-varying problem's `TimeStep`."""
    entries: list[dict[str, Any]] = [
        {"id": c.task, "name": c.task, "start_time": c.start, "duration": c.duration,
         "params": {"agent": c.agent}}
        for c in schedule.computes]
    for t in schedule.transfers:
        per_step = semantics.prints_step_data and t.start is not None and step is not None
        params = {"transmitter": t.sender, "receiver": t.receiver, "data_type": t.product,
                  "bandwidth": t.bandwidth * step if per_step else t.bandwidth}
        if t.child is not None:
            params["child"] = t.child
        agents = (t.sender,) if t.start is None else (t.sender, t.receiver)
        entries += [{"id": TRANSFER, "name": TRANSFER, "start_time": t.start, "duration": t.duration,
                     "params": {**params, "agent": agent}} for agent in agents]
    untimed = float("inf")
    entries.sort(key=lambda e: untimed if e["start_time"] is None else e["start_time"])
    return {"tasks": entries}


def write_output(schedule: Schedule, path: str | Path, semantics: Semantics = Semantics.FIXED,
                 step: float | None = None) -> None:
    """Write the MOSAIC output JSON of `schedule` to `path` (arguments as `to_mosaic_output`)."""
    Path(path).write_text(json.dumps(to_mosaic_output(schedule, semantics, step), indent=2) + "\n")
