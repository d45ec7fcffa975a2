"""What only the Milvus backend has: metadata kept in the collections, filter expressions,
term statistics beside them, tidy collections, and its error messages (issue 16)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import cli_error
from fake_embedder import FakeEmbedder

from searchkit import milvus_backend
from searchkit.config import Settings
from searchkit.filters import Filter
from searchkit.indexer import build_index
from searchkit.searcher import Searcher


@pytest.fixture
def milvus_settings(settings, milvus_uri, monkeypatch) -> Settings:
    monkeypatch.setenv("SEARCHKIT_MILVUS_URI", milvus_uri)
    return settings.with_(backend="milvus")


def _rows(settings, field: str) -> dict[int, object]:
    """doc id -> `field` of every passage row, read from Milvus itself."""
    searcher = Searcher(settings, embedder=FakeEmbedder())
    try:
        pointer = milvus_backend._Pointer.read(searcher.generation.path / milvus_backend.KEYWORD_POINTER)
        rows = milvus_backend.client(milvus_backend.resolve_uri(settings.index_dir)).query(
            pointer.collection, filter="doc_id >= 0", output_fields=["doc_id", field], consistency_level="Strong")
        return {r["doc_id"]: r[field] for r in rows}
    finally:
        searcher.close()


def test_a_sidecar_change_reaches_the_metadata_milvus_filters_by(milvus_settings):
    build_index(milvus_settings, embedder=FakeEmbedder())
    assert set(_rows(milvus_settings, "speaker").values()) == {""}  # no speaker in these titles
    (milvus_settings.corpus_dir / "metadata.csv").write_text(
        'file,speech,speaker,date\nb.txt,0,"王""五%_",2023-04-12\n', encoding="utf-8")
    report = build_index(milvus_settings, embedder=FakeEmbedder())
    assert report.chunks_embedded == 0 and not report.up_to_date
    assert set(_rows(milvus_settings, "speaker").values()) == {"", '王"五%_'}
    assert set(_rows(milvus_settings, "year").values()) == {-1, 2023}
    searcher = Searcher(milvus_settings, embedder=FakeEmbedder())
    try:
        for mode in ("hybrid", "keyword", "vector"):
            hits = searcher.search("项目建设", k=5, mode=mode, filter=Filter.parse(speaker=['王"五%_'])).hits
            assert hits and {h.chunk.source for h in hits} == {"b.txt"}, mode
            # the quote and the LIKE wildcards are matched literally, not as patterns
            assert not searcher.search("项目建设", k=5, mode=mode, filter=Filter.parse(speaker=['王"五'])).hits
        assert searcher.search("项目建设", k=5, filter=Filter.parse(year=["2023"])).hits
    finally:
        searcher.close()


def test_an_hnsw_index_is_searched_and_updated_without_setting_its_type_again(milvus_settings, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_MILVUS_INDEX", "HNSW")
    build_index(milvus_settings, embedder=FakeEmbedder())
    monkeypatch.delenv("SEARCHKIT_MILVUS_INDEX")
    searcher = Searcher(milvus_settings, embedder=FakeEmbedder())
    try:
        assert searcher.search("项目建设", k=3, mode="vector").hits
        assert milvus_backend.describe(searcher.generation.path)["collections"][1]["index_type"] == "HNSW"
    finally:
        searcher.close()
    (milvus_settings.corpus_dir / "c.txt").write_text("关于夜间经济\n一、发展夜间经济\n繁荣夜市。\n", encoding="utf-8")
    report = build_index(milvus_settings, embedder=FakeEmbedder())
    assert not report.rebuilt and report.added == ["c.txt"]
    assert milvus_backend._index_search_params("HNSW", 2000) == {"ef": 2000}  # a server refuses ef < k


def test_filter_expressions_escape_values_and_translate_globs():
    flt = Filter.parse(speaker=['a"b'], role=["50%_x"], year=["2019..2021"], source=["2021/县*/"], tag=["t"])
    expression = milvus_backend.filter_expression(flt)
    assert 'speaker in ["a\\"b"]' in expression
    assert 'role like "%50\\\\%\\\\_x%"' in expression
    assert "(year >= 2019 and year <= 2021)" in expression
    assert 'source like "2021/县%"' in expression and 'source like "2021/县%/%"' in expression
    assert 'array_contains_any(tags, ["t"])' in expression
    assert milvus_backend.filter_expression(Filter.parse(source=["20[12]?/"])) is None  # then by id


def test_updates_keep_term_statistics_and_row_counts_exact(milvus_settings):
    build_index(milvus_settings, embedder=FakeEmbedder())
    (milvus_settings.corpus_dir / "c.txt").write_text("关于夜间经济\n一、发展夜间经济\n繁荣夜市，点亮城市。\n", encoding="utf-8")
    (milvus_settings.corpus_dir / "a.txt").unlink()
    build_index(milvus_settings, embedder=FakeEmbedder())
    updated = Searcher(milvus_settings, embedder=FakeEmbedder())
    fresh_settings = milvus_settings.with_(index_dir=milvus_settings.index_dir.parent / "fresh")
    build_index(fresh_settings, embedder=FakeEmbedder())
    fresh = Searcher(fresh_settings, embedder=FakeEmbedder())
    try:
        words = ["夜间经济", "招商引资", "项目", "安全生产"]
        assert updated.keyword.idf(words) == pytest.approx(fresh.keyword.idf(words))
        assert updated.keyword.doc_count() == fresh.keyword.doc_count()
        for c in milvus_backend.describe(updated.generation.path)["collections"]:
            assert c["matches"], c
        for mode in ("keyword", "hybrid", "vector"):
            for query in ("夜间经济", "项目建设 进度", "如何繁荣夜市点亮城市？"):
                assert [h.chunk.chunk_id for h in updated.search(query, k=5, mode=mode).hits] == \
                       [h.chunk.chunk_id for h in fresh.search(query, k=5, mode=mode).hits], (mode, query)
    finally:
        updated.close()
        fresh.close()


def test_a_rebuild_drops_the_old_collections_once_no_generation_names_them(milvus_settings):
    build_index(milvus_settings, embedder=FakeEmbedder())
    index_dir = milvus_settings.index_dir
    first = set(milvus_backend.collections_in_use(index_dir))
    for _ in range(3):
        build_index(milvus_settings, embedder=FakeEmbedder(), rebuild=True)
    lineage = (index_dir / milvus_backend.LINEAGE).read_text().strip()
    ours = {n for n in milvus_backend.client(milvus_backend.resolve_uri(index_dir)).list_collections()
            if n.startswith(f"searchkit_{lineage}_")}
    assert ours == set(milvus_backend.collections_in_use(index_dir)) and not ours & first
    assert len(ours) == 4  # the live and the previous generation, two collections each
    live = Searcher(milvus_settings, embedder=FakeEmbedder()).generation.path
    c = milvus_backend.client(milvus_backend.resolve_uri(index_dir))
    assert c.describe_alias(f"searchkit_{lineage}_passages")["collection_name"] == \
        milvus_backend._Pointer.read(live / milvus_backend.KEYWORD_POINTER).collection


def test_a_lite_database_held_by_another_process_is_a_one_line_error(milvus_settings, tmp_path, run):
    lite = tmp_path / "held.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pymilvus import MilvusClient\nMilvusClient(sys.argv[1])\n"
        "print('ready', flush=True)\ntime.sleep(120)\n"), str(lite)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        result = run("index", env={"SEARCHKIT_BACKEND": "milvus", "SEARCHKIT_MILVUS_URI": str(lite)})
        cli_error(result, 1, f"the milvus-lite database {lite} is open in another process")
    finally:
        holder.kill()
        holder.wait()


def test_an_unreachable_server_is_a_one_line_error(settings, run):
    result = run("index", env={"SEARCHKIT_BACKEND": "milvus", "SEARCHKIT_MILVUS_URI": "http://127.0.0.1:9"})
    cli_error(result, 1, "cannot connect to Milvus at http://127.0.0.1:9")


def test_an_unknown_backend_is_bad_input(run):
    cli_error(run("index", "--backend", "elastic"), 2, "unknown backend 'elastic'")


@pytest.mark.milvus_server
def test_a_server_filters_inside_milvus_with_unchanged_bm25_scores(milvus_settings, milvus_uri):
    """Server-only: BM25 statistics are the collection's whatever the filter (lite computes
    them over the filtered rows, which is why searchkit reads lite unfiltered)."""
    if milvus_backend.runs_lite(milvus_uri):
        pytest.skip("needs a Milvus server: set SEARCHKIT_MILVUS_URI=http://host:19530")
    build_index(milvus_settings, embedder=FakeEmbedder())
    searcher = Searcher(milvus_settings, embedder=FakeEmbedder())
    try:
        keyword = searcher.keyword
        assert not keyword._lite
        full = keyword.search_bigrams("招商引资项目建设", 100)
        allowed = {d for d, _ in full[::2]}
        assert keyword.search_bigrams("招商引资项目建设", 100, allowed) == [h for h in full if h[0] in allowed]
        assert all(score > 0 for _, score in full)
    finally:
        searcher.close()
