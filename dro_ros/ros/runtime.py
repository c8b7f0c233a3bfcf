"""Host agents as rclpy nodes in this process and run them to completion, with a timeout on every wait.

`run_ros_agents` is the ROS counterpart of `dro_ros.core.simple.run_in_process`:

1. one node per agent, in namespace `/<address>`, all spun by one executor in a background thread;
2. handshake (see `carrier.py`): greet the neighbours until each confirms it hears us
   (`discovery` timeout, else `NO_CONTACT` naming the silent neighbours);
3. call each agent's `on_start`, then wait until every local agent is `finished`. An unfinished agent
   that hears nothing for `stall_timeout` seconds ends the run as `STALLED` (the report names the
   neighbours it waits for); `wall_timeout` bounds the whole run;
4. keep spinning until every message this process sent is acknowledged by its reader (reliable DDS
   may still be retransmitting the last ones; a reader that left no longer counts), at most `linger`
   seconds (a lifecycle `agent_node`, whose endpoints outlive the run: until every message is written),
   then shut the nodes down, within `shutdown` seconds: tearing down reliable writers whose readers already
   left can block inside Fast DDS (seen about once in ten loaded runs), and a finished run must not
   hang on it. A shutdown that overruns is logged and left behind; the process then exits anyway.

There is no central observer: each process decides it is done from its own agents.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Mapping

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

from dro_ros.core.auth import Membership
from dro_ros.core.carrier import Agent, Limits
from dro_ros.core.report import RunReport, RunStatus, collect
from dro_ros.core.simple import NetworkModel
from dro_ros.ros.carrier import RosCarrier

log = logging.getLogger("dro_ros.runtime")
SHUTDOWN_SECONDS = 3.0
"""At most this long to stop a node process's ROS side on SIGINT or SIGTERM; a DDS teardown still blocked
then is left behind (the process exits anyway)."""
EXIT_ALARM_SECONDS = 4
"""A stopping node process arms `signal.alarm` for this long: if its teardown blocks inside Fast DDS while
holding the GIL, no Python thread can time it out, and SIGALRM's default action ends the process."""
POLL_SECONDS = 0.01
GREETING_SECONDS = 0.05
SPIN_SECONDS = 0.1   # the executor thread checks for a shutdown at least this often
_node_names = itertools.count()


@dataclass(frozen=True)
class Timeouts:
    """Seconds; each bounds one wait on the network (see the module docstring)."""

    discovery: float = 30.0
    stall: float = 30.0
    wall: float = 600.0
    linger: float = 5.0   # at most; ends as soon as every sent message is acknowledged
    shutdown: float = 3.0


class Spinner:
    """An rclpy context and executor spinning in a daemon thread."""

    def __init__(self, args: list[str] | None = None, *, signals: bool = True, threads: int = 1,
                 ended: threading.Event | None = None) -> None:
        """`args`: --ros-args remappings and parameter files. `signals=False`: rclpy installs no SIGINT or
        SIGTERM handler (they would shut the context down under the spinning executor); the owner
        handles them and calls `shutdown`. `threads` > 1: a MultiThreadedExecutor runs that many callbacks
        at once (the supervisor: a mission's execute callback blocks while odometry keeps arriving).
        `ended` is set when the spinning thread ends, for whatever reason."""
        self.context = Context()
        rclpy.init(args=args, context=self.context,
                   signal_handler_options=None if signals else SignalHandlerOptions.NO)
        self.executor = (MultiThreadedExecutor(num_threads=threads, context=self.context) if threads > 1
                         else SingleThreadedExecutor(context=self.context))
        self.nodes: list = []
        self._stopping = threading.Event()
        self.ended = ended if ended is not None else threading.Event()
        self._thread = threading.Thread(target=self._spin, name="rclpy-executor", daemon=True)

    def add_node(self, name: str, namespace: str):
        return self.add(rclpy.create_node(name, namespace=namespace, context=self.context))

    def add(self, node):
        """Spin `node` (created with `self.context`) too; returns it."""
        self.nodes.append(node)
        self.executor.add_node(node)
        return node

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        """The spinning thread runs (it dies of a callback's exception, printing its traceback)."""
        return self._thread.is_alive()

    def _spin(self) -> None:
        try:
            while not self._stopping.is_set() and self.context.ok():
                self.executor.spin_once(timeout_sec=SPIN_SECONDS)
        except ExternalShutdownException:
            pass
        finally:
            self.ended.set()

    def shutdown(self) -> None:
        """Stop the spinning thread between two callbacks, then free the executor, the nodes and the
        context, in that order, from this thread. Shutting the context down under a spinning executor
        instead tears its wait set down while the executor waits on it, which aborts the process now and
        then (rcl raises in a destructor)."""
        self._stopping.set()
        if self._thread.is_alive():
            self.executor.wake()
            self._thread.join(timeout=5.0)
        if self._thread.is_alive():
            log.error("rclpy executor thread did not stop within 5 s")
            return  # destroying nodes under a spinning executor can deadlock; the process is ending
        self.executor.shutdown(timeout_sec=1.0)
        for node in self.nodes:
            node.destroy_node()
        if self.context.ok():
            rclpy.shutdown(context=self.context)

    def shutdown_started(self) -> threading.Thread:
        """`shutdown` running in a daemon thread, for an owner that waits a bounded time: destroying
        reliable writers whose readers already left can block inside Fast DDS (the whole fleet stops at
        once), and a process that is stopping must not hang on it."""
        thread = threading.Thread(target=self.shutdown, name="rclpy-shutdown", daemon=True)
        thread.start()
        return thread


async def run_ros_agents(agents: Mapping[str, Agent], neighbours: Mapping[str, list[str]], fleet: list[str],
                         problem_id: str, timeouts: Timeouts = Timeouts(), membership: Membership | None = None,
                         limits: Limits = Limits(), network: NetworkModel | None = None) -> RunReport:
    """Run the local `agents` (address -> agent) of a fleet over DDS; see the module docstring. The fleet's
    name defaults to `problem_id`, its key to the environment's (`dro_ros.core.auth.load_key`)."""
    loop = asyncio.get_running_loop()
    membership = membership or Membership.load(problem_id)
    host = Spinner()
    try:
        carriers = []
        for address, agent in agents.items():
            node = host.add_node(f"dro_agent_{next(_node_names)}", f"/{address}")
            carriers.append(RosCarrier(node, agent, address, list(neighbours.get(address, [])), fleet,
                                       problem_id, loop, membership=membership, limits=limits, network=network))
        host.start()
        return await run_carriers(carriers, timeouts)
    finally:
        await shut_down(host, timeouts.shutdown)


async def shut_down(host: "Spinner", timeout: float) -> None:
    """`host.shutdown()` in a daemon thread (`Spinner.shutdown_started`), awaited for at most `timeout`
    seconds. Not the loop's default executor: `asyncio.run` joins that executor's threads on exit, so a
    shutdown blocked in Fast DDS would hang the process after all."""
    thread = host.shutdown_started()
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        if time.monotonic() > deadline:
            log.warning("ROS shutdown did not finish within %g s; leaving it behind", timeout)
            return
        await asyncio.sleep(0.01)


async def run_carriers(carriers: list[RosCarrier], timeouts: Timeouts, *, acknowledged: bool = True) -> RunReport:
    """Steps 2-4 of the module docstring for carriers whose nodes are already spinning. `acknowledged=False`
    ends step 4 once every message is handed to DDS, without waiting for the readers' acknowledgements:
    for carriers whose `Links` outlive the run (a lifecycle `agent_node`), whose writers keep repairing
    what was written; waiting costs up to a heartbeat period (`processes.FAST_DDS_PROFILE`) per run."""
    started = time.monotonic()
    missing = await _discover(carriers, timeouts.discovery)
    contact_time = time.monotonic() - started
    if missing:
        report = collect(carriers, RunStatus.NO_CONTACT, contact_time)
        report.unfinished = missing
        return report
    for carrier in carriers:
        carrier.begin()
    status = await _until_finished(carriers, timeouts, started)
    report = collect(carriers, status, time.monotonic() - started)
    report.contact_time = contact_time
    await _until_delivered(carriers, timeouts.linger, acknowledged)
    return report


async def _until_delivered(carriers: list[RosCarrier], timeout: float, acknowledged: bool = True) -> None:
    """Step 4: an agent that leaves right after its last send (a path root that solved everything) would
    otherwise take messages still in flight with it."""
    deadline = time.monotonic() + timeout
    while not all(c.delivered() if acknowledged else c.handed_over() for c in carriers):
        if time.monotonic() > deadline:
            log.warning("messages still unacknowledged after %g s: %s", timeout, ", ".join(
                c.address for c in carriers if not c.delivered()))
            return
        await asyncio.sleep(POLL_SECONDS)


async def _discover(carriers: list[RosCarrier], timeout: float) -> dict[str, list[str]]:
    """Step 2: greet every `GREETING_SECONDS`, look for the answers every `POLL_SECONDS` (a window's run
    starts a DDS round trip after its neighbours', not a greeting period)."""
    deadline = time.monotonic() + timeout
    greeted = float("-inf")
    while True:
        missing = {c.address: c.unconfirmed_neighbours() for c in carriers}
        missing = {address: who for address, who in missing.items() if who}
        now = time.monotonic()
        if not missing or now > deadline:
            for address, who in missing.items():
                log.error("%s: no contact with %s within %g s", address, ", ".join(who), timeout)
            return missing
        if now - greeted >= GREETING_SECONDS:
            for carrier in carriers:
                carrier.greet()
            greeted = now
        await asyncio.sleep(POLL_SECONDS)


async def _until_finished(carriers: list[RosCarrier], timeouts: Timeouts, started: float) -> RunStatus | None:
    now = time.monotonic()
    for carrier in carriers:
        carrier.last_heard = now
    while True:
        running = [c for c in carriers if not getattr(c.agent, "finished", False) and c.error is None]
        if not running:
            return None  # collect() tells COMPLETED from FAILED
        now = time.monotonic()
        if now - started > timeouts.wall:
            return RunStatus.WALL_TIMEOUT
        if any(now - c.last_heard > timeouts.stall for c in running):
            return RunStatus.STALLED
        await asyncio.sleep(POLL_SECONDS)
