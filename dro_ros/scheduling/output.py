"""The MOSAIC output JSON: `{"tasks": [...]}` sorted by start time.

A computation gives one entry ``{"id": task, "name": task, "start_time", "duration",
"params": {"agent"}}``; a transfer gives two ``transfer_data`` entries, one for the transmitter and one
for the receiver (``params.agent``), each with ``transmitter``, ``receiver``, ``data_type`` (the task
whose product travels) and ``bandwidth`` (bits/s). Times are seconds relative to the problem's
`info_time`. Time-invariant schedules have null times and one entry per (link, product, child) flow,
whose ``params.child`` names the task the flow feeds.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dro_ros.scheduling.schedule import Schedule

TRANSFER = "transfer_data"


def to_mosaic_output(schedule: Schedule) -> dict[str, Any]:
    """The MOSAIC output object of `schedule`."""
    entries: list[dict[str, Any]] = [
        {"id": c.task, "name": c.task, "start_time": c.start, "duration": c.duration,
         "params": {"agent": c.agent}}
        for c in schedule.computes]
    for t in schedule.transfers:
        params = {"transmitter": t.sender, "receiver": t.receiver, "data_type": t.product,
                  "bandwidth": t.bandwidth}
        if t.child is not None:
            params["child"] = t.child
        agents = (t.sender,) if t.start is None else (t.sender, t.receiver)
        entries += [{"id": TRANSFER, "name": TRANSFER, "start_time": t.start, "duration": t.duration,
                     "params": {**params, "agent": agent}} for agent in agents]
    untimed = float("inf")
    entries.sort(key=lambda e: untimed if e["start_time"] is None else e["start_time"])
    return {"tasks": entries}


def write_output(schedule: Schedule, path: str | Path) -> None:
    """Write the MOSAIC output JSON of `schedule` to `path`."""
    Path(path).write_text(json.dumps(to_mosaic_output(schedule), indent=2) + "\n")
