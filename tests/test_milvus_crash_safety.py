"""kill -9 during a Milvus build never costs the user their index (issue 16).

A milvus-lite server on a free loopback port holds the collections, so a build process
and this test's searches use them at once (a lite database file admits one process).
Each trial starts an update (or a full rebuild) in a subprocess, searches while it runs,
kills it at a random moment, then checks: the index answers exactly as before or exactly
as after, the next build completes, and Milvus holds exactly the rows the index expects,
with no collection left behind.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_embedder import FakeEmbedder

from searchkit import store
from searchkit.config import Settings
from searchkit.indexer import build_index
from searchkit.searcher import Searcher

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS.parent / "corpus"
OLD_FILES = ["000_fcda3296baa12e59.txt", "002_6c3e1b456d51acac.txt"]
NEW_FILES = ["003_a4dd9689482457e2.txt"]
QUERIES = ["招商引资", "项目建设 进度", '"双过半"', "营商环境"]
TRIALS = 12

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """`milvus-lite server` on loopback: the URI several processes can share."""
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server")
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("milvus-lite server did not start")
    yield f"http://127.0.0.1:{port}"
    from searchkit import milvus_backend

    milvus_backend.close_all()
    proc.terminate()
    proc.wait(timeout=30)


def settings(corpus: Path, index_dir: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index_dir, model=FakeEmbedder.name, backend="milvus")


def snapshot(index_dir: Path, searcher: Searcher | None = None) -> list:
    own = searcher is None
    searcher = searcher or Searcher(Settings(index_dir=index_dir, model=FakeEmbedder.name), embedder=FakeEmbedder())
    out = [[h.chunk.chunk_id for h in searcher.search(q, k=5, mode=mode).hits]
           for q in QUERIES for mode in ("keyword", "hybrid")]
    if own:
        searcher.close()
    return out


def set_corpus(corpus: Path, names: list[str]) -> None:
    for path in corpus.glob("*.txt"):
        if path.name not in names:
            path.unlink()
    for name in names:
        if not (corpus / name).exists():
            shutil.copy(CORPUS / name, corpus / name)


def assert_engine_matches(index_dir: Path) -> None:
    """Every file verified, the collections hold exactly the expected rows, and no
    collection of this index is left that no generation names."""
    from searchkit import milvus_backend

    generation = store.open_generation(index_dir)
    store.verify_files(generation, index_dir, full=True)
    for c in milvus_backend.describe(generation.path)["collections"]:
        assert c["matches"], c
    lineage = (index_dir / milvus_backend.LINEAGE).read_text().strip()
    ours = {n for n in milvus_backend.client(milvus_backend.resolve_uri(index_dir)).list_collections()
            if n.startswith(f"searchkit_{lineage}_")}
    assert ours <= set(milvus_backend.collections_in_use(index_dir))


def test_sigkill_during_milvus_builds_keeps_answers_and_the_next_build_completes(milvus_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_MILVUS_URI", milvus_server)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    states = {}
    started = time.perf_counter()
    for label, names in (("new", OLD_FILES + NEW_FILES), ("old", OLD_FILES)):
        set_corpus(corpus, names)
        build_index(settings(corpus, index_dir), embedder=FakeEmbedder())
        states[label] = snapshot(index_dir)
    build_seconds = (time.perf_counter() - started) / 2
    assert states["old"] != states["new"]
    env = {**os.environ, "SEARCHKIT_MODEL": FakeEmbedder.name, "PYTHONPATH": str(TESTS.parent),
           "SEARCHKIT_MILVUS_URI": milvus_server}
    rng = random.Random(20261201)
    outcomes = {"before": 0, "after": 0}
    current = "old"
    for trial in range(TRIALS):
        target = "new" if current == "old" else "old"
        set_corpus(corpus, OLD_FILES + NEW_FILES if target == "new" else OLD_FILES)
        args = [sys.executable, str(TESTS / "fake_embedder.py"), "index", "--corpus", str(corpus),
                "--index", str(index_dir)] + (["--rebuild"] if trial % 3 == 2 else [])
        reader = Searcher(Settings(index_dir=index_dir, model=FakeEmbedder.name), embedder=FakeEmbedder())
        seen: list[list] = []
        stop = threading.Event()

        def search_while_building(reader=reader, seen=seen, stop=stop):
            while not stop.is_set():
                seen.append(snapshot(index_dir, reader))

        thread = threading.Thread(target=search_while_building)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        thread.start()
        time.sleep(rng.uniform(0.3, build_seconds * 1.3 + 1.0))  # imports, chunking, inserts, publishing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        thread.join()
        reader.close()
        # Each query answers from one generation (a snapshot's queries may straddle the switch).
        assert seen and all(got in (states[current][i], states[target][i])
                            for answer in seen for i, got in enumerate(answer)), f"trial {trial}"
        answer = snapshot(index_dir)
        assert answer in (states[current], states[target]), f"trial {trial}: mixed or lost results"
        outcomes["before" if answer == states[current] else "after"] += 1
        build_index(settings(corpus, index_dir), embedder=FakeEmbedder())  # completes, cleans up
        assert snapshot(index_dir) == states[target]
        assert_engine_matches(index_dir)
        current = target
    print(f"kills: {outcomes}")
