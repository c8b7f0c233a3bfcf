"""`dro-ros bench transport`: round-trip latency and throughput of both carriers.

A `PingAgent` sends `rounds` requests with `send_awaitable` to an `EchoAgent` (`core.echo`; latency: wall time per
round trip, p50/p95), then a burst of `burst` fire-and-forget messages closed by one request that the
echo answers once it counted them all (throughput: messages per second). In-process both agents share
one `ActorContainer`; over ROS the echo agent runs in a second OS process on loopback.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import numpy as np

from dro_ros.core.carrier import Carrier, MessageMeta
from dro_ros.core.echo import Burst, EchoAgent, Flush, Ping, Stop
from dro_ros.core.simple import run_in_process


class PingAgent:
    """Measures against its only neighbour, an `EchoAgent` (see the module docstring)."""

    def __init__(self, rounds: int, burst: int, payload_size: int, warmup: int = 20) -> None:
        self.rounds, self.burst, self.warmup = rounds, burst, warmup
        self.payload = np.zeros(payload_size)
        self.latencies: list[float] = []
        self.throughput = 0.0
        self.finished = False

    async def on_start(self, carrier: Carrier) -> None:
        peer = carrier.others()[0]
        for k in range(self.warmup + self.rounds):
            started = time.perf_counter()
            await carrier.send_awaitable(Ping(k, self.payload), peer, timeout=5.0)
            if k >= self.warmup:
                self.latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        for k in range(self.burst):
            carrier.send_to_other(Burst(k, self.payload), peer)
        counted = await carrier.send_awaitable(Flush(self.burst), peer, timeout=60.0)
        if counted.received != self.burst:
            raise RuntimeError(f"echo counted {counted.received} of {self.burst} burst messages")
        self.throughput = self.burst / (time.perf_counter() - started)
        carrier.send_to_other(Stop("done"), peer)
        self.finished = True

    def on_exchange_message(self, carrier: Carrier, content: Any, meta: MessageMeta) -> None:
        """Replies are routed to `send_awaitable`; nothing else is expected."""

    def summary(self) -> dict[str, Any]:
        micros = np.asarray(self.latencies) * 1e6
        return {"round_trip_us": {"p50": round(float(np.percentile(micros, 50)), 1),
                                  "p95": round(float(np.percentile(micros, 95)), 1),
                                  "samples": len(micros)},
                "messages_per_second": round(self.throughput)}


async def _in_process(rounds: int, burst: int, payload_size: int) -> dict[str, Any]:
    ping = PingAgent(rounds, burst, payload_size)
    report = await run_in_process([ping, EchoAgent()], addresses=["ping", "echo"])
    if not report.ok:
        raise RuntimeError(f"in-process transport bench ended {report.status.value}: {report.failures}")
    return ping.summary()


async def _ros(rounds: int, burst: int, payload_size: int) -> dict[str, Any]:
    from dro_ros.ros.processes import AgentProcesses
    from dro_ros.ros.runtime import Timeouts, run_ros_agents

    fleet = ["ping", "echo"]
    echo = {"address": "echo", "neighbours": ["ping"], "fleet": fleet, "problem_id": "bench",
            "algorithm": "echo", "timeouts": {"discovery": 30, "stall": 60, "wall": 300}}
    with AgentProcesses([echo], env=dict(os.environ)) as processes:
        ping = PingAgent(rounds, burst, payload_size)
        report = await run_ros_agents({"ping": ping}, {"ping": ["echo"]}, fleet, "bench",
                                      Timeouts(discovery=30, stall=60, wall=300))
        processes.wait(timeout=30)
    if not report.ok:
        raise RuntimeError(f"ROS transport bench ended {report.status.value}: {report.failures or report.unfinished}")
    return ping.summary()


def run(rounds: int = 2000, burst: int = 5000, payload_size: int = 16, ros: bool = True) -> dict[str, Any]:
    """Both carriers' figures; the ROS part uses this process's ROS_DOMAIN_ID for both processes."""
    result: dict[str, Any] = {"rounds": rounds, "burst": burst, "payload_floats": payload_size,
                              "cpus": os.cpu_count(),
                              "simple": asyncio.run(_in_process(rounds, burst, payload_size))}
    if ros:
        result["ros"] = asyncio.run(_ros(rounds, burst, payload_size))
        result["ros"]["rmw"] = os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    return result
