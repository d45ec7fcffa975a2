"""A Searcher that lives long (a server) while other processes rebuild its index."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from fake_embedder import FakeEmbedder

from searchkit.indexer import build_index
from searchkit.searcher import Searcher

TESTS = Path(__file__).resolve().parent
PHRASES = ["夜间经济", "冰雪旅游", "低空经济"]


def rebuild_in_another_process(settings) -> None:
    subprocess.run([sys.executable, str(TESTS / "fake_embedder.py"), "index", "--rebuild", "--corpus",
                    str(settings.corpus_dir), "--index", str(settings.index_dir)], check=True, capture_output=True,
                   env={**os.environ, "SEARCHKIT_MODEL": FakeEmbedder.name, "PYTHONPATH": str(TESTS.parent)})


def speech(phrase: str) -> str:
    return f"关于{phrase}的讲话\n一、大力发展{phrase}\n要把{phrase}作为新的增长点，制定专项政策。\n"


def sources(searcher, query, mode="keyword"):
    return [h.chunk.source for h in searcher.search(query, k=20, mode=mode).hits]


def test_a_searcher_keeps_answering_across_three_rebuilds_by_another_process(built):
    settings, first = built
    searcher = Searcher(settings, embedder=FakeEmbedder())
    idle = Searcher(settings, embedder=FakeEmbedder())  # opens the first generation, then waits
    assert "a.txt" in sources(searcher, "招商引资") and "a.txt" in sources(idle, "招商引资")
    first_dir = idle.generation.path
    for i, phrase in enumerate(PHRASES):
        (settings.corpus_dir / f"new{i}.txt").write_text(speech(phrase), encoding="utf-8")
        rebuild_in_another_process(settings)
        assert searcher.search(f'"{phrase}"', mode="keyword").hits[0].chunk.source == f"new{i}.txt"
        assert searcher.generation.number == first.generation + i + 1
        assert [h.chunk.source for h in searcher.search(phrase, mode="hybrid").hits][0] == f"new{i}.txt"
        assert first_dir.is_dir()  # the idle reader's generation is leased: never deleted under it
    # Three rebuilds later the idle reader answers from the live generation too...
    assert sources(idle, '"低空经济"') == ["new2.txt"] and idle.generation.number == first.generation + 3
    # ...and having let go of the first generation, the next build may remove it.
    build_index(settings, embedder=FakeEmbedder(), rebuild=True)
    assert not first_dir.exists()
    assert sorted(p.name for p in settings.index_dir.glob("gen-*")) == [
        f"gen-{first.generation + n:06d}" for n in (3, 4)]


def test_one_searcher_answers_from_several_threads(built):
    settings, _ = built
    searcher = Searcher(settings, embedder=FakeEmbedder())
    expected = [h.chunk.chunk_id for h in searcher.search("招商引资 措施", mode="hybrid").hits]
    errors: list[BaseException] = []
    answers: list[list[str]] = []

    def ask():
        try:
            for _ in range(5):
                answers.append([h.chunk.chunk_id for h in searcher.search("招商引资 措施", mode="hybrid").hits])
        except BaseException as error:  # noqa: BLE001 - any failure is the finding
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert answers == [expected] * 20
