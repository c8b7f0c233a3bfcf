"""`dro-ros`: the command line (demo, benchmarks, scheduling)."""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from dro_ros.scheduling.cli import add_schedule_parser, run_schedule

BENCHMARKS = {  # name -> "module:function" returning a JSON-able dict
    "admm-consensus": "dro_ros.bench.admm:run_consensus",
    "admm-random": "dro_ros.bench.admm:run_random",
    "admm-sharing": "dro_ros.bench.admm:run_sharing",
    "averaging": "dro_ros.bench.averaging:run",
    "chaos": "dro_ros.bench.chaos:run",
    "cohda": "dro_ros.bench.cohda:run",
    "formation2d": "dro_ros.bench.formation:run",
    "mosaic": "dro_ros.bench.mosaic:run",
    "mujoco-sim": "dro_ros.bench.mujoco_sim:run",
    "mosaic-compat": "dro_ros.bench.mosaic_compat:run",
    "mpc": "dro_ros.bench.mpc:run",
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
    for key in ("runs", "seed", "config"):   # the chaos suite's flags, as --set would give them
        if getattr(args, key) is not None:
            if key not in accepted:
                print(f"dro-ros bench {args.name}: no option --{key}", file=sys.stderr)
                return 2
            options[key] = getattr(args, key)
    try:
        result = benchmark(**options)
    except ValueError as error:   # a bad option value, named by the benchmark
        print(f"dro-ros bench {args.name}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


def _fleet(args: argparse.Namespace) -> int:
    from dro_ros.ros.fleet_up import fleet_up
    from dro_ros.ros.launch_plan import node_list
    from dro_ros.spec import SpecError
    from dro_ros.spec.fleet_config import parse_fleet_config, read_fleet_file, set_value

    try:
        config = read_fleet_file(args.config)
        for item in args.set or []:
            key, _, value = item.partition("=")
            set_value(config, key, option_value(value))
        if args.record:
            config["record"] = args.record
        goals = _goal_file(args.goals) if args.goals else []
        nodes = node_list(parse_fleet_config(config, args.config), serve=args.serve or bool(goals))
    except (SpecError, OSError, ValueError) as error:
        print(f"dro-ros fleet up: {error}", file=sys.stderr)
        return 2
    mode = f", {len(goals)} goals from {args.goals}" if goals else (", serving missions" if args.serve else "")
    print(f"dro-ros fleet up: {len(nodes)} nodes from {args.config}{mode}", flush=True)
    return fleet_up(nodes, isolated=args.isolated or args.domain is not None, domain=args.domain,
                    timeout=args.timeout, goals=goals)


def _goal_file(path: str) -> list[dict[str, Any]]:
    """A YAML list of goals, each a mapping of `action/Mission.action` goal fields."""
    import yaml

    from dro_ros.mission.goal import goal_fields

    goals = yaml.safe_load(Path(path).read_text())
    if not isinstance(goals, list) or not goals:
        raise ValueError(f"{path}: expected a non-empty YAML list of goals (mappings of goal fields)")
    return [goal_fields(goal, f"{path}: goals[{k}]") for k, goal in enumerate(goals)]


def _fleet_goal(args: argparse.Namespace) -> int:
    """Send one goal to a running fleet; exit 0 succeeded, 1 failed or canceled, 2 malformed or refused."""
    from dro_ros.ros.processes import isolated_ros_env

    fields: dict[str, Any] = {"radius": args.radius, "duration": args.duration, "algorithm": args.algorithm}
    if args.centre:
        fields["centre"] = args.centre
    if args.velocity:
        fields["velocity"] = args.velocity
    try:
        if args.positions:
            import yaml

            fields["positions"] = yaml.safe_load(Path(args.positions).read_text())
        from dro_ros.mission import GoalError, MissionGoal

        # what can be checked without the fleet (its size and dimension come from the goal itself)
        rows = fields.get("positions") or []
        flat = [v for row in rows for v in (row if isinstance(row, list) else [row])]
        dim = len(args.centre) if args.centre else len(rows[0]) if rows and isinstance(rows[0], list) else 1
        MissionGoal.from_fields(n_robots=max(1, len(rows)), dim=dim, **{**fields, "positions": flat})
    except (GoalError, OSError, ValueError, TypeError, IndexError) as error:
        print(f"dro-ros fleet goal: {error}", file=sys.stderr)
        return 2
    if args.domain is not None:
        os.environ.update(isolated_ros_env(args.domain))
    import rclpy

    from dro_ros.mission.machine import MissionStatus
    from dro_ros.ros.mission_client import goal_message, send_goal

    def show(feedback) -> None:
        print(f"[{feedback.phase}] t = {feedback.elapsed:.1f} s, progress {feedback.progress:.0%}, "
              f"distance to goal {feedback.distance_to_goal:.3f} m, min separation {feedback.min_separation:.3f} m",
              flush=True)

    with rclpy.init():
        outcome = send_goal(goal_message(fields), on_feedback=show, server_timeout=args.server_timeout,
                            timeout=args.timeout)
    print(json.dumps(outcome.as_dict(), default=str), flush=True)
    return {MissionStatus.SUCCEEDED: 0, MissionStatus.REJECTED: 2}.get(outcome.status, 1)


def _fleet_report(args: argparse.Namespace) -> int:
    """Summary and figure of the run recorded in a bag; exit 0 when it held every tolerance, 1 when not."""
    from dro_ros.fleet.plots import execution_figure
    from dro_ros.fleet.recorded_run import read_run
    from dro_ros.fleet.recording import RecordingError
    from dro_ros.fleet.summary import summarize

    try:
        run = read_run(args.bag)
    except RecordingError as error:
        print(f"dro-ros fleet report: {error}", file=sys.stderr)
        return 2
    summary = summarize(run.problem, run.plans, run.tracks, run.min_distance)
    figure = execution_figure(run.problem, run.plans, run.tracks, summary,
                              args.output or Path(args.bag).with_suffix(".png"))
    lines = [f"bag {args.bag}: {sum(run.counts.values())} messages on {len(run.counts)} topics over "
             f"{run.duration:.1f} s" + (" (not closed: read up to where it was cut)" if run.recovered else ""),
             f"run {run.run_id} of {len(run.robots)} robots: {'SUCCEEDED' if summary.ok else 'FAILED'}"]
    centres = {} if run.min_centre_distance is None else {"min_centre_separation": run.min_centre_distance}
    lines += [f"  {key:26} {value:.6g}" for key, value in {**summary.as_dict(), **centres}.items()
              if isinstance(value, float)]
    lines += [f"  problem: {p}" for p in summary.problems] + [f"figure: {figure}"]
    print("\n".join(lines))
    print(json.dumps({"bag": str(args.bag), "run_id": run.run_id, **summary.as_dict(), **centres,
                      "topics": run.counts}))
    return 0 if summary.ok else 1


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
    bench.add_argument("--runs", type=int, help="runs (chaos)")
    bench.add_argument("--seed", type=int, help="seed of the drawn faults (chaos)")
    bench.add_argument("--config", help="fleet config (chaos), e.g. config/mpc_formation_small.yaml")
    bench.set_defaults(handler=_bench)
    fleet = commands.add_parser("fleet", help="run a fleet config's nodes as local processes")
    fleet_commands = fleet.add_subparsers(dest="fleet_command", required=True)
    up = fleet_commands.add_parser("up", help="start every node of CONFIG; stop them all at the end or on Ctrl-C")
    up.add_argument("config", help="fleet config, e.g. config/formation2d.yaml")
    up.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                    help="override a config value, a JSON value or plain text, e.g. --set supervisor.output=run.png")
    up.add_argument("--isolated", action="store_true", help="private ROS_DOMAIN_ID, localhost discovery only")
    up.add_argument("--timeout", type=float, help="stop the fleet after this many seconds (exit code 124)")
    up.add_argument("--record", metavar="FILE.mcap", help="record every fleet topic to a new rosbag2 MCAP file")
    up.add_argument("--serve", action="store_true",
                    help="robots at rest at the config's initial positions; serve missions on /fleet/mission until Ctrl-C")
    up.add_argument("--goals", metavar="FILE", help="serve, send the YAML list of goals in FILE in order, then stop")
    up.add_argument("--domain", type=int, metavar="N", help="ROS_DOMAIN_ID N with localhost-only discovery")
    up.set_defaults(handler=_fleet)
    goal = fleet_commands.add_parser("goal", help="send a mission goal to a running fleet (same ROS_DOMAIN_ID)")
    goal.add_argument("--centre", type=float, nargs="+", metavar="X", help="terminal disc/ball centre: X Y [Z]")
    goal.add_argument("--radius", type=float, default=0.0, help="radius around the centre or each position (m)")
    goal.add_argument("--velocity", type=float, nargs="+", metavar="V", help="terminal velocity (default: at rest)")
    goal.add_argument("--positions", metavar="FILE", help="YAML/JSON list of goal positions, one row per robot")
    goal.add_argument("--duration", type=float, default=0.0, help="plan length T in seconds (default: the config's)")
    goal.add_argument("--algorithm", default="", help="path_sweep | branch_sweep | nc_admm (default: the config's)")
    goal.add_argument("--domain", type=int, metavar="N", help="ROS_DOMAIN_ID N with localhost-only discovery")
    goal.add_argument("--server-timeout", type=float, default=60.0, help="seconds to wait for the fleet's server")
    goal.add_argument("--timeout", type=float, help="cancel the mission after this many seconds")
    goal.set_defaults(handler=_fleet_goal)
    report = fleet_commands.add_parser("report", help="summary and trajectory figure of a recorded run")
    report.add_argument("bag", help="a bag written by fleet up --record, e.g. run.mcap")
    report.add_argument("--output", help="the figure (PNG); default: the bag's name with .png")
    report.set_defaults(handler=_fleet_report)
    add_schedule_parser(commands).set_defaults(handler=run_schedule)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(args.handler(args))


def _interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM stops a command as Ctrl-C does: `fleet up` and the chaos suite stop their node processes
    (SIGINT, then SIGKILL after the grace) instead of leaving them running."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
