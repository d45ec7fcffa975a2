"""Structure on documents nobody here wrote (../shared/real-docs), against hand-written labels.

The labels (tests/data/real_docs_labels.json) give each file's own title and top-level
headings; scripts/eval_structure.py prints the same figures for people. The documents are
not copied into the repository: without ../shared these tests are skipped.
"""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from searchkit.chunking import chunk_speeches
from searchkit.config import ChunkingSettings

ROOT = Path(__file__).resolve().parent.parent
REAL_DOCS = ROOT.parent / "shared" / "real-docs"
LABELS = json.loads((ROOT / "tests" / "data" / "real_docs_labels.json").read_text(encoding="utf-8"))["files"]

pytestmark = pytest.mark.skipif(not REAL_DOCS.is_dir(), reason="../shared/real-docs not present")

# Page chrome found by reading passages of these documents (and the shapes the product
# owner scores): none of it may ever reach a passage again.
CHROME_REGRESSIONS = [
    r"下载\s*打印\s*全屏", r"您的位置", r"ICP备", r"来源[：:]\S{0,12}日报", r"责任编辑[：:]", r"【字号",
    r"分享到", r"微信扫一扫", r"收听本文", r"00:00/00:00", r"Public domain", r"公有领域", r"版权所有",
    r"本作品(?:是|来自)", r"维基文库", r"版权失效模板", r"CPC \d", r"^↑$", r"网站地图", r"相关报道[：:]",
]


def _script():
    if "eval_structure" not in sys.modules:
        spec = importlib.util.spec_from_file_location("eval_structure", ROOT / "scripts" / "eval_structure.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["eval_structure"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["eval_structure"]


@pytest.fixture(scope="module")
def figures():
    script = _script()
    settings = ChunkingSettings()
    result = script.Figures()
    files = sorted(p for p in REAL_DOCS.rglob("*") if p.suffix in (".txt", ".md", ".shtml")
                   and not p.name.startswith("README"))
    for path in files:
        source = path.relative_to(REAL_DOCS).as_posix()
        script.measure(path, source, LABELS.get(source), result, settings)
    return result


@pytest.fixture(scope="module")
def all_chunks():
    script = _script()
    chunks = []
    for path in sorted(REAL_DOCS.rglob("*")):
        if path.suffix in (".txt", ".md", ".shtml") and not path.name.startswith("README"):
            speeches, _ = script.speeches_of(path, path.name)
            chunks += chunk_speeches(speeches)
    return chunks


def test_every_labelled_file_is_there():
    missing = [source for source in LABELS if not (REAL_DOCS / source).exists()]
    assert missing == []


def test_titles_are_right(figures):
    assert figures.titles == len(LABELS)
    assert figures.titles_right / figures.titles >= 0.95, figures.problems


def test_top_level_headings_are_in_heading_paths(figures):
    assert figures.headings_found / figures.headings >= 0.95, figures.problems


def test_no_passage_cut_mid_sentence_or_too_long(figures):
    assert figures.cut == [] and figures.too_long == 0


def test_nothing_of_the_text_disappears(figures):
    # Every input line of 6+ characters is in a passage, a title or a preamble, or was
    # removed on purpose and counted (page chrome, page numbers, TOC, duplicates).
    assert figures.lines > 4000 and figures.lost == []


@pytest.mark.parametrize("pattern", CHROME_REGRESSIONS)
def test_no_passage_holds_page_chrome(all_chunks, pattern):
    regex = re.compile(pattern, re.M)
    holding = [c.chunk_id for c in all_chunks if regex.search(c.text)]
    assert holding == []


def test_chrome_and_licence_footers_are_counted(figures):
    assert figures.removed.get("page chrome", 0) > 100
