"""One-shot agent process: `python -m dro_ros.ros.nodes.agent_once --spec SPEC` hosts one agent over DDS,
runs it to the end and prints its report as JSON (tests, benchmarks and `dro-ros demo`; a fleet runs the
lifecycle `agent_node` instead).

SPEC is a JSON object or a path to a JSON/YAML file (see `dro_ros.spec.AgentSpec`). The last
line on stdout is `{"address": ..., "status": ..., "result": ..., ...}`; the exit code is 0 only when
the run completed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

import yaml

from dro_ros.core.auth import FleetKeyError, Membership
from dro_ros.core.carrier import Limits
from dro_ros.core.report import to_jsonable
from dro_ros.ros.runtime import Timeouts, run_ros_agents
from dro_ros.spec import AgentSpec, SpecError


def load_spec(text: str) -> AgentSpec:
    path = Path(text)
    data = yaml.safe_load(path.read_text()) if not text.lstrip().startswith("{") and path.exists() \
        else json.loads(text)
    return AgentSpec.from_dict(data)


async def run(spec: AgentSpec, membership: Membership) -> dict:
    report = await run_ros_agents({spec.address: spec.build_agent()}, {spec.address: spec.neighbours},
                                  spec.fleet, spec.problem_id, Timeouts(**spec.timeouts), membership,
                                  Limits(**spec.limits), spec.network_model)
    return {"address": spec.address, "status": report.status.value,
            "result": to_jsonable(report.results.get(spec.address)),
            "unfinished": report.unfinished, "failures": report.failures,
            "traffic": to_jsonable(report.traffic[spec.address]) if spec.address in report.traffic else None,
            "wall_time": report.wall_time}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="agent_once", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="JSON object or path to a JSON/YAML spec file")
    args, _ros_args = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s", stream=sys.stderr)
    try:
        spec = load_spec(args.spec)
        spec.build_agent()  # validate params before joining the network
    except (SpecError, json.JSONDecodeError, yaml.YAMLError) as error:
        print(f"agent_once: invalid spec: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        membership = Membership.load(spec.problem_id)   # the fleet is named after the run; key from the environment
    except FleetKeyError as error:
        print(f"agent_once: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        outcome = asyncio.run(run(spec, membership))
    except KeyboardInterrupt:
        sys.exit(130)
    print(json.dumps(outcome), flush=True)
    sys.stderr.flush()
    # The report is out; leave without interpreter finalization, which can hang on rclpy's threads.
    os._exit(0 if outcome["status"] == "completed" else 1)


if __name__ == "__main__":
    main()
