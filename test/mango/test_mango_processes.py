"""The same dro_ros agents (ADMM, COHDA, averaging) across three OS processes over mango TCP containers
on loopback give the in-process result; a container that cannot bind or reach a peer says which address."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mango")

from dro_ros.core.simple import ActorContainer, SimpleCarrier  # noqa: E402
from dro_ros.core.topology import Topology  # noqa: E402
from dro_ros.mango.carrier import Endpoint  # noqa: E402
from dro_ros.mango.host import HostedAgent, host_agents, wait_for_peers  # noqa: E402
from dro_ros.resource.cohda.evaluation import brute_force  # noqa: E402
from dro_ros.spec import AgentSpec  # noqa: E402

PROCESSES = 3


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def spec(address: str, neighbours: list[str], fleet: list[str], algorithm: str, endpoint: int, **params) -> dict:
    return {"address": address, "neighbours": neighbours, "fleet": fleet, "algorithm": algorithm,
            "params": params, "endpoint": endpoint}


def admm_agents() -> list[dict]:
    names = ["coordinator", "actor_1", "actor_2", "actor_3"]
    efficiencies = [([0.1, 0.5, -1.0], 10.0), ([0.1, 0.5, -1.0], 15.0), ([-1.0, 0.0, 1.0], 10.0)]
    agents = [spec("coordinator", names[1:], names, "admm_coordinator", 0, kind="target_distance",
                   target=[-4.0, 0.0, 6.0], weights=[5.0, 1.0, 1.0], adaptive_rho=False)]
    agents += [spec(f"actor_{k}", ["coordinator"], names, "flex", k % PROCESSES, capacity=capacity,
                    efficiency=efficiency) for k, (efficiency, capacity) in enumerate(efficiencies, start=1)]
    return agents


# participant k can put 0..3 units into interval k: the optimum (distance 0) is unique
COHDA_SETS = [[[float(v) if t == k else 0.0 for t in range(4)] for v in range(4)] for k in range(4)]
COHDA_TARGET = [1.0, 2.0, 3.0, 0.0]


def cohda_agents() -> list[dict]:
    names = [f"p{k}" for k in range(1, 5)]
    agents = []
    for k, schedules in enumerate(COHDA_SETS):
        params = {"participant_id": k + 1, "schedules": schedules}
        if k == 0:
            params["target"] = COHDA_TARGET
        agents.append(spec(names[k], [n for n in names if n != names[k]], names, "cohda", k % PROCESSES, **params))
    return agents


def averaging_agents() -> list[dict]:
    names = [f"a{k}" for k in range(6)]
    initial = [3.0, -1.0, 7.5, 0.25, 10.0, 4.0]
    return [spec(names[k], sorted([names[(k - 1) % 6], names[(k + 1) % 6]]), names, "averaging", k % PROCESSES,
                 initial=[initial[k]], tol=1e-9, diameter_bound=3) for k in range(6)]


def run_processes(agents: list[dict], tmp_path: Path) -> dict:
    ports = free_ports(PROCESSES)
    run = {"problem_id": "mango_test", "endpoints": [["127.0.0.1", p] for p in ports], "agents": agents,
           "connect_timeout": 30, "run_timeout": 60}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [subprocess.Popen([sys.executable, "-m", "dro_ros.mango", str(path), str(k)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for k in range(PROCESSES)]
    merged = {}
    try:
        for process in processes:
            out, err = process.communicate(timeout=90)
            assert process.returncode == 0, err
            merged.update(json.loads(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return merged


def run_in_process(agents: list[dict]) -> dict:
    """The same specs on the in-process carrier, with the same neighbours."""
    specs = [AgentSpec.from_dict({k: v for k, v in raw.items() if k != "endpoint"}) for raw in agents]
    index = {s.address: k for k, s in enumerate(specs)}
    edges = {tuple(sorted((index[s.address], index[n]))) for s in specs for n in s.neighbours}

    async def go() -> dict:
        container = ActorContainer(Topology.from_edges(len(specs), sorted(edges)), problem_id="mango_test")
        built = [(s.address, s.build_agent()) for s in specs]
        for address, agent in built:
            SimpleCarrier(container, agent, address)
        await container.run(wall_timeout=60)
        return {address: agent.result() for address, agent in built}

    return asyncio.run(go())


def test_admm_over_three_processes_gives_the_in_process_result(tmp_path):
    agents = admm_agents()
    remote, local = run_processes(agents, tmp_path), run_in_process(agents)
    coordinator = remote["coordinator"]["result"]
    assert coordinator["status"] == "converged" and local["coordinator"].status.value == "converged"
    for address in ("actor_1", "actor_2", "actor_3"):
        assert np.array_equal(remote[address]["result"], local[address]), address
    # the weighted target distance 5|x0 + 4| + |x1| + |x2 - 6| has its unique optimum at actor 3 giving 4
    assert np.allclose(remote["actor_3"]["result"], [-4.0, 0.0, 4.0], atol=1e-4)


def test_cohda_over_three_processes_reaches_the_in_process_optimum(tmp_path):
    agents = cohda_agents()
    remote, local = run_processes(agents, tmp_path), run_in_process(agents)
    optimum, _ = brute_force([np.array(s) for s in COHDA_SETS], np.array(COHDA_TARGET))
    for address, outcome in remote.items():
        assert outcome["error"] is None
        assert outcome["result"]["status"] == "terminated", address
        assert outcome["result"]["objective"] == pytest.approx(optimum)
    assert all(r.objective == pytest.approx(optimum) for r in local.values())


def test_averaging_over_three_processes_gives_the_in_process_values(tmp_path):
    agents = averaging_agents()
    remote, local = run_processes(agents, tmp_path), run_in_process(agents)
    mean = np.mean([a["params"]["initial"][0] for a in agents])
    for address, outcome in remote.items():
        assert outcome["result"]["status"] == "converged"
        assert np.array_equal(outcome["result"]["value"], local[address].value), address
        assert outcome["result"]["value"][0] == pytest.approx(mean, abs=1e-8)


def test_a_busy_address_is_named():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    endpoint = Endpoint("127.0.0.1", port)
    from dro_ros.resource.averaging import AveragingAgent
    try:
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            asyncio.run(host_agents(endpoint, [HostedAgent("a0", AveragingAgent([1.0]), [])], {"a0": endpoint}))
    finally:
        blocker.close()


def test_an_unreachable_peer_is_named_within_the_timeout():
    (port,) = free_ports(1)
    directory = {"a0": Endpoint("127.0.0.1", 1), "a1": Endpoint("127.0.0.1", port)}
    with pytest.raises(ConnectionError, match=f"a1 at 127.0.0.1:{port}"):
        asyncio.run(wait_for_peers(directory, directory["a0"], timeout=0.5))
