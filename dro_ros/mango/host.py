"""One OS process of a mango run: a TCP container hosting some of the run's dro_ros agents.

`host_agents` binds the container, waits until every other container of the directory accepts TCP
connections, calls each local agent's `on_start`, and returns once every local agent is `finished`
(and its handlers have run), or raises `TimeoutError` naming the agents still running. Binding a busy
or foreign address raises `OSError` naming it; a peer that does not come up in time raises
`ConnectionError` naming it and its address.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import mango

from dro_ros.core.carrier import Agent
from dro_ros.mango.carrier import Directory, Endpoint, HostAgent, MangoCarrier


@dataclass(frozen=True)
class HostedAgent:
    """A local agent, its address and its neighbours (addresses of the directory)."""

    address: str
    agent: Agent
    neighbours: list[str]


async def wait_for_peers(directory: Directory, own: Endpoint, timeout: float) -> None:
    """Return when every other endpoint accepts a TCP connection; `ConnectionError` after `timeout` s."""
    deadline = time.monotonic() + timeout
    pending = {endpoint: sorted(a for a, e in directory.items() if e == endpoint)
               for endpoint in set(directory.values()) if endpoint != own}
    while pending:
        for endpoint in list(pending):
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(endpoint.host, endpoint.port), 1.0)
            except (OSError, asyncio.TimeoutError):
                continue
            writer.close()
            await writer.wait_closed()
            del pending[endpoint]
        if pending and time.monotonic() > deadline:
            where = "; ".join(f"{', '.join(names)} at {endpoint}" for endpoint, names in pending.items())
            raise ConnectionError(f"cannot reach peer container(s) within {timeout:g} s: {where}")
        if pending:
            await asyncio.sleep(0.05)


async def host_agents(endpoint: Endpoint, hosted: list[HostedAgent], directory: Directory, *,
                      problem_id: str = "run", connect_timeout: float = 30.0,
                      run_timeout: float = 120.0, linger: float = 0.5) -> dict[str, MangoCarrier]:
    """Run `hosted` in a container at `endpoint` until each is finished; returns their carriers.

    `linger`: seconds the container stays up after the local agents finished, so that late messages
    to them (e.g. a peer's last update) still find a listener.
    """
    for item in hosted:
        if directory.get(item.address) != endpoint:
            raise ValueError(f"{item.address}: the directory places it at {directory.get(item.address)}, "
                             f"not at this container {endpoint}")
    container = mango.create_tcp_container((endpoint.host, endpoint.port))
    carriers: dict[str, MangoCarrier] = {}
    for item in hosted:
        host = container.register(HostAgent(), suggested_aid=item.address)
        carriers[item.address] = MangoCarrier(item.agent, item.address, problem_id, host, directory, item.neighbours)
    try:
        await container.start()
    except OSError as error:
        raise OSError(f"cannot bind the mango container to {endpoint}: {error.strerror or error}") from None
    try:
        await wait_for_peers(directory, endpoint, connect_timeout)
        for carrier in carriers.values():
            carrier.start()
        await _until_finished(carriers, run_timeout)
        await asyncio.sleep(linger)
    finally:
        await container.shutdown()
    return carriers


async def _until_finished(carriers: dict[str, MangoCarrier], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        running = [a for a, c in carriers.items() if not getattr(c.agent, "finished", True) and c.error is None]
        if not running and all(c.idle.is_set() for c in carriers.values()):
            return
        if time.monotonic() > deadline:
            waiting = {a: getattr(carriers[a].agent, "waiting_for", lambda: [])() for a in running}
            raise TimeoutError(f"agents still running after {timeout:g} s: "
                               + "; ".join(f"{a} (waiting for {', '.join(w) or 'nothing'})"
                                           for a, w in waiting.items()))
        await asyncio.sleep(0.02)


def results(carriers: dict[str, MangoCarrier]) -> dict[str, Any]:
    """Each local agent's `result()` (or None), and its error text if a handler raised."""
    return {address: {"result": carrier.agent.result() if hasattr(carrier.agent, "result") else None,
                      "error": carrier.error}
            for address, carrier in carriers.items()}
