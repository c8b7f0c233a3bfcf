"""`dro-ros demo`: averaging consensus, the same agents on both carriers.

1. In-process (`SimpleCarrier`): 50 agents on a small world (phi = 2, seed 7) and on a ring.
2. Over ROS 2: 6 agents on a ring, each its own OS process talking over Fast DDS on loopback, compared
   with the in-process run of the same topology and values (they must agree to the last bit).
"""
from __future__ import annotations

import asyncio
import importlib.util
import time
from typing import Any

import numpy as np

from dro_ros.core.simple import run_in_process
from dro_ros.core.topology import Topology, ring, small_world
from dro_ros.resource.averaging import AveragingAgent

TOLERANCE = 1e-7


def _agents(values: np.ndarray, topology: Topology) -> list[AveragingAgent]:
    return [AveragingAgent(v, tol=TOLERANCE, diameter_bound=topology.diameter()) for v in values]


def in_process(name: str, topology: Topology, values: np.ndarray) -> dict[str, Any]:
    report = asyncio.run(run_in_process(_agents(values, topology), topology=topology))
    final = np.array([r.value[0] for r in report.results.values()])
    return {"case": name, "carrier": "SimpleCarrier", "status": report.status.value,
            "rounds": next(iter(report.results.values())).rounds, "messages": report.messages,
            "bytes": report.bytes, "max_error": float(np.max(np.abs(final - values.mean()))),
            "wall_time": report.wall_time}


def over_ros(topology: Topology, values: np.ndarray, timeout: float = 120.0) -> dict[str, Any]:
    from dro_ros.ros.launch_plan import fleet_specs
    from dro_ros.ros.processes import AgentProcesses

    names = [f"robot_{i}" for i in range(topology.n)]
    params = [{"initial": float(v), "tol": TOLERANCE, "diameter_bound": topology.diameter()} for v in values]
    specs = fleet_specs(topology, names, "averaging", params, "demo", {"discovery": 30, "stall": 15, "wall": timeout})
    started = time.perf_counter()
    with AgentProcesses(specs) as fleet:
        outcomes = fleet.wait(timeout)
    reference = asyncio.run(run_in_process(_agents(values, topology), topology=topology, addresses=names))
    failed = [o.address for o in outcomes if o.report is None or o.report["status"] != "completed"]
    if failed:
        details = {o.address: (o.report or {}).get("status") or o.stderr[-300:] for o in outcomes}
        return {"case": f"ring({topology.n}), {topology.n} processes", "carrier": "RosCarrier",
                "status": "failed", "failed": failed, "details": details}
    final = np.array([o.report["result"]["value"][0] for o in outcomes])
    expected = np.array([reference.results[name].value[0] for name in names])
    return {"case": f"ring({topology.n}), {topology.n} processes", "carrier": "RosCarrier", "status": "completed",
            "rounds": outcomes[0].report["result"]["rounds"],
            "messages": sum(o.report["traffic"]["sent"] for o in outcomes),
            "bytes": sum(o.report["traffic"]["bytes_sent"] for o in outcomes),
            "max_error": float(np.max(np.abs(final - values.mean()))),
            "identical_to_in_process": bool(np.array_equal(final, expected)),
            "wall_time": time.perf_counter() - started}


def ros_available() -> bool:
    return importlib.util.find_spec("rclpy") is not None and importlib.util.find_spec("dro_ros.msg") is not None


def run(with_ros: bool = True) -> list[dict[str, Any]]:
    rng = np.random.default_rng(2026)
    values = rng.uniform(0.0, 10.0, 50)
    rows = [in_process("small world n=50 phi=2", small_world(50, 2.0, seed=7), values),
            in_process("ring n=50", ring(50), values)]
    if with_ros:
        rows.append(over_ros(ring(6), values[:6]))
    return rows


def succeeded(rows: list[dict[str, Any]]) -> bool:
    return all(r["status"] == "completed" and r["max_error"] <= 1e-6 and r.get("identical_to_in_process", True)
               for r in rows)
