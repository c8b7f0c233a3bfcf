"""Connected dominating sets and the path sweep (thesis Sec. 3.2, CDS-PS): stages, parents, the search."""
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dro_ros.core.topology import Topology, TopologyError, complete, ring, unit_disk
from dro_ros.graph import (find_path_cds, induces_path, is_connected_dominating, is_dominating, minimum_cds_of_tree,
                           sweep_path)

# The 2-D formation of Sec. 5.2 (eq. 5.14, r_com = 2); agents 1..8 of the thesis are indices 0..7.
FORMATION = unit_disk([(6.5, 1), (5, 1), (3, 1), (1, 1), (4, 2), (2, 2), (2, 3), (0, 3)], radius=2)
THESIS_PATH = [1, 2, 5, 6]                                                  # {2, 3, 6, 7} from v_0 = 2

# Three legs of two edges on a hub: every dominating path would need three ends.
SPIDER = Topology.from_edges(7, [(0, 1), (0, 2), (0, 3), (1, 4), (2, 5), (3, 6)])


def test_thesis_path_stages_decide_s2_then_4_and_6_then_7_then_8():
    sweep = sweep_path(FORMATION, THESIS_PATH)
    assert sweep.assigned == ((0, 1, 2, 4), (3, 5), (6,), (7,))             # S_2 = {1, 2, 3, 5}, ...
    assert sweep.fixed_before == ((), (0, 1, 2, 4), (0, 1, 2, 3, 4, 5), (0, 1, 2, 3, 4, 5, 6))   # eq. 3.8


def test_thesis_path_parents_follow_the_path_and_eq_3_12_off_it():
    sweep = sweep_path(FORMATION, THESIS_PATH)
    assert sweep.parent == (1, None, 1, 2, 1, 2, 5, 6)      # e.g. node 3 hears from 2 (position 1), not 5
    assert sweep.position == (None, 0, 1, None, None, 2, 3, None)


def test_formation_shortest_path_is_the_thesis_choice():
    # 0 and 7 hang on 1 and 6, which are 3 hops apart: no dominating path has fewer than 4 nodes, and of
    # the two with 4, (1, 2, 5, 6) is lexicographically smaller than (1, 4, 5, 6).
    assert find_path_cds(FORMATION).path == (1, 2, 5, 6)


def test_formation_search_from_a_given_start_runs_the_other_way():
    assert find_path_cds(FORMATION, start=6).path == (6, 5, 2, 1)


def test_every_formation_node_is_assigned_exactly_once():
    assigned = [i for stage in find_path_cds(FORMATION).assigned for i in stage]
    assert sorted(assigned) == list(range(8))


def test_a_length_cap_below_the_optimum_is_reported():
    with pytest.raises(TopologyError, match="induces a path with at most 3 nodes"):
        find_path_cds(FORMATION, max_length=3)


def test_sweep_path_names_the_undominated_node():
    with pytest.raises(TopologyError, match=r"path \[1, 2, 5\]: does not dominate node 7"):
        sweep_path(FORMATION, [1, 2, 5])
    with pytest.raises(TopologyError, match=r"path \[2\]: does not dominate nodes \[0, 6, 7\]"):
        sweep_path(FORMATION, [2])


def test_sweep_path_names_the_non_adjacent_pair():
    with pytest.raises(TopologyError, match=r"path \[1, 2, 6, 7\]: nodes 2 and 6 are not adjacent"):
        sweep_path(FORMATION, [1, 2, 6, 7])


@pytest.mark.parametrize("path, message", [
    ([1, 2, 1], r"path \[1, 2, 1\]: node 1 appears twice"),
    ([1, 9], r"path \[1, 9\]: node 9 is outside 0\.\.7"),
    ([], r"path \[\]: has no nodes"),
])
def test_sweep_path_refuses_malformed_paths(path, message):
    with pytest.raises(TopologyError, match=message):
        sweep_path(FORMATION, path)


def test_a_disconnected_graph_is_refused_by_both_entry_points():
    forest = Topology.from_edges(4, [(0, 1), (2, 3)])
    for call in (lambda: sweep_path(forest, [0, 1]), lambda: find_path_cds(forest)):
        with pytest.raises(TopologyError, match=r"graph is disconnected: nodes \{2, 3\} unreachable from 0"):
            call()


def test_a_start_out_of_range_is_refused():
    with pytest.raises(TopologyError, match=r"start: node 8 is outside 0\.\.7"):
        find_path_cds(FORMATION, start=8)


def test_a_spider_has_no_dominating_path_and_the_error_names_its_legs():
    with pytest.raises(TopologyError, match=r"no connected dominating set that induces a path: a path must end "
                                            r"in each of the parts \{1, 4\}, \{2, 5\}, \{3, 6\}"):
        find_path_cds(SPIDER)


def test_a_caterpillar_is_swept_along_its_non_leaves():
    spine_with_legs = Topology.from_edges(8, [(0, 1), (1, 2), (2, 3), (0, 4), (1, 5), (2, 6), (3, 7)])
    sweep = find_path_cds(spine_with_legs)
    assert sweep.path == (0, 1, 2, 3) and set(sweep.path) == minimum_cds_of_tree(spine_with_legs)


@pytest.mark.parametrize("topology, path", [
    (Topology.from_edges(1, []), (0,)),
    (Topology.from_edges(2, [(0, 1)]), (0,)),
    (Topology.from_edges(5, [(i, i + 1) for i in range(4)]), (1, 2, 3)),
    (complete(6), (0,)),
    (ring(6), (0, 1, 2, 3)),                    # k ring nodes dominate k + 2
])
def test_shortest_dominating_paths_of_small_graphs(topology, path):
    assert find_path_cds(topology).path == path


def test_a_search_over_budget_gives_up_with_a_clear_error():
    with pytest.raises(TopologyError, match="path search gave up: budget exhausted"):
        find_path_cds(ring(12), budget=3)


def test_domination_and_connection_are_separate_properties():
    assert not is_dominating(FORMATION, [1, 5])                             # 7 is two hops from 5
    assert is_dominating(FORMATION, [1, 5, 6]) and not is_connected_dominating(FORMATION, [1, 5, 6])
    assert is_connected_dominating(FORMATION, [1, 4, 5, 6]) and not is_connected_dominating(FORMATION, [])


def test_induces_path_needs_consecutive_adjacency_but_allows_chords():
    assert induces_path(FORMATION, [1, 2, 5, 6])
    assert induces_path(FORMATION, [1, 2, 4])                               # chord 1-4 allowed
    assert not induces_path(FORMATION, [1, 5]) and not induces_path(FORMATION, [1, 2, 1])
    assert not induces_path(FORMATION, [])


@st.composite
def connected_graphs(draw, max_n):
    """A random spanning tree (node k > 0 hangs on an earlier node) plus each other edge with a drawn
    probability (often zero, so trees and spiders come up)."""
    n = draw(st.integers(1, max_n))
    edges = {(draw(st.integers(0, k - 1)), k) for k in range(1, n)}
    density = draw(st.sampled_from([0, 0, 1, 2, 4]))
    extra = [(i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in edges]
    edges |= {e for e in extra if draw(st.integers(0, 9)) < density}
    return Topology.from_edges(n, edges)


def brute_force(topology, start):
    """The shortest, then lexicographically smallest, dominating path, by enumerating all sequences."""
    for length in range(1, topology.n + 1):
        for sequence in permutations(range(topology.n), length):
            if ((start is None or sequence[0] == start) and induces_path(topology, sequence)
                    and is_dominating(topology, sequence)):
                return sequence
    return None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(connected_graphs(max_n=9))
def test_a_found_path_dominates_is_a_path_and_its_stages_partition_the_nodes(topology):
    try:
        sweep = find_path_cds(topology)
    except TopologyError as error:
        assert "induces a path" in str(error)
        return
    assert induces_path(topology, sweep.path) and is_dominating(topology, sweep.path)
    assert sorted(i for stage in sweep.assigned for i in stage) == list(range(topology.n))
    for k, stage in enumerate(sweep.assigned):                 # eq. 3.12: off the path, the parent decides you
        assert all(sweep.parent[i] == sweep.path[k] for i in stage if sweep.position[i] is None)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(connected_graphs(max_n=7), st.data())
def test_the_search_matches_brute_force_on_small_graphs(topology, data):
    start = data.draw(st.none() | st.integers(0, topology.n - 1))
    expected = brute_force(topology, start)
    if expected is None:
        with pytest.raises(TopologyError, match="no connected dominating set that induces a path"):
            find_path_cds(topology, start=start)
    else:
        assert find_path_cds(topology, start=start).path == expected
