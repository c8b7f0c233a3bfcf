"""SimpleCarrier: copies, verbs, virtual time, seeded delay/drop, counters, and bad input."""
import asyncio
import time
from dataclasses import dataclass

import numpy as np
import pytest

from dro_ros.core.carrier import Limits, MessageRejected, ReplyTimeout, UnknownReceiverError
from dro_ros.core.codec import FloatArray, encode, wire_message
from dro_ros.core.report import RunStatus
from dro_ros.core.simple import ActorContainer, NetworkModel, SimpleCarrier, cid, run_in_process
from dro_ros.core.topology import ring
from dro_ros.core.wire import WireMessage


@wire_message("carrier_test")
@dataclass
class Note:
    iteration: int
    data: FloatArray


class Recorder:
    """Keeps what it receives; on_start optionally sends a note to each neighbour."""

    def __init__(self, send: bool = False) -> None:
        self.send, self.received, self.times = send, [], []

    def on_start(self, carrier):
        if self.send:
            for other in carrier.others():
                carrier.send_to_other(Note(0, np.arange(3.0)), other)

    def on_exchange_message(self, carrier, content, meta):
        self.received.append((meta.sender, content))
        self.times.append(carrier.container.now)


def run(coroutine):
    return asyncio.run(coroutine)


def test_receiver_gets_a_copy_not_the_senders_object():
    async def scenario():
        container = ActorContainer()
        sender, receiver = SimpleCarrier(container, Recorder()), SimpleCarrier(container, Recorder())
        data = np.zeros(3)
        sender.send_to_other(Note(1, data), cid(receiver))
        data[:] = 7.0  # mutated after sending, as a live object would be
        await container.done_event.wait()
        return receiver.agent.received
    (sender, note), = run(scenario())
    assert sender == "agent_1" and np.array_equal(note.data, np.zeros(3))


def test_others_follow_the_topology():
    async def scenario():
        container = ActorContainer(topology=ring(5))
        carriers = [SimpleCarrier(container, Recorder()) for _ in range(5)]
        return [c.others() for c in carriers]
    assert run(scenario())[0] == ["agent_2", "agent_5"]


def test_unknown_receiver_is_a_clear_error():
    async def scenario():
        container = ActorContainer()
        carrier = SimpleCarrier(container, Recorder())
        carrier.send_to_other(Note(0, np.zeros(1)), "nobody")
    with pytest.raises(UnknownReceiverError, match="unknown receiver 'nobody'"):
        run(scenario())


def test_an_agent_hears_once_that_its_inbox_is_drained_after_all_messages_of_an_instant():
    class Batcher(Recorder):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_inbox_drained(self, carrier):
            self.batches.append(len(self.received))

    batcher = Batcher()
    report = run(run_in_process([batcher, Recorder(send=True), Recorder(send=True), Recorder(send=True)]))
    assert report.status is RunStatus.COMPLETED
    assert len(batcher.received) == 3 and batcher.batches == [0, 3]  # after on_start; once after all three notes


class Asker:
    def __init__(self, timeout):
        self.timeout, self.answer, self.error = timeout, None, None

    async def on_start(self, carrier):
        try:
            self.answer = await carrier.send_awaitable(Note(0, np.ones(2)), "echo", timeout=self.timeout)
        except ReplyTimeout as error:
            self.error = error

    def on_exchange_message(self, carrier, content, meta):
        pass


class Echo:
    def on_exchange_message(self, carrier, content, meta):
        carrier.reply_to_other(Note(content.iteration + 1, content.data * 2), meta)


def test_send_awaitable_returns_the_reply():
    asker = Asker(timeout=1.0)
    report = run(run_in_process([asker, Echo()], addresses=["asker", "echo"]))
    assert report.ok and asker.answer.iteration == 1 and np.array_equal(asker.answer.data, [2.0, 2.0])


def test_a_neighbour_that_never_answers_times_out_in_virtual_time():
    asker = Asker(timeout=3600.0)
    started = time.perf_counter()
    report = run(run_in_process([asker, Recorder()], addresses=["asker", "echo"]))
    assert isinstance(asker.error, ReplyTimeout) and "no reply from echo within 3600 s" in str(asker.error)
    assert report.simulated_time == pytest.approx(3600.0) and time.perf_counter() - started < 5


def _lossy_run(seed):
    agents = [Recorder(send=True) for _ in range(8)]
    network = NetworkModel(delay=(1.0, 2.0), drop_probability=0.3, seed=seed)
    report = run(run_in_process(agents, topology=ring(8), network=network))
    return [(a.received and [s for s, _ in a.received], a.times) for a in agents], report


def test_delay_and_drop_are_reproducible_from_the_seed():
    first, report = _lossy_run(seed=11)
    again, _ = _lossy_run(seed=11)
    other, _ = _lossy_run(seed=12)
    assert first == again and first != other
    dropped = sum(s.dropped for s in report.traffic.values())
    delivered = sum(len(times) for _, times in first)
    assert dropped + delivered == 16 and 0 < dropped < 16
    assert all(1.0 <= t <= 2.0 for _, times in first for t in times)


def test_messages_and_bytes_are_counted_per_agent():
    agents = [Recorder(send=True) for _ in range(3)]
    report = run(run_in_process(agents, topology=ring(3)))
    assert all(s.sent == 2 and s.received == 2 for s in report.traffic.values())
    assert report.bytes == sum(s.bytes_received for s in report.traffic.values()) > 0


def test_a_malformed_network_message_is_dropped_and_counted():
    async def scenario():
        container = ActorContainer()
        receiver = SimpleCarrier(container, Recorder())
        sender = SimpleCarrier(container, Recorder())
        wire = WireMessage(sender=sender.address, receiver=receiver.address, algorithm="carrier_test",
                           problem_id=container.problem_id, type="carrier_test/Note", message_id=1)
        receiver._receive(wire, 0)  # as if it came off the network: payload fields missing
        return receiver
    receiver = run(scenario())
    assert receiver.stats.rejected == 1 and "Note.data: missing" in receiver.stats.reject_reasons[0]
    assert receiver.agent.received == []


def test_a_message_the_protocol_refuses_is_counted_and_the_run_goes_on():
    class Picky(Recorder):
        def on_exchange_message(self, carrier, content, meta):
            if content.iteration > 0:
                raise MessageRejected(f"{meta.sender} is ahead")
            super().on_exchange_message(carrier, content, meta)

    async def scenario():
        container = ActorContainer()
        receiver = SimpleCarrier(container, Picky())
        SimpleCarrier(container, Recorder(), "x")   # the sender, a member of the run
        for iteration in (0, 5):
            receiver._receive(encode_note(iteration, receiver, container), 0)
        await asyncio.sleep(0)
        return receiver
    receiver = run(scenario())
    assert receiver.error is None and len(receiver.agent.received) == 1
    assert receiver.stats.rejected_by == {"protocol": 1} and receiver.stats.reject_reasons == ["x is ahead"]


def test_an_inbox_over_its_limit_sheds_the_newest_messages_of_that_sender():
    async def scenario():
        container = ActorContainer()
        receiver = SimpleCarrier(container, Recorder())
        SimpleCarrier(container, Recorder(), "x")   # the sender, a member of the run
        receiver.limits = Limits(inbox=3)
        for iteration in range(5):   # queued in one go: the worker runs only after this loop yields
            receiver._receive(encode_note(iteration, receiver, container), 0)
        await asyncio.sleep(0)
        return receiver
    receiver = run(scenario())
    assert [content.iteration for _, content in receiver.agent.received] == [0, 1, 2]
    assert receiver.stats.shed == {"inbox": 2} and receiver.stats.inbox_peak == 3


def encode_note(iteration, receiver, container):
    return encode(Note(iteration, np.zeros(2)), sender="x", receiver=receiver.address,
                  problem_id=container.problem_id, message_id=iteration + 1)


def test_a_message_from_outside_the_run_is_dropped_and_counted():
    async def scenario():
        container = ActorContainer()
        receiver = SimpleCarrier(container, Recorder())
        wire = encode(Note(iteration=0, data=np.ones(1)), sender="intruder", receiver=receiver.address, problem_id=container.problem_id,
                      message_id=1)
        receiver._receive(wire, 0)
        return receiver
    receiver = run(scenario())
    assert receiver.stats.rejected == 1 and "'intruder' is not another member" in receiver.stats.reject_reasons[0]
    assert receiver.agent.received == []


class Crasher:
    def on_start(self, carrier):
        raise ValueError("local solve failed: infeasible")

    def on_exchange_message(self, carrier, content, meta):
        pass


def test_a_failing_handler_is_reported_not_swallowed():
    report = run(run_in_process([Crasher(), Recorder()], addresses=["bad", "good"]))
    assert report.status is RunStatus.FAILED
    assert report.failures == {"bad": "ValueError: local solve failed: infeasible"}


class Fanout:
    """Asks every neighbour at once; keeps the replies or the timeout."""

    def __init__(self):
        self.replies, self.error = None, None

    async def on_start(self, carrier):
        requests = [(Note(k, np.full(1, float(k))), other) for k, other in enumerate(carrier.others())]
        try:
            self.replies = await carrier.send_awaitable_many(requests, timeout=10.0)
        except ReplyTimeout as error:
            self.error = error

    def on_exchange_message(self, carrier, content, meta):
        pass


def test_send_awaitable_many_returns_replies_in_request_order():
    fanout = Fanout()
    report = run(run_in_process([fanout, Echo(), Echo(), Echo()], addresses=["fan", "e1", "e2", "e3"],
                                network=NetworkModel(delay=(0.1, 3.0), seed=2)))
    assert report.ok and [r.iteration for r in fanout.replies] == [1, 2, 3]
    assert [float(r.data[0]) for r in fanout.replies] == [0.0, 2.0, 4.0]


def test_send_awaitable_many_names_exactly_the_silent_receivers():
    fanout = Fanout()
    run(run_in_process([fanout, Echo(), Recorder(), Echo(), Recorder()], addresses=["fan", "e1", "s1", "e2", "s2"]))
    assert fanout.error.receivers == ["s1", "s2"] and "no reply from s1, s2 within 10 s" in str(fanout.error)


def test_network_settings_name_the_offending_field():
    with pytest.raises(ValueError, match=r"network.outages\[0\]"):
        NetworkModel.from_config({"outages": [{"robot": "robot_1", "start": -1.0, "duration": 2.0}]})
    with pytest.raises(ValueError, match="network.delay"):
        NetworkModel.from_config({"delay": "fast"})
    with pytest.raises(ValueError, match="network: unknown key"):
        NetworkModel.from_config({"latency": 0.1})
    model = NetworkModel.from_config({"delay": [0.01, 0.05], "seed": 2,
                                      "outages": [{"robot": "robot_3", "start": 5, "duration": 3}]})
    assert model.cut("robot_3", 6.0) and not model.cut("robot_3", 8.0) and not model.cut("robot_2", 6.0)
    assert NetworkModel.from_config(model.to_config()) == model
