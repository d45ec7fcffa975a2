"""End-to-end checks of splitting and chunking on the real corpus in ../corpus."""
import re
from pathlib import Path

import pytest

from searchkit.chunking import chunk_speeches
from searchkit.config import ChunkingSettings
from searchkit.documents import load_speeches

CORPUS = Path(__file__).parent.parent / "corpus"
COMPILATION = "001_92cf6fb917628260.txt"

pytestmark = pytest.mark.skipif(not (CORPUS / COMPILATION).exists(), reason="corpus not present")


@pytest.fixture(scope="module")
def speeches():
    return [s for path in sorted(CORPUS.glob("*.txt")) for s in load_speeches(path, CORPUS)]


@pytest.fixture(scope="module")
def chunks(speeches):
    return chunk_speeches(speeches, ChunkingSettings())


def test_speech_counts(speeches):
    assert len(speeches) == 42
    assert sum(1 for s in speeches if s.source == COMPILATION) == 38
    assert all(s.title and s.paragraphs for s in speeches)


def test_compilation_titles(speeches):
    titles = [s.title for s in speeches if s.source == COMPILATION]
    assert [s.index for s in speeches if s.source == COMPILATION] == list(range(38))
    assert "市委副书记、市长刘凯在经济运行调度暨重点工作推进会上的讲话" in titles
    # The main title is the title; the "——" line naming speaker and occasion is its preamble.
    ai = next(s for s in speeches if any("艾方毅" in line for line in s.preamble))
    assert ai.preamble == ("——中共XX县委书记艾方毅在县委经济工作会议上的讲话",)
    assert ai.title == "抢抓新机遇再创新业绩在高质量发展征程中干在实处走在前列"
    assert all(not t.startswith(("谢谢", "同志们")) and len(t) <= 120 for t in titles)
    assert len(set(titles)) == 38


def test_single_speech_files_have_titles(speeches):
    by_source = {s.source: s for s in speeches if s.source != COMPILATION}
    assert by_source["003_a4dd9689482457e2.txt"].title == "在全区重点项目建设推进会上的讲话"
    assert by_source["003_a4dd9689482457e2.txt"].paragraphs[0] == "同志们："
    assert not any("文档由" in p for s in by_source.values() for p in s.paragraphs)


def test_no_chunk_too_long(chunks):
    assert max(len(c.text) for c in chunks) <= 500


def test_no_toc_text_in_chunks(chunks):
    toc_entry = re.compile(r"^\d{1,2}\.\S.*(讲话|发言)\S*\s*\d+$", re.M)
    for chunk in chunks:
        assert "....." not in chunk.text and "目 录" not in chunk.text
        assert not toc_entry.search(chunk.text)
        assert "讲话合集" not in chunk.text


def test_chunks_stay_inside_one_speech(speeches, chunks):
    titles = {s.title for s in speeches}
    for chunk in chunks:
        # A title line inside a chunk would mean the chunk runs into the next speech.
        assert not any(line in titles for line in chunk.text.split("\n"))
    keys = [(c.source, c.speech_index) for c in chunks]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1]))


def test_chunk_ids_unique_and_positions_ordered(chunks):
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for source in {c.source for c in chunks}:
        assert [c.position for c in chunks if c.source == source] == \
            list(range(sum(1 for c in chunks if c.source == source)))


def test_page_break_reads_joined(chunks):
    assert any("仍处在恢复之中，我省" in c.text for c in chunks)
