"""`dro-ros`: the command line (demo, benchmarks, scheduling)."""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from typing import Any

from dro_ros.scheduling.cli import add_schedule_parser, run_schedule

BENCHMARKS = {  # name -> "module:function" returning a JSON-able dict
    "admm-consensus": "dro_ros.bench.admm:run_consensus",
    "admm-random": "dro_ros.bench.admm:run_random",
    "admm-sharing": "dro_ros.bench.admm:run_sharing",
    "averaging": "dro_ros.bench.averaging:run",
    "cohda": "dro_ros.bench.cohda:run",
    "formation2d": "dro_ros.bench.formation:run",
    "mosaic": "dro_ros.bench.mosaic:run",
    "platoon": "dro_ros.bench.platoon:run",
    "resource-scale": "dro_ros.bench.resource_scale:run",
    "transport": "dro_ros.bench.transport:run",
}


def _demo(args: argparse.Namespace) -> int:
    from dro_ros import demo

    with_ros = not args.no_ros
    if with_ros and not demo.ros_available():
        print("dro-ros demo: ROS 2 is not available here (rclpy or the built dro_ros.msg is missing); "
              "run `make demo`, or `dro-ros demo --no-ros` for the in-process part only.", file=sys.stderr)
        return 2
    print("Averaging consensus, tolerance 1e-7 (every agent provably within it of the true average)")
    print(f"{'case':34} {'carrier':13} {'status':10} {'rounds':>6} {'messages':>9} {'max |x-avg|':>12} {'time s':>7}")
    rows = demo.run(with_ros)
    for row in rows:
        if row["status"] != "completed":
            print(f"{row['case']:34} {row['carrier']:13} FAILED: {row.get('details')}")
            continue
        print(f"{row['case']:34} {row['carrier']:13} {row['status']:10} {row['rounds']:>6} {row['messages']:>9} "
              f"{row['max_error']:>12.2e} {row['wall_time']:>7.2f}")
        if "identical_to_in_process" in row:
            print(f"{'':34} identical to the in-process run, bit for bit: {row['identical_to_in_process']}")
    ok = demo.succeeded(rows)
    print("demo:", "OK" if ok else "FAILED")
    return 0 if ok else 1


def option_value(text: str) -> Any:
    """A `--set` value: JSON (`500`, `true`, `["highs"]`, `"x.png"`), or else the text itself (`x.png`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _bench(args: argparse.Namespace) -> int:
    module_name, function = BENCHMARKS[args.name].split(":")
    benchmark = getattr(importlib.import_module(module_name), function)
    accepted = inspect.signature(benchmark).parameters
    any_name = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())   # it checks its own
    options: dict[str, Any] = {}
    for item in args.set or []:
        key, _, value = item.partition("=")
        if key not in accepted and not any_name:
            print(f"dro-ros bench {args.name}: no option {key!r}; options: {', '.join(accepted)}", file=sys.stderr)
            return 2
        options[key] = option_value(value) if value else True
    if args.sizes:
        options["sizes"] = [int(n) for n in args.sizes.split(",")]
    try:
        result = benchmark(**options)
    except ValueError as error:   # a bad option value, named by the benchmark
        print(f"dro-ros bench {args.name}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


def _fleet(args: argparse.Namespace) -> int:
    from dro_ros.ros.fleet_up import fleet_up
    from dro_ros.ros.launch_plan import load_config, node_list
    from dro_ros.ros.specs import SpecError

    try:
        config = load_config(args.config)
        for item in args.set or []:
            key, _, value = item.partition("=")
            *sections, name = key.split(".")
            target = config
            for section in sections:
                target = target.setdefault(section, {})
            target[name] = option_value(value)
        nodes = node_list(config)
    except (SpecError, OSError) as error:
        print(f"dro-ros fleet up: {error}", file=sys.stderr)
        return 2
    print(f"dro-ros fleet up: {len(nodes)} nodes from {args.config}", flush=True)
    return fleet_up(nodes, isolated=args.isolated, timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dro-ros", description="Distributed optimization for robot fleets.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="averaging consensus in-process and over ROS 2 (6 processes)")
    demo.add_argument("--no-ros", action="store_true", help="only the in-process part")
    demo.set_defaults(handler=_demo)
    bench = commands.add_parser("bench", help="benchmarks printing JSON")
    bench.add_argument("name", choices=sorted(BENCHMARKS))
    bench.add_argument("--json", action="store_true", help="one-line JSON")
    bench.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="benchmark option, a JSON value or plain text, e.g. --set rounds=500 --set figure=run.png")
    bench.add_argument("--N", dest="sizes", metavar="N1,N2,...", help="fleet sizes (platoon), e.g. --N 4,8,12")
    bench.set_defaults(handler=_bench)
    fleet = commands.add_parser("fleet", help="run a fleet config's nodes as local processes")
    fleet_commands = fleet.add_subparsers(dest="fleet_command", required=True)
    up = fleet_commands.add_parser("up", help="start every node of CONFIG; stop them all at the end or on Ctrl-C")
    up.add_argument("config", help="fleet config, e.g. config/formation2d.yaml")
    up.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                    help="override a config value, a JSON value or plain text, e.g. --set supervisor.output=run.png")
    up.add_argument("--isolated", action="store_true", help="private ROS_DOMAIN_ID, localhost discovery only")
    up.add_argument("--timeout", type=float, help="stop the fleet after this many seconds (exit code 124)")
    up.set_defaults(handler=_fleet)
    add_schedule_parser(commands).set_defaults(handler=run_schedule)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.handler(args))


if __name__ == "__main__":
    main()
