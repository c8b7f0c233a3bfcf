"""A mission's scripted disturbances as the supervisor announces them (`ros.disturbances`): what the
simulator and the launcher's dropout injector read is what the scenario scripted, and a malformed
announcement is refused naming the field."""
import json

import pytest

from dro_ros.mission.receding import Dropout, Push, RecedingError
from dro_ros.ros.disturbances import Announcement


def test_an_announcement_carries_the_script_and_its_origin_unchanged():
    sent = Announcement("fleet/mission_2", 1_796_618_000_123_456_789, ("robot_0", "robot_1"),
                        (Push(1, 6.0, (0.8, -0.8), 1.0), Dropout(0, 8.0, 6.0, "kill")))
    received = Announcement.from_json(sent.to_json(), dim=2)
    assert received == sent
    assert received.pushes() == [Push(1, 6.0, (0.8, -0.8), 1.0)] and received.dropouts() == [Dropout(0, 8.0, 6.0, "kill")]


@pytest.mark.parametrize("change, message", [
    ({"origin_ns": 1.5}, "announcement.origin_ns: expected an integer"),
    ({"robots": "robot_0"}, "announcement.robots: expected a list of robot names"),
    ({"disturbances": [{"robot": 2, "time": 1.0, "kind": "dropout", "duration": 1.0}]},
     r"disturbances\[0\].robot: expected a robot index in 0..1, got 2"),
])
def test_a_malformed_announcement_is_refused_naming_the_field(change, message):
    data = {"mission_id": "m", "origin_ns": 0, "robots": ["robot_0", "robot_1"], "disturbances": [], **change}
    with pytest.raises(RecedingError, match=message):
        Announcement.from_json(json.dumps(data), dim=2)
