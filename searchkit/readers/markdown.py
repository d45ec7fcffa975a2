"""Markdown (.md), parsed with markdown-it-py (MIT; CommonMark plus tables).

- A single `#` heading at the top is the document's title (level 0); the other headings
  keep their rank as levels 1, 2, … (`##` → 1 under such a title; with several `#`
  headings, `#` → 1, `##` → 2).
- Emphasis, links, images, inline HTML and list bullets are markup, not text: only their
  text stays. Ordered list items keep their number ("1. …"), as the file shows it.
- A paragraph wrapped over several source lines is one block (no space inserted between
  Chinese characters); tables become one block per row, cells joined by a tab.
- YAML front matter (`---` … `---` at the top) gives properties (title, date, author …).
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import Block, Document, clean_properties, paragraph_blocks
from .text import read_text

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_CJK_END = re.compile(r"[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f“”‘’]$")
_CJK_START = re.compile(r"^[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f“”‘’]")
_TAG = re.compile(r"<[^>]+>")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    found = {}
    for line in match.group(1).split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t")):
            found[key.strip().lower()] = value.strip().strip("\"'")
    return found, text[match.end():]


def _join(parts: list[str]) -> str:
    """Source lines of one paragraph: joined without a space between Chinese text."""
    out = ""
    for part in parts:
        part = part.strip()
        if out and part and not (_CJK_END.search(out) or _CJK_START.search(part)):
            out += " "
        out += part
    return out


def _inline_text(token) -> list[str]:
    """The text of an inline token, markup removed; hard breaks split it into lines."""
    lines: list[list[str]] = [[""]]
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            lines[-1][-1] += child.content
        elif child.type == "softbreak":
            lines[-1].append("")
        elif child.type == "hardbreak" or (child.type == "html_inline" and child.content.lower().startswith("<br")):
            lines.append([""])
    return [text for text in (_join(parts) for parts in lines) if text.strip()]


def _blocks(tokens) -> list[Block]:
    blocks: list[Block] = []
    ordered: list[int | None] = []  # next number of each open list (None: bullets)
    row: list[str] | None = None
    heading: int | None = None
    number = ""  # an ordered list item's number, put before its first line
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading = int(token.tag[1])
        elif kind == "heading_close":
            heading = None
        elif kind in ("bullet_list_open", "ordered_list_open"):
            ordered.append(int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            ordered.pop()
        elif kind == "list_item_open" and ordered and ordered[-1] is not None:
            number = f"{ordered[-1]}. "
            ordered[-1] += 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            blocks.append(Block("\t".join(row)))
            row = None
        elif kind == "inline":
            lines = _inline_text(token)
            if row is not None:
                row.append(" ".join(lines))
                continue
            for text in lines:
                blocks.append(Block(number + text, heading))
                number = ""
        elif kind in ("fence", "code_block"):
            blocks += [Block(line) for line in token.content.split("\n") if line.strip()]
        elif kind == "html_block":
            blocks += [Block(line.strip()) for line in _TAG.sub("", token.content).split("\n") if line.strip()]
    return blocks


def _levels(blocks: list[Block]) -> list[Block]:
    """A single `#` at the top is the title (0); the other heading ranks become 1, 2, …"""
    h1 = [i for i, b in enumerate(blocks) if b.level == 1]
    title = h1[0] if len(h1) == 1 and h1[0] == 0 else None
    ranks = sorted({b.level for i, b in enumerate(blocks) if b.level is not None and i != title})
    return [Block(b.text, 0 if i == title else (ranks.index(b.level) + 1 if b.level is not None else None))
            for i, b in enumerate(blocks)]


class MarkdownReader:
    suffixes = (".md", ".markdown")

    def read(self, path: Path) -> Document:
        from markdown_it import MarkdownIt  # imported on first use

        found, text = _front_matter(read_text(path).replace("\r\n", "\n"))
        parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        blocks = _levels(_blocks(parser.parse(text)))
        title = found.get("title") or (blocks[0].text if blocks and blocks[0].level == 0 else None)
        properties = clean_properties({**found, "title": title})
        return Document(paragraph_blocks(blocks), properties)
