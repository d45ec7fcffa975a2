from hypothesis import given, strategies as st

from searchkit import fusion

ranked = st.lists(st.tuples(st.integers(0, 30), st.floats(0, 100, allow_nan=False)), max_size=20).map(
    lambda xs: sorted(xs, key=lambda x: -x[1]))


@given(ranked, ranked)
def test_rrf_deterministic_and_drawn_from_inputs(a, b):
    lists = {"keyword": a, "vector": b}
    first = fusion.reciprocal_rank_fusion(lists)
    second = fusion.reciprocal_rank_fusion(lists)
    assert [f.doc_id for f in first] == [f.doc_id for f in second]
    assert {f.doc_id for f in first} == {d for d, _ in a} | {d for d, _ in b}
    assert [f.score for f in first] == sorted((f.score for f in first), reverse=True)


@given(ranked, ranked)
def test_convex_drawn_from_inputs_and_sorted(a, b):
    fused = fusion.convex_combination({"keyword": a, "vector": b}, {"keyword": 0.5, "vector": 0.5})
    assert {f.doc_id for f in fused} == {d for d, _ in a} | {d for d, _ in b}
    assert all(0.0 <= f.score <= 1.0 + 1e-9 for f in fused)
    assert [f.score for f in fused] == sorted((f.score for f in fused), reverse=True)


def test_rrf_values_and_ranks():
    fused = fusion.reciprocal_rank_fusion({"keyword": [("a", 9), ("b", 5)], "vector": [("b", 0.9), ("c", 0.1)]}, k=60)
    assert [f.doc_id for f in fused] == ["b", "a", "c"]
    assert abs(fused[0].score - (1 / 62 + 1 / 61)) < 1e-12
    assert fused[0].ranks == {"keyword": 2, "vector": 1}
    assert fused[1].ranks == {"keyword": 1}


def test_ties_are_broken_stably_by_best_rank_then_list_order():
    # a is first in keyword, c first in vector: equal RRF scores; the first list wins the tie.
    fused = fusion.reciprocal_rank_fusion({"keyword": [("a", 1.0)], "vector": [("c", 1.0)]})
    assert [f.doc_id for f in fused] == ["a", "c"]
    fused = fusion.reciprocal_rank_fusion({"vector": [("c", 1.0)], "keyword": [("a", 1.0)]})
    assert [f.doc_id for f in fused] == ["c", "a"]


def test_weights_shift_the_order():
    lists = {"keyword": [("a", 1.0), ("b", 0.5)], "vector": [("b", 0.9), ("a", 0.1)]}
    assert fusion.reciprocal_rank_fusion(lists, weights={"keyword": 2.0, "vector": 1.0})[0].doc_id == "a"
    assert fusion.reciprocal_rank_fusion(lists, weights={"keyword": 1.0, "vector": 2.0})[0].doc_id == "b"


def test_normalize_handles_ties_and_empty():
    assert fusion.normalize_scores([]) == {}
    assert fusion.normalize_scores([("a", 3.0), ("b", 3.0)]) == {"a": 1.0, "b": 1.0}
    assert fusion.normalize_scores([("a", 4.0), ("b", 2.0)], lower_bound=0.0) == {"a": 1.0, "b": 0.5}


def test_duplicate_ids_in_one_list_count_once():
    fused = fusion.reciprocal_rank_fusion({"keyword": [("a", 2.0), ("a", 1.0), ("b", 0.5)]}, k=0)
    assert fused[0].ranks == {"keyword": 1}
    assert fused[1].doc_id == "b" and fused[1].ranks == {"keyword": 3}


def test_a_list_given_no_weight_breaks_no_ties():
    # x and y tie at 0 on the weighted list; the unweighted list ranks y first, which must not count
    lists = {"keyword": [("y", 9.0), ("z", 1.0)], "vector": [("w", 0.9), ("x", 0.1), ("y", 0.1)]}
    fused = fusion.convex_combination(lists, {"keyword": 0.0, "vector": 1.0}, lower_bounds={"vector": 0.1})
    assert [f.doc_id for f in fused] == ["w", "x", "y", "z"]
    assert fused[2].ranks == {"keyword": 1, "vector": 3}  # the unweighted rank is still reported
