import numpy as np

from searchkit.vector_index import WINDOW_SIZES, VectorIndex, aggregate_windows, passage_windows, vector_ids


def test_windows_hold_whole_sentences_within_size():
    text = "第一句话写在这里。" * 30 + "最后一句没有句号"
    windows = passage_windows(text)
    sizes = {local // 128 for local, _ in windows}
    assert sizes == set(range(len(WINDOW_SIZES)))
    for local, window in windows:
        assert len(window) <= WINDOW_SIZES[local // 128] or "。" not in window[:-1]
        assert window.endswith("。") or window.endswith("最后一句没有句号")
    # every size covers the whole text
    for size_index in range(len(WINDOW_SIZES)):
        joined = "".join(w for local, w in windows if local // 128 == size_index)
        assert joined == text


def test_empty_text_still_has_a_window():
    assert passage_windows("") == [(0, "")]


def test_aggregate_takes_best_window_per_size_and_averages():
    ids = vector_ids(7, [0, 1, 128]) + vector_ids(9, [0])
    hits = list(zip(ids, [0.9, 0.5, 0.7, 0.6], strict=True))
    scores = dict(aggregate_windows(hits))
    assert abs(scores[7] - (0.9 + 0.7) / 2) < 1e-9
    # doc 9 has no size-1 window among the hits: it counts the lowest size-1 score seen (0.7)
    assert abs(scores[9] - (0.6 + 0.7) / 2) < 1e-9


def test_faiss_matches_brute_force_and_survives_removal(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1300)
    index = VectorIndex.create(16)
    index.add(ids, vectors)
    query = vectors[5] + 0.1 * vectors[17]
    expected = ids[np.argsort(-(vectors @ query))[:10]]
    assert [i for i, _ in index.search(query, 10)] == list(expected)
    index.remove([int(expected[0])])
    assert int(expected[0]) not in [i for i, _ in index.search(query, 10)]
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    assert loaded.count == 299
    keep = next(i for i in range(1000, 1300) if i != int(expected[0]))
    assert np.allclose(VectorIndex.load(tmp_path / "v.faiss", mmap=False).reconstruct([keep])[0], vectors[keep - 1000])


def test_large_index_switches_to_ivf_and_keeps_ids(monkeypatch):
    import searchkit.vector_index as vi

    rng = np.random.default_rng(1)
    centers = rng.normal(size=(20, 16))
    vectors = (centers[rng.integers(0, 20, 3000)] + 0.1 * rng.normal(size=(3000, 16))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.create(16)
    index.add(np.arange(3000) + 10, vectors)
    monkeypatch.setattr(vi, "IVF_THRESHOLD", 1000)
    ivf = index.scaled()
    assert not ivf.is_exact and ivf.count == 3000
    exact = [i for i, _ in index.search(vectors[7], 10)]
    approx = [i for i, _ in ivf.search(vectors[7], 10)]
    assert len(set(exact) & set(approx)) >= 8 and approx[0] == 17
    ivf.remove([17])
    assert 17 not in [i for i, _ in ivf.search(vectors[7], 10)]
    assert np.allclose(ivf.reconstruct([18])[0], vectors[8], atol=1e-6)


def test_ivf_with_a_selective_filter_still_fills_k_and_ranks_exactly():
    # IVF probes only some cells; a filter's passages lie in all of them. Probing the usual
    # nprobe would leave a 1 % filter about 1 % of its candidates (fewer than k passages).
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(64, 16))
    n = 6000
    vectors = (centers[rng.integers(0, 64, n)] + 0.3 * rng.normal(size=(n, 16))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.asarray([vector_ids(doc, [0])[0] for doc in range(n)], dtype=np.int64)
    exact = VectorIndex.create(16)
    exact.add(ids, vectors)
    ivf = VectorIndex.build_ivf(ids, vectors, nlist=64, nprobe=2)
    allowed = set(range(0, n, 100))  # 60 passages, 1 %
    for query in vectors[:20]:
        want = exact.search_passages(query, 10, allowed)
        got = ivf.search_passages(query, 10, allowed)
        assert len(want) == 10 and [d for d, _ in got] == [d for d, _ in want]
    # unfiltered, the IVF still probes its own nprobe cells (approximate, as before)
    assert len(ivf.search_passages(vectors[0], 10)) == 10


def test_ivf_with_a_broader_filter_probes_more_cells_and_fills_k():
    # 20 % of the passages: more windows than the IVF compares unfiltered, so FAISS searches
    # with the selector over nprobe / share cells instead of ranking them exactly.
    rng = np.random.default_rng(3)
    n = 6000
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.asarray([vector_ids(doc, [0])[0] for doc in range(n)], dtype=np.int64)
    exact = VectorIndex.create(16)
    exact.add(ids, vectors)
    ivf = VectorIndex.build_ivf(ids, vectors, nlist=64, nprobe=2)
    allowed = set(range(0, n, 5))
    assert len(allowed) > ivf._compared_unfiltered()
    overlap = []
    for query in vectors[:20]:
        want = [d for d, _ in exact.search_passages(query, 10, allowed)]
        got = [d for d, _ in ivf.search_passages(query, 10, allowed)]
        assert len(got) == 10
        overlap.append(len(set(want) & set(got)))
    assert np.mean(overlap) >= 5  # the IVF's own approximation, on random vectors; nprobe 2 alone gives ~1
