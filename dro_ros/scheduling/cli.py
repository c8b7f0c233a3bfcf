"""`dro-ros schedule PROBLEM.json`: solve a MOSAIC problem from the command line.

    dro-ros schedule PROBLEM.json [--model tv|ti] [--semantics fixed|mosaic] [--solver cbc|highs]
                                  [--time-limit S] [--gap G] [--threads N] [--out FILE] [--plot FILE]

`--semantics mosaic` builds MOSAIC's model exactly, its published defects included; the default
(`fixed`) is MOSAIC's model with those defects fixed (see `semantics.py`).

Prints the status, objective, gap, what was scheduled and the build and solve times. Exit code 0 when a
schedule was found (optimal, feasible, or cancelled with an incumbent), 1 when none was (infeasible,
no solution within the limit), 2 when the problem file is unreadable or malformed.
"""
from __future__ import annotations

import argparse
import sys

from dro_ros.scheduling.gantt import plot_gantt
from dro_ros.scheduling.output import write_output
from dro_ros.scheduling.problem import ProblemError, load_problem
from dro_ros.scheduling.semantics import SEMANTICS, Semantics
from dro_ros.scheduling.solve import MODELS, SOLVERS, ScheduleResult, SolveOptions, solve


def add_schedule_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `schedule` sub-command to `subparsers` and return its parser."""
    parser = subparsers.add_parser(
        "schedule", help="solve a MOSAIC scheduling problem (JSON)",
        description="Solve a MOSAIC scheduling problem with the time-varying scheduler (tv) or the "
                    "time-invariant allocator (ti).")
    parser.add_argument("problem", help="MOSAIC problem JSON file")
    parser.add_argument("--model", choices=MODELS, default="tv", help="tv scheduler or ti allocator (tv)")
    parser.add_argument("--semantics", choices=SEMANTICS, default=Semantics.FIXED.value,
                        help="fixed: MOSAIC's model with its published defects fixed; mosaic: MOSAIC's "
                             "model exactly, defects included (fixed)")
    parser.add_argument("--solver", choices=SOLVERS, default="cbc", help="MILP back end (cbc)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds (none)")
    parser.add_argument("--gap", type=float, default=0.0, metavar="G",
                        help="relative MIP gap at which to stop, e.g. 0.01 (0: prove optimality)")
    parser.add_argument("--threads", type=int, default=1, metavar="N", help="solver threads (1)")
    parser.add_argument("--out", metavar="FILE", help="write the MOSAIC output JSON here")
    parser.add_argument("--plot", metavar="FILE", help="write a Gantt chart PNG here (tv only)")
    return parser


def run_schedule(args: argparse.Namespace) -> int:
    """Run `dro-ros schedule` with parsed `args`; returns the exit code."""
    if args.plot and args.model != "tv":
        print("error: --plot needs --model tv (a ti allocation has no timeline)", file=sys.stderr)
        return 2
    options = SolveOptions(solver=args.solver, time_limit=args.time_limit, gap=args.gap,
                           threads=args.threads)
    try:
        problem = load_problem(args.problem)
        result = solve(problem, args.model, options, semantics=args.semantics)
    except (OSError, ProblemError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(_report(result, problem.tasks))
    if result.schedule is None:
        return 1
    if args.out:
        write_output(result.schedule, args.out, result.semantics, problem.step)
        print(f"schedule written to {args.out}")
    if args.plot:
        plot_gantt(result.schedule, problem.agents, problem.horizon, args.plot,
                   title=f"{args.problem} ({result.status.value})")
        print(f"Gantt chart written to {args.plot}")
    return 0


def _report(result: ScheduleResult, tasks: tuple[str, ...]) -> str:
    lines = [f"status: {result.status.value}" + (f" ({result.message})" if result.message else "")]
    if result.objective is not None:
        lines.append(f"objective: {result.objective:.6g}")
    if result.gap is not None:
        lines.append(f"gap: {100 * result.gap:.3g}%")
    if result.schedule is not None:
        done = result.schedule.tasks_done
        skipped = [t for t in tasks if t not in done]
        lines.append(f"tasks: {len(done)} of {len(tasks)} scheduled"
                     + (f" (not scheduled: {', '.join(skipped)})" if skipped else ""))
        lines.append(f"transfers: {len(result.schedule.transfers)}")
    lines.append(f"model: {result.model} ({result.semantics.value} semantics), {result.n_variables} variables, "
                 f"{result.n_constraints} constraints; solver: {result.solver}")
    lines.append(f"time: build {result.build_time:.2f} s, solve {result.solve_time:.2f} s")
    return "\n".join(lines)
