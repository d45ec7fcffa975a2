"""The shape every reader returns: a document of blocks, plus what the file says about itself."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Block:
    """One paragraph (or one physical line of a plain-text file); "" is a blank line."""

    text: str
    # Outline level given by the format itself: 0 = the document's title, 1 = top-level
    # heading, 2, 3 …; None = body text or unknown (plain text leaves it to the heading rules).
    level: int | None = None


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    # Metadata candidates from the file: "title", "author", "created" (ISO date), "subject", …
    properties: Mapping[str, str] = field(default_factory=dict)
    # What the reader dropped on purpose, counted: {"running_header": 12, "page_number": 30, …}
    removed: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def text(self) -> str:
        """The blocks joined by newlines: what a plain-text pipeline sees."""
        return "\n".join(block.text for block in self.blocks)


class Reader(Protocol):
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> Document: ...


def paragraph_blocks(paragraphs) -> tuple[Block, ...]:
    """Blocks for formats whose paragraphs are known: a blank line between two paragraphs,
    so that a plain-text pipeline sees the same paragraph breaks the file has."""
    blocks: list[Block] = []
    for paragraph in paragraphs:
        if blocks:
            blocks.append(Block(""))
        blocks.append(paragraph)
    return tuple(blocks)


# Values that producing programs write when the author left a field empty: not metadata.
_PLACEHOLDERS = {"untitled", "anonymous", "unspecified", "unknown", "无标题", "未命名", "administrator", "user"}


def clean_properties(found: Mapping[str, str | None]) -> dict[str, str]:
    """Non-empty, stripped property values, without producers' placeholders."""
    return {key: value.strip() for key, value in found.items()
            if value and value.strip() and value.strip().lower() not in _PLACEHOLDERS}
