"""Figures of how documents nobody here wrote are split and cut, against hand-written labels.

    python scripts/eval_structure.py [FOLDER] [--labels tests/data/real_docs_labels.json] [--verbose]

FOLDER defaults to ../shared/real-docs (relative to the repository root). Prints, per kind of
file and overall: titles right, labelled top-level headings present in heading paths,
passages holding page chrome, passages cut mid-sentence or over the length limit, and input
lines lost (neither in a passage, a title or a preamble, nor removed on purpose).

.txt files are read as they are. Until the readers package lands on this branch, .md files
are turned into blocks here with a few lines ("#" = level, emphasis markers dropped), and
.html/.shtml pages have their tags stripped crudely (scripts and styles dropped, the page
<title> offered as the title block); those figures are about the structure rules, not about
HTML extraction.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from searchkit.chunking import chunk_speeches  # noqa: E402
from searchkit.config import ChunkingSettings  # noqa: E402
from searchkit.documents import read_text, split_document, split_speeches  # noqa: E402

# What the product owner counts as chrome in a passage (see issue 13), and a few more shapes.
CHROME_PATTERNS = [r"下载\s*打印\s*全屏", r"您的位置", r"当前位置[：:]", r"ICP备", r"来源[：:]\S{0,12}日报",
                   r"责任编辑[：:]", r"【字号", r"分享到", r"微信扫一扫", r"Public domain", r"版权所有",
                   r"相关报道[：:]", r"收听本文", r"公有领域"]
_CHROME = re.compile("|".join(CHROME_PATTERNS))
_ENDS = re.compile(r"[。！？；!?;…：:”’」』）)》\]】]$")


@dataclass(frozen=True)
class Block:  # the readers' contract, enough for split_document
    text: str
    level: int | None = None


@dataclass(frozen=True)
class Doc:
    blocks: tuple[Block, ...]


def markdown_blocks(text: str) -> Doc:
    blocks = []
    for line in text.split("\n"):
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            blocks.append(Block(heading.group(2).strip(), len(heading.group(1)) - 1))
        else:
            blocks.append(Block(re.sub(r"\*\*|__|^\s*[-*+]\s+", "", line)))
    return Doc(tuple(blocks))


def html_blocks(text: str) -> Doc:
    title = re.search(r"(?is)<title>(.*?)</title>", text)
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>|<!--.*?-->", "", text)
    body = re.sub(r"(?i)<br\s*/?>|</(?:p|div|h\d|li|tr|table|section|article)>", "\n", body)
    lines = [html.unescape(line) for line in re.sub(r"<[^>]+>", "", body).split("\n")]
    blocks = [Block(line) for line in lines]
    if title:
        # A site's name after "_" / "-" / "|" is not part of the article's title.
        name = re.split(r"\s*[_|｜]\s*|\s+-\s+", html.unescape(title.group(1)).strip())[0]
        blocks.insert(0, Block(name, 0))
    return Doc(tuple(blocks))


def speeches_of(path: Path, source: str):
    text = read_text(path)
    if path.suffix == ".md":
        doc = markdown_blocks(text)
        return split_document(doc, source), "\n".join(b.text for b in doc.blocks)
    if path.suffix in (".html", ".htm", ".shtml"):
        doc = html_blocks(text)
        return split_document(doc, source), "\n".join(b.text for b in doc.blocks[1:])
    return split_speeches(text, source), text


def _key(text: str) -> str:
    return re.sub(r"[\s\u200b\u200c\u200d\u2060\ufeff]", "", text)


@dataclass
class Figures:
    files: int = 0
    titles: int = 0
    titles_right: int = 0
    headings: int = 0
    headings_found: int = 0
    passages: int = 0
    chrome: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    too_long: int = 0
    lines: int = 0
    lost: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def measure(path: Path, source: str, label: dict | None, figures: Figures, settings: ChunkingSettings) -> None:
    speeches, text = speeches_of(path, source)
    chunks = chunk_speeches(speeches, settings)
    figures.files += 1
    for reason, count in speeches.removed.items():
        figures.removed[reason] = figures.removed.get(reason, 0) + count
    if label is not None:
        figures.titles += 1
        title = speeches[0].title if speeches else ""
        if _key(title) == _key(label["title"]):
            figures.titles_right += 1
        else:
            figures.problems.append(f"{source}: title {title!r}, labelled {label['title']!r}")
        tops = {_key(c.heading[0]) for c in chunks if c.heading}
        for heading in label["headings"]:
            figures.headings += 1
            if any(_key(heading).startswith(top.rstrip("…")) and len(top) >= 2 for top in tops):
                figures.headings_found += 1
            else:
                figures.problems.append(f"{source}: heading {heading!r} not a top-level heading path")
    for chunk in chunks:
        figures.passages += 1
        if _CHROME.search(chunk.text):
            figures.chrome.append(f"{source}: {chunk.text[:80]!r}")
        if len(chunk.text) > settings.max_chars:
            figures.too_long += 1
        last_line = chunk.text.rsplit("\n", 1)[-1]
        if not _ENDS.search(chunk.text) and len(last_line) > 40:
            figures.cut.append(f"{source}: …{chunk.text[-40:]!r}")
    kept = _key("".join([c.text for c in chunks] + [s.title for s in speeches]
                        + [line for s in speeches for line in s.preamble]))
    dropped = {_key(line) for _, line in speeches.dropped}
    for line in text.split("\n"):
        key = _key(line)
        if len(key) >= 6:
            figures.lines += 1
            if key not in kept and key not in dropped:
                figures.lost.append(f"{source}: {line.strip()[:60]!r}")


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} % ({part}/{whole})" if whole else "n/a"


def report(kind: str, f: Figures, verbose: bool) -> None:
    print(f"== {kind}: {f.files} files, {f.passages} passages")
    print(f"   titles right                 {pct(f.titles_right, f.titles)}")
    print(f"   top-level headings in paths  {pct(f.headings_found, f.headings)}")
    print(f"   passages holding page chrome {len(f.chrome)}")
    print(f"   passages cut mid-sentence    {len(f.cut)}; over the length limit {f.too_long}")
    print(f"   input lines (>= 6 chars) lost {len(f.lost)} of {f.lines}")
    print(f"   removed on purpose           {dict(sorted(f.removed.items()))}")
    if verbose:
        for line in f.problems + f.chrome + f.cut + f.lost:
            print("     ", line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "real-docs"))
    parser.add_argument("--labels", default=str(ROOT / "tests" / "data" / "real_docs_labels.json"))
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    folder = Path(args.folder)
    labels = json.loads(Path(args.labels).read_text(encoding="utf-8"))["files"]
    settings = ChunkingSettings()
    by_kind: dict[str, Figures] = {}
    total = Figures()
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".txt", ".md", ".shtml", ".html", ".htm")
                       and not p.name.startswith("README")):
        source = path.relative_to(folder).as_posix()
        kind = path.suffix.lstrip(".")
        for figures in (by_kind.setdefault(kind, Figures()), total):
            measure(path, source, labels.get(source), figures, settings)
    for kind, figures in sorted(by_kind.items()):
        report(kind, figures, args.verbose)
    report("all", total, False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
