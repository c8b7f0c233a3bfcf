"""Fleet membership (`dro_ros.core.auth`): what a receiver admits, and where the key comes from."""
import dataclasses
import os

import numpy as np
import pytest

from dro_ros.core.auth import (KEY_ENV, KEY_FILE_ENV, REPLAY_WINDOW, FleetKeyError, Gate, Membership, Refusal,
                               load_key)
from dro_ros.core.wire import FloatField, IntField, StringField, WireMessage

KEY = b"0123456789abcdef0123456789abcdef"
FLEET = Membership("warehouse", KEY)


def envelope(message_id=1, sender="robot_1", **changes):
    wire = WireMessage(sender=sender, receiver="robot_0", algorithm="averaging", problem_id="run/0",
                       type="averaging/RoundValue", message_id=message_id, iteration=3, stamp_ns=7,
                       floats=[FloatField("value", (2,), np.array([1.5, -2.0]))],
                       ints=[IntField("degree", (), np.array([2]))], strings=[StringField("tag", ["a", "b"])])
    return dataclasses.replace(wire, **changes)


def sealed(membership=FLEET, epoch=100, **fields):
    wire = envelope(**fields)
    membership.seal(wire, epoch)
    return wire


def gate(membership=FLEET):
    return Gate(membership, {"robot_1", "robot_2"})


def test_a_sealed_envelope_is_admitted_once_and_any_changed_field_is_a_forgery():
    assert gate().check(sealed()) is None
    changes = {"sender": "robot_2", "problem_id": "run/1", "type": "averaging/Other", "message_id": 2,
               "in_reply_to": 1, "iteration": 4, "stamp_ns": 8, "epoch": 101,
               "floats": [FloatField("value", (2,), np.array([1.5, -2.0000001]))],
               "ints": [IntField("degree", (), np.array([3]))], "strings": [StringField("tag", ["ab"])]}
    for name, value in changes.items():
        forged = dataclasses.replace(sealed(), **{name: value})
        assert gate().check(forged) is Refusal.FORGED, name


def test_unsigned_wrong_key_foreign_fleet_and_strangers_are_refused():
    assert gate().check(sealed(Membership("warehouse"))) is Refusal.UNSIGNED
    assert gate().check(sealed(Membership("warehouse", b"another key of the same size!!!!"))) is Refusal.FORGED
    assert gate().check(sealed(Membership("depot", KEY))) is Refusal.FOREIGN_FLEET
    assert gate().check(sealed(sender="intruder")) is Refusal.STRANGER


def test_replays_are_refused_reordering_is_not_and_a_restarted_sender_is_heard():
    receiver = gate()
    first, second, third = (sealed(message_id=i) for i in (1, 2, 3))
    assert receiver.check(first) is None and receiver.check(third) is None
    assert receiver.check(first) is Refusal.REPLAYED and receiver.check(third) is Refusal.REPLAYED
    assert receiver.check(second) is None            # late, but never seen: admitted
    assert receiver.check(second) is Refusal.REPLAYED
    restarted = sealed(epoch=200, message_id=1)
    assert receiver.check(restarted) is None
    assert receiver.check(sealed(message_id=4)) is Refusal.REPLAYED   # the old epoch is over
    assert receiver.check(sealed(epoch=200, message_id=REPLAY_WINDOW + 5)) is None
    assert receiver.check(sealed(epoch=200, message_id=2)) is Refusal.REPLAYED   # below the window


def test_without_a_key_only_the_fleet_name_and_membership_are_checked():
    open_fleet = Membership("warehouse")
    assert gate(open_fleet).check(sealed(open_fleet)) is None
    assert gate(open_fleet).check(sealed(FLEET)) is None
    assert gate(open_fleet).check(sealed(Membership("depot"))) is Refusal.FOREIGN_FLEET


def test_the_key_comes_from_the_environment_or_a_file(tmp_path):
    path = tmp_path / "fleet.key"
    path.write_bytes(KEY + b"\n")
    os.chmod(path, 0o600)
    assert load_key(environ={}) is None
    assert load_key(environ={KEY_ENV: KEY.decode()}) == KEY
    assert load_key(environ={KEY_FILE_ENV: str(path)}) == KEY
    assert load_key(str(path), environ={}) == KEY
    with pytest.raises(FleetKeyError, match="both set"):
        load_key(environ={KEY_ENV: KEY.decode(), KEY_FILE_ENV: str(path)})
    with pytest.raises(FleetKeyError, match=f"{KEY_ENV}: the fleet key has 5 bytes, need at least 16"):
        load_key(environ={KEY_ENV: "short"})
    with pytest.raises(FleetKeyError, match="key_file /nonexistent/fleet.key: cannot read"):
        load_key("/nonexistent/fleet.key", environ={})
