import pytest

from dro_ros.core.topology import TopologyError, Topology, complete, ring, small_world, unit_disk


def test_ring_links_each_agent_to_two_neighbours():
    topology = ring(50)
    assert all(topology.degree(i) == 2 for i in range(50)) and topology.diameter() == 25


def test_small_world_adds_phi_n_chords_reproducibly():
    a, b = small_world(30, 2.0, seed=4), small_world(30, 2.0, seed=4)
    assert a == b and len(a.edges) == 30 + 60
    assert small_world(30, 2.0, seed=5) != a


def test_complete_graph_has_every_pair():
    assert len(complete(6).edges) == 15 and complete(6).diameter() == 1


def test_unit_disk_links_agents_within_the_radius():
    topology = unit_disk([[0, 0], [1.5, 0], [3.5, 0], [3.5, 2.0]], radius=2.0)
    assert topology.edges == [(0, 1), (1, 2), (2, 3)]


def test_explicit_edges_are_validated():
    with pytest.raises(TopologyError, match=r"edges\[1\]: \(2, 7\) has a node outside 0..3"):
        Topology.from_edges(4, [(0, 1), (2, 7)])
    with pytest.raises(TopologyError, match="self-loop"):
        Topology.from_edges(4, [(1, 1)])


def test_a_disconnected_graph_has_no_diameter():
    with pytest.raises(TopologyError, match="disconnected"):
        Topology.from_edges(4, [(0, 1), (2, 3)]).diameter()
