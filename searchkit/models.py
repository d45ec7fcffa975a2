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
    def from_dict(cls, data: dict) -> "Chunk":
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
