"""Trees (thesis Sec. 3.1): eccentricity, radius, centre, rooting for the branch sweep, the minimum CDS."""
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dro_ros.core.topology import Topology, TopologyError, ring
from dro_ros.graph import (centre, eccentricity, is_connected_dominating, is_tree, minimum_cds_of_tree, radius,
                           root_tree)

# Fig. 3.2 in the thesis's numbering 1..12 (index = number - 1): leaves {1, 2, 4, 7, 9, 11, 12}.
FIG_3_2 = Topology.from_edges(12, [(a - 1, b - 1) for a, b in [(1, 3), (2, 3), (3, 4), (3, 5), (5, 6), (6, 7),
                                                               (6, 8), (8, 9), (8, 10), (10, 11), (10, 12)]])


def path_graph(n: int) -> Topology:
    """A platoon: each agent talks to its predecessor and follower (thesis Fig. 5.1)."""
    return Topology.from_edges(n, [(i, i + 1) for i in range(n - 1)])


def star(n: int) -> Topology:
    return Topology.from_edges(n, [(0, i) for i in range(1, n)])


def test_fig_3_2_has_radius_3_and_centre_node_6():
    assert radius(FIG_3_2) == 3 and centre(FIG_3_2) == (5,)


def test_fig_3_2_leaves_and_minimum_cds_are_the_thesis_sets():
    assert root_tree(FIG_3_2).leaves == (0, 1, 3, 6, 8, 10, 11)            # {1, 2, 4, 7, 9, 11, 12}
    assert minimum_cds_of_tree(FIG_3_2) == {2, 4, 5, 7, 9}                  # {3, 5, 6, 8, 10}


def test_fig_3_3_sweep_from_node_6_solves_6_then_5_and_8_then_3_and_10():
    tree = root_tree(FIG_3_2)
    assert tree.root == 5 and tree.stages == ((5,), (4, 7), (2, 9))
    assert tree.children[5] == (4, 6, 7)                                    # 6 sends to {5, 7, 8}
    assert tree.children[4] == (2,) and tree.children[7] == (8, 9)          # 5 to 3; 8 to {9, 10}


def test_fig_3_4_numbering_is_the_distance_from_the_root():
    tree = root_tree(FIG_3_2)
    assert tree.depth == (3, 3, 2, 3, 1, 0, 1, 1, 2, 2, 3, 3)
    assert all(tree.depth[p] == tree.depth[i] - 1 for i, p in enumerate(tree.parent) if p is not None)


def test_eccentricity_of_a_leaf_of_fig_3_2_reaches_the_far_side():
    assert eccentricity(FIG_3_2, 0) == 6 == FIG_3_2.diameter()              # 1-3-5-6-8-10-11


@pytest.mark.parametrize("n, middle, r, stages", [
    (1, (0,), 0, ((0,),)),
    (2, (0, 1), 1, ((0,),)),
    (3, (1,), 1, ((1,),)),
    (4, (1, 2), 2, ((1,), (2,))),
    (8, (3, 4), 4, ((3,), (2, 4), (1, 5), (6,))),
])
def test_platoon_is_swept_from_its_centre(n, middle, r, stages):
    tree = root_tree(path_graph(n))
    assert centre(path_graph(n)) == middle and radius(path_graph(n)) == r
    assert tree.root == middle[0] and tree.stages == stages


def test_platoon_of_8_is_rooted_at_the_thesis_choice_n_over_2():
    assert root_tree(path_graph(8)).root + 1 == 8 // 2                      # v_0 = N/2 in 1-based numbering


def test_one_node_solves_alone_and_of_two_only_the_root_solves():
    single, pair = root_tree(path_graph(1)), root_tree(path_graph(2))
    assert single.solvers == (0,) and single.leaves == () and minimum_cds_of_tree(path_graph(1)) == {0}
    assert pair.solvers == (0,) and pair.leaves == (1,) and minimum_cds_of_tree(path_graph(2)) == {0}


def test_star_is_swept_in_one_stage_by_its_hub():
    tree = root_tree(star(6))
    assert tree.stages == ((0,),) and tree.leaves == (1, 2, 3, 4, 5) and minimum_cds_of_tree(star(6)) == {0}


def test_a_root_at_a_leaf_still_solves_and_adds_a_stage():
    tree = root_tree(path_graph(4), root=0)
    assert tree.solvers == (0, 1, 2) and tree.stages == ((0,), (1,), (2,)) and tree.leaves == (3,)


def test_is_tree_needs_connected_and_n_minus_1_edges():
    assert is_tree(path_graph(1)) and is_tree(FIG_3_2)
    assert not is_tree(ring(5)) and not is_tree(Topology.from_edges(4, [(0, 1), (2, 3)]))


def test_a_cycle_is_not_rooted():
    with pytest.raises(TopologyError, match=r"graph is not a tree: it has a cycle \(5 edges for 5 nodes\)"):
        root_tree(ring(5))
    with pytest.raises(TopologyError, match="not a tree"):
        minimum_cds_of_tree(ring(5))


def test_a_disconnected_graph_names_the_unreachable_nodes():
    forest = Topology.from_edges(4, [(0, 1), (2, 3)])
    for call in (root_tree, radius, centre, lambda t: eccentricity(t, 0)):
        with pytest.raises(TopologyError, match=r"graph is disconnected: nodes \{2, 3\} unreachable from 0"):
            call(forest)


def test_a_root_out_of_range_is_refused():
    with pytest.raises(TopologyError, match=r"root: node 4 is outside 0\.\.3"):
        root_tree(path_graph(4), root=4)


@st.composite
def trees(draw):
    """A random labelled tree: node k > 0 hangs on an earlier node, then the labels are shuffled."""
    n = draw(st.integers(1, 8))
    label = draw(st.permutations(range(n)))
    return Topology.from_edges(n, [(label[k], label[draw(st.integers(0, k - 1))]) for k in range(1, n)])


def hop_matrix(topology: Topology) -> np.ndarray:
    """All-pairs hop distances by Floyd-Warshall, independent of breadth-first search."""
    d = np.full((topology.n, topology.n), np.inf)
    np.fill_diagonal(d, 0)
    for i, j in topology.edges:
        d[i, j] = d[j, i] = 1
    for k in range(topology.n):
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    return d


@settings(max_examples=150, deadline=None, derandomize=True)
@given(trees())
def test_centre_radius_and_stages_agree_with_floyd_warshall(tree):
    eccentricities = hop_matrix(tree).max(axis=1)
    assert radius(tree) == eccentricities.min()
    assert centre(tree) == tuple(np.flatnonzero(eccentricities == eccentricities.min()))
    assert len(centre(tree)) == 1 or centre(tree)[1] in tree.neighbours[centre(tree)[0]]   # one node or an edge
    assert len(root_tree(tree).stages) == max(radius(tree), 1)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(trees())
def test_non_leaves_are_the_unique_minimum_cds_by_brute_force(tree):
    smallest = next(size for size in range(1, tree.n + 1)
                    if any(is_connected_dominating(tree, c) for c in combinations(range(tree.n), size)))
    minimum = [set(c) for c in combinations(range(tree.n), smallest) if is_connected_dominating(tree, c)]
    assert minimum_cds_of_tree(tree) == set(root_tree(tree).solvers)
    if tree.n >= 3:
        assert minimum == [minimum_cds_of_tree(tree)]
    else:
        assert minimum_cds_of_tree(tree) in minimum
