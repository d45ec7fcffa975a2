"""What every storage backend must do (searchkit/backends.py), checked the same way for each.

A new backend (e.g. Milvus) adds its factory to KEYWORD_BACKENDS or VECTOR_BACKENDS and
must pass every test here. Vector results are checked against brute-force numpy; filtered
(`allowed`) results against the unfiltered ones with the other passages left out.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED_CORPUS, SPEECH_A, SPEECH_B

from searchkit.chunking import chunk_file
from searchkit.keyword_index import KeywordIndex
from searchkit.manifest import EngineBlock
from searchkit.query import parse_query
from searchkit.vector_index import VectorIndex, aggregate_windows, vector_ids


# -- keyword side ---------------------------------------------------------------------------

def _whoosh(path, uri):
    return KeywordIndex.create(path)


def _milvus_keyword(path, uri):
    from searchkit.milvus_backend import MilvusKeywordIndex

    return MilvusKeywordIndex.create(path, prefix=f"t_{abs(hash(str(path))) % 10**9}", uri=uri)


def _milvus_keyword_class():
    from searchkit.milvus_backend import MilvusKeywordIndex

    return MilvusKeywordIndex


KEYWORD_BACKENDS = {"whoosh": (_whoosh, lambda: KeywordIndex),
                    "milvus": (_milvus_keyword, _milvus_keyword_class)}


def _passages(folder):
    chunks = []
    folder.mkdir()
    bundled = (BUNDLED_CORPUS / "002_6c3e1b456d51acac.txt").read_text(encoding="utf-8")
    for name, text in (("a.txt", SPEECH_A), ("b.txt", SPEECH_B), ("c.txt", bundled)):
        (folder / name).write_text(text, encoding="utf-8")
        chunks += chunk_file(folder / name, folder)
    return [(10 + i, c.source, c) for i, c in enumerate(chunks)]


@pytest.fixture(params=list(KEYWORD_BACKENDS))
def keyword(request, tmp_path, milvus_uri, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_MILVUS_URI", milvus_uri)
    make, cls = KEYWORD_BACKENDS[request.param]
    cls = cls()
    index = make(tmp_path / "kw", milvus_uri)
    passages = _passages(tmp_path / "corpus")
    index.update([], passages)
    return index, cls, {doc_id: chunk for doc_id, _, chunk in passages}


def ids(ranked):
    return [doc_id for doc_id, _ in ranked]


def test_keyword_describes_itself(keyword):
    _, cls, _ = keyword
    block = cls.manifest_block()
    assert isinstance(block, EngineBlock) and block.engine == cls.ENGINE and block.version
    assert block.settings == cls.engine_settings() and block.expected() == {"engine": cls.ENGINE,
                                                                           "settings": cls.engine_settings()}


def test_keyword_finds_what_holds_the_words_and_forgets_what_was_removed(keyword):
    index, cls, passages = keyword
    assert index.doc_count() == len(passages)
    found = ids(index.search(parse_query("招商引资"), 50))
    assert found and set(found) == {d for d, c in passages.items() if "招商引资" in c.text + c.title}
    phrase = ids(index.search(parse_query('"双过半"'), 50))
    assert phrase and all("双过半" in passages[d].text for d in phrase)
    index.update(phrase, [])
    assert index.doc_count() == len(passages) - len(phrase)
    assert index.search(parse_query('"双过半"'), 50) == [] and not index.contains_exact("双过半")


def test_keyword_index_reopens_from_disk_with_the_same_answers(keyword, tmp_path):
    index, cls, _ = keyword
    again = cls(tmp_path / "kw")
    for query in ("招商引资 措施", '"双过半"', "安全生产"):
        assert again.search(parse_query(query), 10) == index.search(parse_query(query), 10)


@pytest.mark.parametrize("query", ["招商引资 措施", "项目 建设", '"双过半"', "安全生产 工资"])
def test_keyword_allowed_is_the_unfiltered_ranking_with_the_others_left_out(keyword, query):
    index, _, passages = keyword
    parsed = parse_query(query)
    full = index.search(parsed, len(passages))
    allowed = set(list(passages)[::2])
    expected = [hit for hit in full if hit[0] in allowed]
    assert index.search(parsed, len(passages), allowed=allowed) == expected
    assert index.search(parsed, 2, allowed=allowed) == expected[:2]
    assert index.search(parsed, 10, allowed=set()) == []
    weighted = [("招商", 1.0), ("工资", 0.5), ("安全生产", 0.7)]
    wfull = index.search_weighted_terms(weighted, len(passages))
    assert index.search_weighted_terms(weighted, len(passages), allowed=allowed) == [h for h in wfull if h[0] in allowed]


def test_keyword_exact_phrase_check_and_idf(keyword):
    index, _, passages = keyword
    holder = {d for d, c in passages.items() if "双过半" in c.text}
    assert index.contains_exact("双过半") and not index.contains_exact("不存在的说法")
    assert index.contains_exact("双过半", allowed=holder)
    assert not index.contains_exact("双过半", allowed=set(passages) - holder)
    idf = index.idf(["招商引资", "双过半", "火星"])
    assert idf["火星"] == 0.0 and idf["双过半"] > idf["招商引资"] > 0  # rarer words weigh more


# -- vector side ----------------------------------------------------------------------------

DIM = 16


def _faiss_flat(ids, vectors, folder, uri):
    index = VectorIndex.create(DIM)
    index.add(ids, vectors)
    return index


def _faiss_ivf(ids, vectors, folder, uri):
    return VectorIndex.build_ivf(np.asarray(ids), vectors, nlist=8, nprobe=8)  # every cell: exact


def _milvus_flat(ids, vectors, folder, uri):
    from searchkit.milvus_backend import MilvusVectorIndex

    index = MilvusVectorIndex.create(DIM, folder / "vectors.faiss", prefix=f"t_{abs(hash(str(folder))) % 10**9}", uri=uri)
    index.add(ids, vectors)
    return index


VECTOR_BACKENDS = {"faiss-flat": _faiss_flat, "faiss-ivf": _faiss_ivf, "milvus-flat": _milvus_flat}


@pytest.fixture(params=list(VECTOR_BACKENDS))
def vectors(request, tmp_path, milvus_uri, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_MILVUS_URI", milvus_uri)
    rng = np.random.default_rng(7)
    docs = np.arange(1, 61)
    window_ids = np.asarray([v for d in docs for v in vector_ids(int(d), [0, 1, 128])])  # 3 windows a passage
    data = rng.normal(size=(len(window_ids), DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return VECTOR_BACKENDS[request.param](window_ids, data, tmp_path, milvus_uri), window_ids, data, rng


def brute_force(window_ids, data, query, limit, allowed=None):
    keep = np.ones(len(window_ids), bool) if allowed is None else np.isin(window_ids // 256, list(allowed))
    scores = data[keep] @ query
    order = np.argsort(-scores, kind="stable")[:limit]
    return [int(i) for i in window_ids[keep][order]], scores[order]


def test_vectors_match_brute_force(vectors):
    index, window_ids, data, rng = vectors
    assert index.count == len(window_ids) and index.dimension == DIM
    for _ in range(5):
        query = rng.normal(size=DIM).astype(np.float32)
        got = index.search(query, 20)
        want_ids, want_scores = brute_force(window_ids, data, query, 20)
        assert ids(got) == want_ids
        np.testing.assert_allclose([s for _, s in got], want_scores, rtol=1e-5, atol=1e-6)


def test_vectors_allowed_equals_brute_force_over_the_allowed_passages(vectors):
    index, window_ids, data, rng = vectors
    allowed = {int(d) for d in rng.choice(np.arange(1, 61), 17, replace=False)}
    for _ in range(5):
        query = rng.normal(size=DIM).astype(np.float32)
        got = index.search(query, 25, allowed=allowed)
        assert ids(got) == brute_force(window_ids, data, query, 25, allowed)[0]
        assert ids(got) == [i for i in ids(index.search(query, len(window_ids))) if i // 256 in allowed][:25]
        passages = index.search_passages(query, 5, allowed=allowed)
        every = list(zip(*brute_force(window_ids, data, query, len(window_ids), allowed), strict=True))
        want = aggregate_windows(every)[:5]
        assert ids(passages) == ids(want) and {d for d, _ in passages} <= allowed
        np.testing.assert_allclose([s for _, s in passages], [s for _, s in want], rtol=1e-5)
    assert index.search(rng.normal(size=DIM), 5, allowed=set()) == []
    assert index.search(rng.normal(size=DIM), 5, allowed={9999}) == []


def test_vectors_remove_reconstruct_and_round_trip(vectors, tmp_path):
    index, window_ids, data, rng = vectors
    np.testing.assert_allclose(index.reconstruct(window_ids[[3, 0, 7]]), data[[3, 0, 7]], atol=1e-6)
    gone = [int(i) for i in window_ids[:3]]  # every window of doc 1
    assert index.remove(gone) == 3 and index.count == len(window_ids) - 3
    query = data[0]
    assert not set(ids(index.search(query, 50))) & set(gone)
    assert 1 not in {d for d, _ in index.search_passages(query, 50, allowed={1, 2})}
    index.save(tmp_path / "v.faiss")
    loaded = type(index).load(tmp_path / "v.faiss")
    assert loaded.count == index.count
    assert loaded.search(query, 10) == index.search(query, 10)
    assert loaded.search(query, 10, allowed={2, 3}) == index.search(query, 10, allowed={2, 3})


def test_vectors_describe_themselves(vectors):
    cls = type(vectors[0])
    block = cls.manifest_block()
    assert block.engine == cls.ENGINE and block.version and block.settings == cls.engine_settings()
