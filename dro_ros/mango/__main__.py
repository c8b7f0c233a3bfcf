"""`python -m dro_ros.mango RUN.json INDEX`: host the agents placed at endpoint INDEX of a run file.

A run file: {"problem_id": str, "endpoints": [[host, port], ...], "agents": [agent spec + "endpoint": k]}
with agent specs as in `dro_ros.spec.AgentSpec` (address, neighbours, fleet, algorithm, params).
Prints one JSON object: address -> {"result": the agent's result, "error": text or null}. Exit code 1
with the error on stderr if the container cannot bind, a peer is unreachable, the run times out or a
local agent's handler raised.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import sys
from typing import Any

import numpy as np

from dro_ros.mango.carrier import Endpoint
from dro_ros.mango.host import HostedAgent, host_agents, results
from dro_ros.spec import AgentSpec


def jsonable(value: Any) -> Any:
    """Result objects (dataclasses, arrays, enums) as JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_run(path: str, index: int) -> tuple[Endpoint, dict[str, Endpoint], list[HostedAgent], dict[str, Any]]:
    with open(path) as handle:
        run = json.load(handle)
    endpoints = [Endpoint(str(host), int(port)) for host, port in run["endpoints"]]
    if not 0 <= index < len(endpoints):
        raise ValueError(f"INDEX: {index} is not one of the run's {len(endpoints)} endpoints")
    directory = {spec["address"]: endpoints[int(spec["endpoint"])] for spec in run["agents"]}
    hosted = []
    for raw in run["agents"]:
        if int(raw["endpoint"]) != index:
            continue
        spec = AgentSpec.from_dict({k: v for k, v in raw.items() if k != "endpoint"})
        hosted.append(HostedAgent(spec.address, spec.build_agent(), spec.neighbours))
    return endpoints[index], directory, hosted, run


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    endpoint, directory, hosted, run = load_run(argv[0], int(argv[1]))
    try:
        carriers = asyncio.run(host_agents(endpoint, hosted, directory, problem_id=run.get("problem_id", "run"),
                                           connect_timeout=float(run.get("connect_timeout", 30.0)),
                                           run_timeout=float(run.get("run_timeout", 120.0))))
    except (OSError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    outcome = results(carriers)
    print(json.dumps(jsonable(outcome)))
    failed = {address: item["error"] for address, item in outcome.items() if item["error"]}
    for address, error in failed.items():
        print(f"error: {address}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
