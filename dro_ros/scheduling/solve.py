"""Solve a MOSAIC problem with the TV scheduler or the TI allocator, through PuLP.

    result = solve(problem, model="tv", options=SolveOptions(solver="highs", time_limit=30, gap=0.01))
    if result.schedule is not None: ...

`semantics` (`semantics.Semantics`, or its value "fixed" / "mosaic") picks the model: MOSAIC's with
its published defects fixed (the default) or MOSAIC's exactly (`semantics="mosaic"`).

Back ends: CBC (the binary bundled with PuLP, as `PULP_CBC_CMD` runs it; the default) and HiGHS
(`pulp.HiGHS`, on highspy, given the model as arrays). Both take a time limit, a relative MIP gap, a
thread count and a MIP start (a previous `Schedule`; by default the greedy schedule of `heuristic.py`).

Cancellation from another thread: set the `threading.Event` given as `SolveOptions.cancel`. The greedy
start then stops its restarts and keeps the best schedule so far.
- CBC runs as a subprocess that we poll every 50 ms; on cancel it receives SIGINT, which makes CBC stop
  as on Ctrl-C and still write its best solution. CBC honours SIGINT only once branch and bound has
  started, so if it is still running 1 s later it is killed; what it found during its root phase is
  then lost, and the MIP start (below) is returned if it is feasible.
- HiGHS polls interrupt callbacks (MIP, simplex, IPM) that check the event; on cancel it stops and
  keeps its incumbent. It does not poll during presolve (about 3 s on the 9-agent benchmark model).

`SolveStatus`: OPTIMAL (proved optimal within the requested gap), FEASIBLE (a limit stopped the solver
with a solution; `gap` says how far from proved), INFEASIBLE, NO_SOLUTION (a limit stopped it before
any solution) and CANCELLED (the event was set; `schedule` holds the incumbent if there was one). A
feasible incumbent is always returned as `schedule`, whatever stopped the solver: the solver's, or
else the MIP start's when it is feasible.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from enum import Enum
from typing import Callable, Protocol

import highspy
import numpy as np
import pulp

from dro_ros.scheduling import time_invariant, time_varying
from dro_ros.scheduling.heuristic import greedy_schedule
from dro_ros.scheduling.problem import Problem
from dro_ros.scheduling.schedule import Schedule
from dro_ros.scheduling.semantics import Semantics, as_semantics

MODELS = ("tv", "ti")
SOLVERS = ("cbc", "highs")
POLL_SECONDS = 0.05
CBC_GRACE = 1.0


class SolveStatus(str, Enum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: back end, limits (seconds; relative gap), threads, MIP start, cancel event.

    Without `warm_start`, the TV model starts from the greedy schedule of `heuristic.py` (the best of
    the plain order and `greedy_restarts` perturbed ones) when `greedy_start` is true (the default) and
    the greedy places every required task. The greedy's time counts in the solve time and comes off
    the solver's time limit.
    """

    solver: str = "cbc"
    time_limit: float | None = None
    gap: float = 0.0
    threads: int = 1
    warm_start: Schedule | None = None
    greedy_start: bool = True
    greedy_restarts: int = 120
    cancel: threading.Event | None = None
    verbose: bool = False


@dataclass(frozen=True)
class ScheduleResult:
    """What a solve produced. `objective` is the minimised value; `gap` = (objective - bound) / |objective|."""

    status: SolveStatus
    schedule: Schedule | None
    objective: float | None
    gap: float | None
    build_time: float
    solve_time: float
    model: str
    solver: str
    semantics: Semantics
    n_variables: int
    n_constraints: int
    message: str = ""


class BuiltModel(Protocol):
    """What `time_varying.build` and `time_invariant.build` return."""

    lp: pulp.LpProblem
    infeasible_reason: str | None

    def schedule(self) -> Schedule: ...

    def start_values(self, schedule: Schedule) -> dict[pulp.LpVariable, float]: ...


@dataclass(frozen=True)
class _Outcome:
    """A back end's verdict. stop: optimal | infeasible | limit | interrupted."""

    stop: str
    has_solution: bool
    objective: float | None
    bound: float | None


def solve(problem: Problem, model: str = "tv", options: SolveOptions = SolveOptions(),
          semantics: Semantics | str = Semantics.FIXED) -> ScheduleResult:
    """Build the `model` ("tv" or "ti") of `problem` under `semantics` and solve it as `options` say.
    Raises `ProblemError` for a problem the model cannot take (e.g. an OR-dependency in "ti")."""
    semantics = as_semantics(semantics)
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if options.solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {options.solver!r}")
    started = time.perf_counter()
    built: BuiltModel = (time_varying if model == "tv" else time_invariant).build(problem, semantics)
    build_time = time.perf_counter() - started
    lp = built.lp

    def result(status: SolveStatus, outcome: _Outcome | None, solve_time: float, message: str) -> ScheduleResult:
        has_solution = outcome is not None and outcome.has_solution
        return ScheduleResult(
            status=status, schedule=built.schedule() if has_solution else None,
            objective=outcome.objective if has_solution else None,
            gap=_gap(outcome) if has_solution else None, build_time=build_time, solve_time=solve_time,
            model=model, solver=options.solver, semantics=semantics, n_variables=len(lp.variables()),
            n_constraints=lp.numConstraints(), message=message)

    if built.infeasible_reason is not None:
        return result(SolveStatus.INFEASIBLE, None, 0.0, built.infeasible_reason)
    if options.cancel is not None and options.cancel.is_set():
        return result(SolveStatus.CANCELLED, None, 0.0, "cancelled before the solve started")
    started = time.perf_counter()
    start_schedule = options.warm_start
    if start_schedule is None and options.greedy_start and isinstance(built, time_varying.TimeVaryingModel):
        start_schedule = greedy_schedule(built, options.greedy_restarts, cancel=options.cancel)
    start = built.start_values(start_schedule) if start_schedule is not None else None
    if options.time_limit is not None:
        options = replace(options, time_limit=max(0.01, options.time_limit - (time.perf_counter() - started)))
    outcome = (_solve_cbc if options.solver == "cbc" else _solve_highs)(lp, options, start)
    if not outcome.has_solution and outcome.stop != "infeasible" and start is not None:
        outcome = _fall_back_to_start(lp, start, outcome)
    solve_time = time.perf_counter() - started
    cancelled = (options.cancel is not None and options.cancel.is_set()
                 and outcome.stop not in ("optimal", "infeasible"))
    if cancelled:
        return result(SolveStatus.CANCELLED, outcome, solve_time, "cancelled")
    if outcome.stop == "optimal":
        return result(SolveStatus.OPTIMAL, outcome, solve_time, "")
    if outcome.stop == "infeasible":
        return result(SolveStatus.INFEASIBLE, outcome, solve_time, "the solver proved the model infeasible")
    if outcome.has_solution:
        return result(SolveStatus.FEASIBLE, outcome, solve_time, "stopped by a limit with a solution")
    return result(SolveStatus.NO_SOLUTION, outcome, solve_time, "stopped by a limit before finding a solution")


def _fall_back_to_start(lp: pulp.LpProblem, start: dict[pulp.LpVariable, float], outcome: _Outcome) -> _Outcome:
    """The MIP start as the incumbent, if it is feasible, when the solver stopped without one (e.g.
    CBC killed during its root phase); the bound is then unknown."""
    for var in lp.variables():
        var.varValue = start.get(var, 0.0)
    if not all(constraint.valid(1e-6) for constraint in lp.constraints()):
        return outcome
    return _Outcome(outcome.stop, True, pulp.value(lp.objective), None)


def _gap(outcome: _Outcome) -> float | None:
    if outcome.objective is None or outcome.bound is None:
        return None
    difference = max(0.0, outcome.objective - outcome.bound)
    return 0.0 if difference <= 1e-9 else difference / max(abs(outcome.objective), 1e-9)


# --- CBC --------------------------------------------------------------------------------------------

class _CancellableCBC(pulp.COIN_CMD):
    """PuLP's bundled CBC binary (the one `PULP_CBC_CMD` runs; `COIN_CMD` with its path avoids the
    PuLP 4 deprecation warning), run as a subprocess that a cancel event interrupts with SIGINT."""

    def __init__(self, options: SolveOptions, warm_start: bool) -> None:
        super().__init__(msg=options.verbose, timeLimit=options.time_limit, gapRel=options.gap,
                         threads=options.threads, warmStart=warm_start,
                         path=pulp.PULP_CBC_CMD.pulp_cbc_path)
        self.cancel = options.cancel
        self.log = ""

    def solve_CBC(self, lp: pulp.LpProblem, use_mps: bool = True) -> int:
        mps, sol, mst, log_path = self.create_tmp_files(lp.name, "mps", "sol", "mst", "log")
        variables, var_names, con_names, _ = lp.writeMPS(mps, rename=1)
        args = [self.path, mps]
        if self.optionsDict.get("warmStart"):
            self.writesol(mst, lp, variables, var_names, con_names)
            args += ["-mips", mst]
        if self.timeLimit is not None:
            args += ["-sec", str(self.timeLimit)]
        for option in self.getOptions():
            args += ("-" + option).split()
        args += ["-solve", "-printingOptions", "all", "-solution", sol]
        with open(log_path, "w") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self._wait(process)
        with open(log_path) as log:
            self.log = log.read()
        if self.msg:
            print(self.log)
        status = pulp.LpStatusNotSolved
        if os.path.exists(sol):
            status, values, _, _, _, sol_status = self.readsol_MPS(sol, lp, variables, var_names, con_names)
            lp.assignVarsVals(values)
            lp.assignStatus(status, sol_status)
        self.delete_tmp_files(mps, sol, mst, log_path)
        return status

    def _wait(self, process: subprocess.Popen) -> None:
        """Wait for CBC; on cancel send SIGINT, and kill it if it has not stopped `CBC_GRACE` later
        (CBC only honours SIGINT once branch and bound has started)."""
        interrupted_at = None
        while True:
            try:
                process.wait(timeout=POLL_SECONDS)
                return
            except subprocess.TimeoutExpired:
                if self.cancel is None or not self.cancel.is_set():
                    continue
                if interrupted_at is None:
                    process.send_signal(signal.SIGINT)
                    interrupted_at = time.perf_counter()
                elif time.perf_counter() - interrupted_at > CBC_GRACE:
                    process.kill()


def _solve_cbc(lp: pulp.LpProblem, options: SolveOptions,
               start: dict[pulp.LpVariable, float] | None) -> _Outcome:
    if start is not None:
        for var, value in start.items():
            var.setInitialValue(value, check=False)
    solver = _CancellableCBC(options, warm_start=start is not None)
    lp.solve(solver)
    result = re.search(r"^Result - (.*)$", solver.log, re.MULTILINE)
    verdict = result.group(1) if result else ""
    has_solution = lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = pulp.value(lp.objective) if has_solution else None  # the log rounds to 1e-8
    if "infeasible" in verdict.lower() or lp.status == pulp.LpStatusInfeasible:
        return _Outcome("infeasible", False, None, None)
    bound = _cbc_bound(solver.log, objective)
    if verdict.startswith("Optimal"):
        return _Outcome("optimal", True, objective, objective if bound is None else bound)
    stop = "interrupted" if "ctrl-c" in verdict.lower() else "limit"
    return _Outcome(stop, has_solution, objective, bound)


def _cbc_bound(log: str, objective: float | None) -> float | None:
    """CBC's best bound: objective minus the gap it exited on, the objective after a complete
    search, else the last bound it reported (None if none: after "Optimal", e.g. when the LP with the
    MIP start's cutoff is infeasible at the root, the bound is the objective)."""
    exit_gap = re.search(r"Exiting as integer gap of (\S+)", log)
    if exit_gap is not None and objective is not None:
        return objective - float(exit_gap.group(1))
    if "Search completed" in log:
        return objective
    reported = _log_number(log, "Lower bound")
    if reported is not None:
        return reported
    possible = re.findall(r"best possible (\S+)", log)
    try:
        return float(possible[-1]) if possible else None
    except ValueError:
        return None


def _log_number(log: str, label: str) -> float | None:
    match = re.search(rf"^{label}:\s*(\S+)", log, re.MULTILINE)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None


# --- HiGHS ------------------------------------------------------------------------------------------

class _BulkHiGHS(pulp.HiGHS):
    """`pulp.HiGHS` that passes the model to highspy as arrays (not one call per row and column),
    sets a MIP start and subscribes the cancel event to HiGHS's interrupt callbacks."""

    def __init__(self, options: SolveOptions, start: dict[pulp.LpVariable, float] | None) -> None:
        super().__init__(msg=options.verbose, gapRel=options.gap, threads=options.threads,
                         timeLimit=options.time_limit)
        self.cancel = options.cancel
        self.start = start
        self.outcome = _Outcome("limit", False, None, None)

    def actualSolve(self, lp: pulp.LpProblem) -> int:
        self.createAndConfigureSolver(lp)
        highs: highspy.Highs = lp.solverModel
        variables = lp.variables()
        self._pass_model(highs, lp, variables)
        if self.start is not None:
            values = np.array([self.start.get(v, 0.0) for v in variables], dtype=float)
            highs.setSolution(len(values), np.arange(len(values), dtype=np.int32), values)
        if self.cancel is not None:
            interrupt = _interrupt_when(self.cancel)
            for callback in (highs.cbMipInterrupt, highs.cbSimplexInterrupt, highs.cbIpmInterrupt):
                callback.subscribe(interrupt)
        highs.run()
        self.outcome = self._read(highs, variables)
        lp.assignStatus(pulp.LpStatusOptimal if self.outcome.has_solution else pulp.LpStatusNotSolved,
                        pulp.LpSolutionIntegerFeasible if self.outcome.has_solution
                        else pulp.LpSolutionNoSolutionFound)
        return lp.status

    @staticmethod
    def _pass_model(highs: highspy.Highs, lp: pulp.LpProblem, variables: list[pulp.LpVariable]) -> None:
        inf = highspy.kHighsInf
        for k, var in enumerate(variables):
            var.index = k
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        cost = np.array([lp.objective.get(v, 0.0) for v in variables], dtype=float)
        highs.addCols(len(variables), cost, lower, upper, 0, np.zeros(0, np.int32),
                      np.zeros(0, np.int32), np.zeros(0))
        integer = np.array([k for k, v in enumerate(variables) if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer):
            highs.changeColsIntegrality(len(integer), integer,
                                        np.full(len(integer), highspy.HighsVarType.kInteger.value, np.uint8))
        starts, index, value, row_lower, row_upper = [], [], [], [], []
        for constraint in lp.constraints():
            starts.append(len(index))
            for var, coefficient in constraint.items():
                index.append(var.index)
                value.append(coefficient)
            lb, ub = constraint.getLb(), constraint.getUb()
            row_lower.append(-inf if lb is None else lb)
            row_upper.append(inf if ub is None else ub)
        highs.addRows(len(starts), np.array(row_lower), np.array(row_upper), len(index),
                      np.array(starts, np.int32), np.array(index, np.int32), np.array(value))

    @staticmethod
    def _read(highs: highspy.Highs, variables: list[pulp.LpVariable]) -> _Outcome:
        status = highs.getModelStatus()
        info = highs.getInfo()
        has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
        if has_solution:
            for var, value in zip(variables, highs.getSolution().col_value):
                var.varValue = value
        objective = info.objective_function_value if has_solution else None
        bound = info.mip_dual_bound if has_solution and np.isfinite(info.mip_dual_bound) else None
        if status == highspy.HighsModelStatus.kOptimal:
            return _Outcome("optimal", has_solution, objective, objective if bound is None else bound)
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return _Outcome("infeasible", False, None, None)
        stop = "interrupted" if status in (highspy.HighsModelStatus.kInterrupt,
                                           highspy.HighsModelStatus.kHighsInterrupt) else "limit"
        return _Outcome(stop, has_solution, objective, bound)


def _interrupt_when(event: threading.Event) -> Callable[[highspy.HighsCallbackEvent], None]:
    def check(callback_event: highspy.HighsCallbackEvent) -> None:
        if event.is_set():
            callback_event.interrupt()
    return check


def _solve_highs(lp: pulp.LpProblem, options: SolveOptions,
                 start: dict[pulp.LpVariable, float] | None) -> _Outcome:
    solver = _BulkHiGHS(options, start)
    lp.solve(solver)
    return solver.outcome
