"""`run_node`: the `main()` of every dro_ros node process but the agent's (which hosts an asyncio loop and
drives a `ros.runtime.Spinner` itself).

1. An rclpy context for the process's arguments, without rclpy's signal handlers (they would shut the
   context down under the spinning executor, which aborts a process now and then): SIGINT and SIGTERM
   set `stop` and interrupt the main thread once, as KeyboardInterrupt.
2. The node is made by `factory(context=...)`; a `ParameterError` ends the process with code 2, naming
   the parameter.
3. The node spins in a daemon thread (`Spinner`; `threads` > 1 runs that many callbacks at once). If that
   thread dies of a callback's exception (its traceback printed), `stop` is set too and the exit code is 1.
4. The main thread runs `work(node, stop)`, whose return value is the exit code; by default it waits for
   `stop` (code 0). A signal during `work` gives the code `interrupted`.
5. `finish(node)` runs (the recorder closes its bag; messages after that are dropped). The executor stops
   between two callbacks; the node is destroyed and the context shut down (`Spinner.shutdown`), waited
   for at most `SHUTDOWN_SECONDS` (a DDS teardown blocked beyond is left behind). Then the process exits
   at once, without joining the executor's worker threads: a callback still running (a supervisor's
   mission) must not keep a stopped node alive. `signal.alarm(EXIT_ALARM_SECONDS)`, armed when stopping
   starts, ends the process (SIGALRM) should the teardown block while holding the GIL.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable

import rclpy
from rclpy.node import Node

from dro_ros.ros.conversions import ParameterError
from dro_ros.ros.runtime import EXIT_ALARM_SECONDS, SHUTDOWN_SECONDS, Spinner

STOP_CHECK_SECONDS = 0.1   # the default `work` wakes this often (a signal interrupts it at once)


def run_node(factory: Callable[..., Node], name: str, argv: list[str] | None = None, *, threads: int = 1,
             work: Callable[[Node, threading.Event], int] | None = None, interrupted: int = 0,
             finish: Callable[[Node], None] | None = None) -> None:
    """Run the node made by `factory` as this process (steps 1-5 of the module docstring); never returns."""
    stop, signalled = threading.Event(), threading.Event()

    def on_signal(_signum, _frame) -> None:
        if not signalled.is_set():   # later signals: the process is stopping already
            signalled.set()
            stop.set()
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    spinner = Spinner(argv, signals=False, threads=threads, ended=stop)
    code, node = 0, None
    try:
        try:
            node = spinner.add(factory(context=spinner.context))
        except ParameterError as error:
            rclpy.logging.get_logger(name).error(f"bad parameter {error}")
            code = 2
        else:
            spinner.start()
            code = (work or _wait)(node, stop)
            if not spinner.alive and not signalled.is_set():   # a callback raised
                code = code or 1
    except KeyboardInterrupt:
        code = interrupted
    signalled.set()   # from here on a signal changes nothing
    signal.alarm(EXIT_ALARM_SECONDS)
    if finish is not None and node is not None:
        finish(node)
    shutdown = spinner.shutdown_started()
    shutdown.join(SHUTDOWN_SECONDS)
    if shutdown.is_alive():
        rclpy.logging.get_logger(name).warning(
            f"ROS shutdown did not finish within {SHUTDOWN_SECONDS:g} s; exiting without it")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(_node: Node, stop: threading.Event) -> int:
    while not stop.wait(STOP_CHECK_SECONDS):
        pass
    return 0
