"""RViz markers of the scenario's obstacles: a disc as a cylinder of its diameter at its centre, a polygon as
its closed outline."""
from __future__ import annotations

import pytest

pytest.importorskip("visualization_msgs.msg")

from std_msgs.msg import Header  # noqa: E402
from visualization_msgs.msg import Marker  # noqa: E402

from dro_ros.ros.visuals import obstacle_markers  # noqa: E402
from dro_ros.trajectory import DiscObstacle, PolygonObstacle  # noqa: E402


def test_obstacles_are_drawn_where_and_as_large_as_they_are():
    disc, square = DiscObstacle([12, 10], 1.5), PolygonObstacle([[0, 0], [0, 1], [1, 1], [1, 0]])  # clockwise
    first, second = obstacle_markers([disc, square], Header(frame_id="world"))
    assert (first.ns, first.id, first.type) == ("obstacles", 0, Marker.CYLINDER)
    assert (first.pose.position.x, first.pose.position.y, first.scale.x, first.scale.y) == (12, 10, 3, 3)
    assert (second.id, second.type) == (1, Marker.LINE_STRIP)
    outline = [(p.x, p.y) for p in second.points]
    assert len(outline) == 5 and outline[0] == outline[-1]
    assert set(outline) == {(0, 0), (1, 0), (1, 1), (0, 1)}
