"""Small value types shared across modules."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Speech:
    """One speech: a title and its cleaned paragraphs (already reflowed, one per entry)."""

    title: str
    source: str  # path of the file relative to the corpus root, with "/" separators
    paragraphs: tuple[str, ...]
    index: int = 0  # position of the speech inside its file (0 for single-speech files)
    # The title block's other lines, in order: subtitle ("——…的讲话"), date line
    # ("——2023年1月12日在…上" / "（2023年1月12日）"), speaker line ("市长 王某某"), and text
    # kept but not indexed (a cover above a table of contents, a preview of the title).
    preamble: tuple[str, ...] = ()
    # Per paragraph, an outline level the file's format gave it (a Word heading style, a
    # Markdown "#"): 1 = top-level heading, ...; None = decide from the text. () = all None.
    levels: tuple[int | None, ...] = ()
    # Paragraphs that are headings by layout alone (a short line standing on its own
    # between blank lines, a bare numeral line), without a 一、-style marker.
    layout_headings: frozenset[int] = frozenset()
    speaker_candidate: str = ""  # e.g. from a file name "2023政府工作报告_王某某.txt"

    def level_of(self, paragraph_index: int) -> int | None:
        return self.levels[paragraph_index] if paragraph_index < len(self.levels) else None


class SpeechList(list):
    """The speeches of one file, and what was removed from its text on purpose.

    ``removed`` counts lines by reason ("page chrome", "page numbers", "table of contents",
    "running headers", "duplicate copy"), so that callers can say what was left out;
    ``warnings`` holds one-line notes (a second copy of the report noticed, ...).
    """

    def __init__(self, speeches=(), removed: dict[str, int] | None = None,
                 warnings: list[str] | None = None, dropped: list[tuple[str, str]] | None = None):
        super().__init__(speeches)
        self.removed: dict[str, int] = dict(removed or {})
        self.warnings: list[str] = list(warnings or [])
        self.dropped: list[tuple[str, str]] = list(dropped or [])  # (reason, line) of what was removed
        self.properties: dict[str, str] = {}  # the file's own metadata (.docx author, created)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: one section (or part of a long one) of one speech."""

    chunk_id: str  # stable across rebuilds as long as the file's content is unchanged
    source: str
    title: str
    heading: tuple[str, ...]  # outer -> inner section headings; () for the speech's preamble
    text: str  # the passage, including its own heading line where the section starts
    speech_index: int = 0
    position: int = 0  # order of the chunk within its file

    def to_dict(self) -> dict:
        return {
            "chunk_id": self.chunk_id,
            "source": self.source,
            "title": self.title,
            "heading": list(self.heading),
            "text": self.text,
            "speech_index": self.speech_index,
            "position": self.position,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        return cls(
            chunk_id=data["chunk_id"],
            source=data["source"],
            title=data["title"],
            heading=tuple(data["heading"]),
            text=data["text"],
            speech_index=data.get("speech_index", 0),
            position=data.get("position", 0),
        )


@dataclass
class Hit:
    """One ranked search result with the evidence from each side of the hybrid ranker."""

    chunk: Chunk
    score: float
    rank: int = 0
    keyword_rank: int | None = None
    keyword_score: float | None = None
    vector_rank: int | None = None
    vector_score: float | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)  # all files holding this text
    speech: dict | None = None  # the passage's speech metadata (SpeechMetadata.to_json)
