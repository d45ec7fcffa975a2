"""Unusual corpus files, queries and arguments: each is indexed correctly or skipped with a
warning naming it, and one bad file never aborts the build. The table in
docs/unusual-inputs.md lists every case and the test below (or elsewhere) that covers it.

Tests run as root, so `chmod 000` cannot make a file unreadable: a PermissionError is
raised from Path.read_bytes instead (the only way corpus.py and documents.py read files).
"""
from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from searchkit.config import ChunkingSettings
from searchkit.corpus import scan_corpus
from searchkit.indexer import build_index
from searchkit.searcher import SIMILAR_MAX_CHARS, Searcher

ROOT = Path(__file__).resolve().parent.parent

# A speech whose key phrases occur nowhere else; {marker} makes each file's copy unique.
RURAL = """在全县乡村振兴推进会上的讲话
同志们：
今天召开全县乡村振兴推进会，主要任务是总结前一阶段工作，部署下一步任务。
一、发展特色产业
要大力发展{marker}和竹编手工艺，带动群众增收致富，让乡亲们的钱袋子鼓起来。
二、改善人居环境
持续开展村庄清洁行动，推进厕所革命和生活污水治理，建设美丽宜居乡村。
"""

UNDECODABLE = bytes([0x81, 0x20, 0xFE, 0x7F, 0xFF, 0x80]) * 200  # no UTF-8/16, GB18030 or Big5 reads it


def keyword_hits(settings, query: str, k: int = 10):
    return Searcher(settings).search(query, k=k, mode="keyword").hits


def skipped_of(report) -> dict[str, str]:
    return {s.source: s.reason for s in report.skipped}


def assert_good_files_indexed(settings, report):
    """The two fixture speeches are still indexed, whatever else the corpus holds."""
    assert {"a.txt", "b.txt"} <= set(report.added) and report.generation is not None
    assert any("招商引资" in h.chunk.text for h in keyword_hits(settings, "招商引资"))
    assert any("双过半" in h.chunk.text for h in keyword_hits(settings, '"双过半"'))


from conftest import cli_error  # noqa: E402

# --------------------------------------------------------------------------- encodings

ENCODED = {  # id: (codec, phrase unique to that file)
    "utf-8": ("utf-8", "茶叶种植"),
    "utf-8-bom": ("utf-8-sig", "蚕桑养殖"),
    "gbk": ("gbk", "柑橘种植"),
    "gb18030": ("gb18030", "𠮷菇栽培"),  # 𠮷 (U+20BB7) needs GB18030's four-byte form, GBK lacks it
    "utf-16-bom": ("utf-16", "油茶种植"),
    "utf-16-le-no-bom": ("utf-16-le", "莲藕种植"),  # NUL bytes suggest UTF-16; the decode must read as text
    "utf-16-be-no-bom": ("utf-16-be", "菱角种植"),
}


@pytest.mark.parametrize("name", list(ENCODED))
def test_encoded_file_is_read_correctly(settings, fake_embedder, name):
    codec, phrase = ENCODED[name]
    text = RURAL.format(marker=phrase)
    data = text.encode(codec)
    if name == "utf-8-bom":
        assert data.startswith(codecs.BOM_UTF8)
    if name == "utf-16-bom":
        assert data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if name.endswith("no-bom"):
        assert data[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    (settings.corpus_dir / f"{name}.txt").write_bytes(data)
    report = build_index(settings, embedder=fake_embedder)
    assert report.skipped == []
    hits = keyword_hits(settings, f'"{phrase}"')
    assert [h.chunk.source for h in hits] == [f"{name}.txt"]
    # Decoded, not just found: the whole sentence reads back exactly, BOM gone.
    assert f"要大力发展{phrase}和竹编手工艺，带动群众增收致富" in hits[0].chunk.text
    assert hits[0].chunk.title == "在全县乡村振兴推进会上的讲话"
    assert_good_files_indexed(settings, report)


def test_undecodable_file_is_skipped_with_a_warning_naming_it(settings, fake_embedder):
    (settings.corpus_dir / "garbled.txt").write_bytes(UNDECODABLE)
    report = build_index(settings, embedder=fake_embedder)
    reason = skipped_of(report)["garbled.txt"]
    assert "garbled.txt" in reason and "not a readable text file" in reason and "\n" not in reason
    assert "garbled.txt" not in {h.chunk.source for h in keyword_hits(settings, "招商引资")}
    assert_good_files_indexed(settings, report)


# --------------------------------------------------------------------------- odd files

@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (codecs.BOM_UTF8, "only whitespace"),
], ids=["zero-bytes", "bom-only"])
def test_empty_file_is_skipped(settings, fake_embedder, content, reason):
    (settings.corpus_dir / "empty.txt").write_bytes(content)
    (settings.corpus_dir / "also-empty.txt").write_bytes(content)  # same hash: both still named
    report = build_index(settings, embedder=fake_embedder)
    skipped = skipped_of(report)
    assert set(skipped) == {"empty.txt", "also-empty.txt"}
    assert all(reason in r for r in skipped.values())
    assert "empty.txt" not in report.added
    assert_good_files_indexed(settings, report)


def test_whitespace_only_file_is_skipped(settings, fake_embedder):
    (settings.corpus_dir / "blank.txt").write_bytes(b"  \n\t\r\n   \n\n")
    (settings.corpus_dir / "blank-fullwidth.txt").write_text("\u3000\u3000\n \u00a0\n", encoding="utf-8")
    (settings.corpus_dir / "blank-utf16.txt").write_bytes(" \n\n  ".encode("utf-16"))
    report = build_index(settings, embedder=fake_embedder)
    skipped = skipped_of(report)
    assert set(skipped) == {"blank.txt", "blank-fullwidth.txt", "blank-utf16.txt"}
    assert all("whitespace" in r for r in skipped.values()), skipped
    assert_good_files_indexed(settings, report)


def _zip_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:  # what a .docx is
        archive.writestr("word/document.xml", "<w:t>同志们：</w:t>" * 200)
    return buffer.getvalue()


BINARIES = {
    "png": lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 40,
    "docx": _zip_bytes,
    "executable": lambda: Path(sys.executable).resolve().read_bytes()[:200_000],
    "random": lambda: os.urandom(8192),
}


@pytest.mark.parametrize("kind", list(BINARIES))
def test_binary_file_renamed_txt_is_skipped(settings, fake_embedder, kind):
    (settings.corpus_dir / f"{kind}.txt").write_bytes(BINARIES[kind]())
    report = build_index(settings, embedder=fake_embedder)
    reason = skipped_of(report)[f"{kind}.txt"]
    assert "not a readable text file" in reason
    assert_good_files_indexed(settings, report)


def test_20mb_file_reads_and_chunks_in_bounded_time_and_memory(tmp_path):
    """The full build of 20 MB (~20,000 passages) takes minutes - keyword indexing is the
    bottleneck, ~60 passages/s - so this covers read + split + chunk only, in a fresh
    process so that its peak memory can be measured; see docs/unusual-inputs.md."""
    bodies = []
    for name in ("002_6c3e1b456d51acac.txt", "004_d308ad772985fa49.txt", "000_fcda3296baa12e59.txt"):
        lines = [line for line in (ROOT / "corpus" / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        bodies.append("\n".join(line for line in lines if line.strip() != "同志们："))
    parts, size, n = [], 0, 0
    while size < 20 * 2**20:
        part = (f"在全区第{n}次经济运行分析会上的讲话\n同志们：\n本次会议的登记编号为KX{n:05d}号。\n"
                f"{bodies[n % len(bodies)]}\n")
        parts.append(part)
        size += len(part.encode("utf-8"))
        n += 1
    big = tmp_path / "big.txt"
    big.write_text("".join(parts), encoding="utf-8")
    del parts
    script = r"""
import json, re, resource, sys, time
from collections import Counter
from pathlib import Path
from searchkit.chunking import chunk_file
start = time.perf_counter()
chunks = chunk_file(Path(sys.argv[1]), Path(sys.argv[1]).parent)
seconds = time.perf_counter() - start
markers = Counter(m for c in chunks for m in re.findall(r"KX\d{5}", c.text))
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would report pytest's own peak.
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_mb": hwm_kb / 1024,
                  "chunks": len(chunks), "speeches": len({c.speech_index for c in chunks}),
                  "max_chars": max(len(c.text) for c in chunks), "markers": markers,
                  "titles_ok": all(re.fullmatch(r"在全区第\d+次经济运行分析会上的讲话", c.title) for c in chunks)}))
"""
    done = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True,
                          timeout=120, check=True)
    result = json.loads(done.stdout)
    assert result["speeches"] == n and result["titles_ok"]
    assert result["markers"] == {f"KX{i:05d}": 1 for i in range(n)}  # every copy, exactly once
    assert result["max_chars"] <= ChunkingSettings().max_chars
    assert result["chunks"] > 15 * n  # ~7,000-character speeches in <= 500-character passages
    assert result["peak_mb"] < 500, result  # ~65 MB measured: a few copies of the text, no blow-up


TREES = ["梧桐", "银杏", "香樟", "白杨", "垂柳", "松柏", "翠竹", "腊梅", "海棠", "玉兰", "紫藤", "芙蓉"]


def test_file_without_headings_is_chunked_by_paragraphs(settings, fake_embedder):
    paragraphs = ["各级各部门要认真贯彻落实会议精神，把各项工作抓实抓细抓出成效。" * 4
                  + f"这一段的标记是{tree}林。" for tree in TREES]
    (settings.corpus_dir / "plain.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert report.skipped == []
    hits = keyword_hits(settings, '"标记是海棠林"')
    assert [h.chunk.source for h in hits] == ["plain.txt"]
    chunk = hits[0].chunk
    assert chunk.heading == () and chunk.title  # no outline; a title derived from the text
    assert paragraphs[8] in chunk.text.split("\n")  # cut between paragraphs, never inside one
    assert len(chunk.text) <= ChunkingSettings().max_chars
    every = [h.chunk for h in keyword_hits(settings, "标记", k=50) if h.chunk.source == "plain.txt"]
    assert len(every) > 1  # 12 x ~130 characters do not fit in one passage
    assert sorted(p for c in every for p in c.text.split("\n")) == sorted(paragraphs)
    assert_good_files_indexed(settings, report)


def test_file_that_is_only_a_table_of_contents_is_skipped(settings, fake_embedder):
    (settings.corpus_dir / "toc.txt").write_text(
        "讲话合集\n目 录\n1.在全市经济工作会议上的讲话.....5\n2.在全县项目建设推进会上的讲话.....11\n"
        "3.在全区安全生产工作会议上的讲话.....20\n", encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert "table of contents" in skipped_of(report)["toc.txt"]
    assert_good_files_indexed(settings, report)


def test_same_content_under_two_names_is_indexed_once_with_both_names(settings, fake_embedder):
    (settings.corpus_dir / "copy of a.txt").write_bytes((settings.corpus_dir / "a.txt").read_bytes())
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["a.txt", "b.txt", "copy of a.txt"] and report.skipped == []
    hits = keyword_hits(settings, "招商引资", k=50)
    assert all(h.chunk.source == "a.txt" for h in hits if "招商" in h.chunk.text)  # chunked once
    assert set(hits[0].sources) == {"a.txt", "copy of a.txt"}


def test_files_in_nested_folders_are_indexed_with_relative_paths(settings, fake_embedder):
    deep = settings.corpus_dir / "2023" / "县政府" / "常务会议"
    deep.mkdir(parents=True)
    (deep / "rural.txt").write_text(RURAL.format(marker="茶叶种植"), encoding="utf-8")
    (settings.corpus_dir / ".hidden").mkdir()
    (settings.corpus_dir / ".hidden" / "x.txt").write_text(RURAL.format(marker="隐藏目录"), encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["2023/县政府/常务会议/rural.txt", "a.txt", "b.txt"]
    assert keyword_hits(settings, '"茶叶种植"')[0].chunk.source == "2023/县政府/常务会议/rural.txt"
    assert keyword_hits(settings, '"隐藏目录"') == []  # dot-folders are not part of the corpus


def test_symlinked_file_and_folder_are_followed(settings, fake_embedder, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "rural.txt").write_text(RURAL.format(marker="茶叶种植"), encoding="utf-8")
    os.symlink(outside, settings.corpus_dir / "linked-folder")
    os.symlink(settings.corpus_dir / "a.txt", settings.corpus_dir / "link-to-a.txt")
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["a.txt", "b.txt", "link-to-a.txt", "linked-folder/rural.txt"]
    assert keyword_hits(settings, '"茶叶种植"')[0].chunk.source == "linked-folder/rural.txt"
    assert set(keyword_hits(settings, "招商引资")[0].sources) == {"a.txt", "link-to-a.txt"}


def test_symlink_loop_does_not_hang_or_duplicate(settings, fake_embedder):
    sub = settings.corpus_dir / "sub"
    sub.mkdir()
    (sub / "rural.txt").write_text(RURAL.format(marker="茶叶种植"), encoding="utf-8")
    os.symlink("..", sub / "up")  # sub/up/sub/up/... forever if followed naively
    os.symlink(".", settings.corpus_dir / "here")
    os.symlink("self.txt", settings.corpus_dir / "self.txt")  # a link to itself (ELOOP)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(scan=scan_corpus(settings.corpus_dir)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "scan_corpus did not finish: symlink loop followed"
    files, skipped = result["scan"]
    assert [f.source for f in files] == ["a.txt", "b.txt", "sub/rural.txt"]
    assert [s.source for s in skipped] == ["self.txt"]
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["a.txt", "b.txt", "sub/rural.txt"]
    assert [h.chunk.source for h in keyword_hits(settings, '"茶叶种植"')] == ["sub/rural.txt"]


def test_dangling_symlink_is_skipped(settings, fake_embedder):
    os.symlink(settings.corpus_dir / "deleted.txt", settings.corpus_dir / "dangling.txt")
    report = build_index(settings, embedder=fake_embedder)
    assert skipped_of(report) == {"dangling.txt": "broken symlink or vanished file"}
    assert_good_files_indexed(settings, report)


def test_unreadable_file_is_skipped(settings, fake_embedder, monkeypatch):
    locked = settings.corpus_dir / "locked.txt"
    locked.write_text(RURAL.format(marker="茶叶种植"), encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = build_index(settings, embedder=fake_embedder)
    assert skipped_of(report) == {"locked.txt": "unreadable (Permission denied)"}
    assert_good_files_indexed(settings, report)


def test_file_unreadable_after_the_scan_is_skipped(settings, fake_embedder, monkeypatch):
    """Readable while scanned, gone unreadable when chunked (documents.read_text)."""
    (settings.corpus_dir / "locked.txt").write_text(RURAL.format(marker="茶叶种植"), encoding="utf-8")
    real_read_bytes = Path.read_bytes
    calls: list[str] = []

    def read_bytes(self):  # the scan's read succeeds; the second read (chunking) fails
        calls.append(self.name)
        if self.name == "locked.txt" and calls.count("locked.txt") > 1:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = build_index(settings, embedder=fake_embedder)
    reason = skipped_of(report)["locked.txt"]
    assert "cannot read" in reason and "Permission denied" in reason
    assert_good_files_indexed(settings, report)


def test_fifo_named_txt_is_skipped_without_blocking(settings, fake_embedder):
    os.mkfifo(settings.corpus_dir / "pipe.txt")  # opening it for reading would wait forever
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(
        report=build_index(settings, embedder=fake_embedder)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the build blocked on a FIFO"
    report = result["report"]
    assert "not a regular file" in skipped_of(report)["pipe.txt"]
    assert_good_files_indexed(settings, report)


# --------------------------------------------------------------------------- the build as a whole

def _bad_files(corpus: Path) -> set[str]:
    """One of every kind of file that must be skipped; returns their names."""
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.txt").write_bytes(b" \n\n")
    (corpus / "garbled.txt").write_bytes(UNDECODABLE)
    (corpus / "image.txt").write_bytes(BINARIES["png"]())
    (corpus / "toc.txt").write_text("目录\n1.在全市经济工作会议上的讲话.....5\n2.在全县项目建设推进会上的讲话.....11\n",
                                    encoding="utf-8")
    os.symlink(corpus / "deleted.txt", corpus / "dangling.txt")
    os.mkfifo(corpus / "pipe.txt")
    return {"empty.txt", "blank.txt", "garbled.txt", "image.txt", "toc.txt", "dangling.txt", "pipe.txt"}


def test_one_bad_file_never_aborts_the_build(settings, fake_embedder):
    bad = _bad_files(settings.corpus_dir)
    (settings.corpus_dir / "gbk.txt").write_bytes(RURAL.format(marker="柑橘种植").encode("gbk"))
    report = build_index(settings, embedder=fake_embedder)
    assert set(skipped_of(report)) == bad
    assert all(reason.strip() and "\n" not in reason for reason in skipped_of(report).values())
    assert_good_files_indexed(settings, report)
    assert keyword_hits(settings, '"柑橘种植"')[0].chunk.source == "gbk.txt"


def test_index_summary_lists_every_skipped_file_and_why(run, settings):
    bad = _bad_files(settings.corpus_dir)
    result = run("index")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()  # one line per skipped file, however long its reason
    assert len(lines) == len(bad) and all(line.startswith("warning: skipped ") for line in lines)
    assert {line.removeprefix("warning: skipped ").split(":")[0] for line in lines} == bad
    for reason in ("empty file", "only whitespace", "not a readable text file", "table of contents",
                   "broken symlink", "not a regular file"):
        assert any(reason in line for line in lines), reason
    assert f"{len(bad)} skipped" in result.stdout
    data = json.loads(run("index", "--rebuild", "--json").stdout)
    assert {s["source"] for s in data["skipped"]} == bad and all(s["reason"] for s in data["skipped"])


def test_strict_makes_a_skipped_file_fatal(run, settings):
    (settings.corpus_dir / "garbled.txt").write_bytes(UNDECODABLE)
    cli_error(run("index", "--strict"), 1, "error: garbled.txt: ", "(--strict makes skipped files fatal)")
    cli_error(run("search", "招商引资"), 1, "no index at")  # nothing was published
    assert run("index").exit_code == 0  # without --strict the same corpus builds


def test_warnings_and_notices_are_one_line_however_long(run, settings):
    (settings.corpus_dir / "garbled.txt").write_bytes(UNDECODABLE)
    lines = [line for line in run("index").stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: skipped garbled.txt:")
    lines = [line for line in run("similar", "招商引资" * 300).stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("note:")


def test_every_copy_of_a_bad_file_is_named_and_none_counted_as_added(settings, fake_embedder):
    (settings.corpus_dir / "garbled.txt").write_bytes(UNDECODABLE)
    (settings.corpus_dir / "garbled copy.txt").write_bytes(UNDECODABLE)
    report = build_index(settings, embedder=fake_embedder)
    assert set(skipped_of(report)) == {"garbled.txt", "garbled copy.txt"}
    assert report.added == ["a.txt", "b.txt"]


# --------------------------------------------------------------------------- queries and arguments

def test_similar_with_a_100k_character_paragraph_truncates_with_a_notice(run):
    assert run("index").exit_code == 0
    # Not copied from the corpus: `similar` leaves out passages the paragraph contains.
    drafted = ("我们打算在明年继续做好招商引资，重点引进新能源汽车零部件企业，"
               "同时督促工程建设领域按时足额发放农民工工资，防止出现新的拖欠。")
    paragraph = (drafted * (100_000 // len(drafted) + 1))[:100_000]
    result = run("similar", "--json", "-k", "3", input=paragraph)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["results"]) > 0
    [notice] = result.stderr.splitlines()  # one notice, on one line
    assert notice.startswith("note:") and "100000 characters" in notice
    assert f"reads the first {SIMILAR_MAX_CHARS}" in notice


@pytest.mark.parametrize("query, expect", [
    ("招商 AND OR NOT", "招商"),
    ("招商*", "招商"),
    ('"双过半', "双过半"),  # unbalanced quote
    ("(招商引资", "招商引资"),  # unbalanced bracket
    ("title:招商引资", "招商引资"),  # not a field query
    ("招商~2^3", "招商"),
    ("[招商 TO 引资}", "招商"),
])
def test_query_syntax_characters_are_plain_text(run, query, expect):
    assert run("index").exit_code == 0
    result = run("search", query, "--mode", "keyword", "--json")
    assert result.exit_code == 0, result.output
    assert any(expect in r["text"] for r in json.loads(result.stdout)["results"])


@pytest.mark.parametrize("query", ["*", "\"\"", "()"])
def test_query_of_syntax_only_is_an_input_error(run, query):
    assert run("index").exit_code == 0
    cli_error(run("search", query), 2, f"the query {query!r} has no words to search for (only punctuation)")


def test_a_syntax_word_is_searched_as_a_word(run):
    assert run("index").exit_code == 0
    result = run("search", "AND", "--mode", "keyword", "--json")
    assert result.exit_code == 0 and result.exception is None
    assert json.loads(result.stdout)["results"] == []  # no passage holds "and"


def test_empty_index_folder_says_run_index(run, tmp_path):
    empty = tmp_path / "empty-index"
    empty.mkdir()
    for args in (["search", "招商引资"], ["similar", "招商引资的措施"], ["status"]):
        cli_error(run(*args, "--index", str(empty)), 1, f"no index at {empty}; run `searchkit index` to build it")


def test_a_bad_file_does_not_force_a_new_generation_every_time(settings, fake_embedder):
    (settings.corpus_dir / "garbled.txt").write_bytes(UNDECODABLE)
    first = build_index(settings, embedder=fake_embedder)
    again = build_index(settings, embedder=fake_embedder)
    assert again.up_to_date and again.generation == first.generation
    assert skipped_of(again) == skipped_of(first)


def test_quoted_phrase_spanning_digits(settings, fake_embedder):
    from searchkit.searcher import Searcher

    (settings.corpus_dir / "d.txt").write_text("关于项目编号的讲话\n一、明确编号乙007号地块的规划。\n", encoding="utf-8")
    build_index(settings, embedder=fake_embedder)
    hits = Searcher(settings).search('"编号乙007号"', mode="keyword").hits
    assert hits and all("编号乙007号" in h.chunk.text for h in hits)
