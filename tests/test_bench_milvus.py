"""scripts/bench_milvus.py's own logic: the stand-in embedder and the merging of result files."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_milvus.py"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("bench_milvus", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_embedder_gives_both_engines_the_same_vectors(bench):
    texts = [f"第{i}段" for i in range(50)]
    a, b = bench.SyntheticEmbedder(3).encode(texts), bench.SyntheticEmbedder(3).encode(texts)
    assert a.shape == (50, bench.SyntheticEmbedder.dimension)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_embedder_refuses_a_second_build_call(bench):
    embedder = bench.SyntheticEmbedder(0)
    embedder.encode(["一"])
    with pytest.raises(RuntimeError, match="one build call"):
        embedder.encode(["二"])


def test_query_embedder_answers_only_known_queries(bench):
    vector = np.ones(bench.SyntheticEmbedder.dimension, dtype=np.float32)
    embedder = bench.SyntheticEmbedder(0, {"招商引资 措施": vector})
    assert np.array_equal(embedder.encode(["招商引资 措施"])[0], vector)
    with pytest.raises(KeyError):
        embedder.encode(["别的问题"])


def _entry(sha: str, query: dict | None, cpu: float | None = None) -> dict:
    build = {"passages": 10, "windows": 50, "build_s": 2.0, "passages_per_s": 5.0, "disk_mb": 1.0,
             "vectors_sha": sha, "memory": {"self_mb": 100, "children_live_mb": 0}}
    if cpu is not None:
        build.update(cpu_s=cpu, passages_per_cpu_s=10 / cpu)
    return {"build": build, "query": query}


def _query() -> dict:
    stats = {"p50_ms": 1.0, "p95_ms": 2.0, "mean_ms": 1.5, "n": 1}
    return {"vector_index": "FAISS", "first_query_s": 0.1, "hybrid": stats, "keyword": stats, "vector": stats,
            "memory": {"self_mb": 50, "children_live_mb": 0}}


def test_a_build_only_rerun_keeps_the_queries_and_adds_its_timing(bench):
    run = {"cmd": "x", "started_utc": "t", "load_start": [1, 1, 1]}
    first = {"runs": [run], "sizes": {"10": {"embedded": _entry("aa", _query())}}}
    retime = {"runs": [run], "sizes": {"10": {"embedded": _entry("aa", None, cpu=4.0)}}}
    merged = bench.merge([first, retime])
    entry = merged["sizes"]["10"]["embedded"]
    assert entry["query"] is not None and entry["rebuild"]["cpu_s"] == 4.0
    table = bench.render(merged)
    assert "embedded (re-timed)" in table and "not measured" in table and "the same synthetic vectors" in table


def test_report_flags_engines_that_got_different_vectors(bench):
    results = {"runs": [], "sizes": {"10": {"embedded": _entry("aa", _query()), "milvus-flat": _entry("bb", _query())}}}
    assert "DIFFERENT" in bench.render(results)
