"""Split speeches into retrievable chunks along their section outline.

Chinese government speeches number their sections with a handful of marker forms
(``一、`` ``（一）`` ``第一，`` ``1、`` ``（1）`` ``一是`` ``一要`` ...), but every speech mixes
them differently, so levels are not fixed per form: an outline stack assigns the level
by the order in which forms first appear (like a word processor's outline).

A chunk is one section, or a sentence-aligned part of a long one. Short neighbouring
sections of one speech are merged when they are siblings or parent + children; the
merged chunk's ``heading`` is the common prefix of the merged sections' heading paths,
so it never names a section whose text is only partly inside.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .config import ChunkingSettings
from .models import Chunk, Speech

_CN_NUMERAL = "[一二三四五六七八九十]{1,3}"

# (form, pattern) - the first pattern that matches a paragraph's start wins.
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("paren_cn", re.compile(rf"^[（(]({_CN_NUMERAL})[）)]、?")),
    ("paren_arabic", re.compile(r"^[（(](\d{1,2})[）)]、?")),
    ("circled", re.compile(r"^([①-⑳])")),
    # "一、二季度" / "一、二、三产业" enumerate quarters or sectors, they are not headings.
    ("cn_dun", re.compile(rf"^({_CN_NUMERAL})、(?!{_CN_NUMERAL}[、季月产])")),
    # "第一，" / "第一、" / "第一是" / "第一个问题：" - but not "第一季度" / "第一次".
    ("ordinal", re.compile(rf"^第({_CN_NUMERAL})(?:个问题|个方面)?(?:[，,、：:]|是)")),
    # "1、" / "1." / "1．" - but not "1.5%" / "1、2月" / "2023年".
    ("arabic", re.compile(r"^(\d{1,2})(?:[、．]|\.)(?![\d%．.])")),
    # Paragraph-leading enumerations; "一是" in mid-paragraph is never looked at.
    ("enum_shi", re.compile(rf"^({_CN_NUMERAL})是(?![的否])")),
    ("enum_yao", re.compile(rf"^({_CN_NUMERAL})要(?![素求])")),
)
WEAK_FORMS = frozenset({"enum_shi", "enum_yao"})
# Forms that, at a line start, begin a new paragraph even after a line cut mid-sentence.
# Ordinals ("...居全省" + "第一，") and circled digits often continue a sentence instead.
_BREAKING_FORMS = frozenset({"paren_cn", "paren_arabic", "cn_dun", "arabic"})

_SENTENCE_STOP = "。！？；!?;"
_HEADING_MAX_CHARS = 60  # a heading sentence longer than this is body text
_STANDALONE_HEADING_MAX = 45  # a marker line without stops, longer than this, is wrapped body
_WEAK_STANDALONE_MAX = 16


@dataclass(frozen=True)
class Heading:
    """A section start found at the beginning of a paragraph."""

    form: str  # which marker family, see _MARKERS
    numeral: str  # "一", "2", ... as written
    text: str  # the heading itself (the whole paragraph or its first sentence)
    standalone: bool  # True when the paragraph is only the heading, without body text


def _match_marker(text: str) -> tuple[str, re.Match[str]] | None:
    for form, pattern in _MARKERS:
        match = pattern.match(text)
        if match:
            return form, match
    return None


def _first_sentence_end(text: str) -> int:
    """Index just past the first sentence stop (and closing quotes after it), or -1."""
    match = re.search(rf"[{_SENTENCE_STOP}]+[”’」』）)]*", text)
    return match.end() if match else -1


def _clip_heading(sentence: str) -> str:
    """A usable heading from a too-long first sentence: its first clause, at most 40 chars."""
    clause = re.match(r"[^，,：:]+[，,：:]?", sentence)
    text = clause.group(0) if clause else sentence
    return text if len(text) <= 40 else text[:40] + "…"


def parse_heading(paragraph: str) -> Heading | None:
    """The heading a paragraph starts with, or None when it is ordinary body text."""
    found = _match_marker(paragraph)
    if found is None:
        return None
    form, match = found
    rest = paragraph[match.end():].lstrip()
    if not rest or not re.match(r"[\u4e00-\u9fff“\"《‘A-Za-z0-9（(]", rest):
        return None
    end = _first_sentence_end(paragraph)
    if end == -1 or end >= len(paragraph.rstrip()):
        # One sentence (or none): the paragraph is the heading, unless it is a body paragraph.
        if len(paragraph) <= _HEADING_MAX_CHARS:
            return Heading(form, match.group(1), paragraph, standalone=True)
        if form in WEAK_FORMS:
            return None
        return Heading(form, match.group(1), _clip_heading(paragraph), standalone=False)
    first_sentence = paragraph[:end]
    if len(first_sentence) <= _HEADING_MAX_CHARS:
        return Heading(form, match.group(1), first_sentence, standalone=False)
    if form in WEAK_FORMS:
        return None
    return Heading(form, match.group(1), _clip_heading(first_sentence), standalone=False)


def is_heading_line(line: str) -> bool:
    """True for a line that is a complete heading on its own (no body text after it).

    Used by reflow: such a line ends its paragraph although it lacks final punctuation.
    Long lines, or lines with a sentence stop inside, are wrapped body text instead.
    """
    heading = parse_heading(line)
    if heading is None or not heading.standalone:
        return False
    if line.endswith(("，", "、", ",")):
        return False
    limit = _WEAK_STANDALONE_MAX if heading.form in WEAK_FORMS else _STANDALONE_HEADING_MAX
    return len(line) <= limit


def starts_new_paragraph(line: str) -> bool:
    """True when a line's marker means a new paragraph even after an unfinished line."""
    found = _match_marker(line)
    return found is not None and found[0] in _BREAKING_FORMS and parse_heading(line) is not None


# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    path: tuple[str, ...]  # heading path, outer -> inner; () for the preamble
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


class Outline:
    """A stack of (form, heading) pairs: a form seen before closes everything below it."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, str]] = []

    def enter(self, heading: Heading) -> bool:
        """Place a heading in the outline; False when it should be read as body text."""
        forms = [form for form, _ in self._stack]
        if heading.form in forms:
            del self._stack[forms.index(heading.form):]
        elif heading.form in WEAK_FORMS and heading.numeral != "一":
            # "二是..." without a preceding "一是" paragraph continues an inline list.
            return False
        self._stack.append((heading.form, heading.text))
        return True

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)


def split_sections(paragraphs: Iterable[str]) -> list[Section]:
    """Group a speech's paragraphs into sections, each headed by its outline path."""
    outline = Outline()
    sections: list[Section] = []
    for paragraph in paragraphs:
        heading = parse_heading(paragraph)
        if heading is not None and outline.enter(heading):
            sections.append(Section(outline.path, [paragraph]))
        elif sections:
            sections[-1].paragraphs.append(paragraph)
        else:
            sections.append(Section((), [paragraph]))
    return sections


# --------------------------------------------------------------------------- sizing


def _split_units(text: str, pattern: str) -> list[str]:
    """Cut text after each match of pattern, keeping the delimiters with the left part."""
    units = re.findall(rf".+?(?:{pattern}|$)", text, flags=re.S)
    return [unit for unit in units if unit]


def _sentences(text: str, max_chars: int) -> list[str]:
    """Sentence-sized units of at most max_chars each, in order; concatenation == text."""
    units: list[str] = []
    for sentence in _split_units(text, rf"[{_SENTENCE_STOP}…]+[”’」』）)]*\n?|\n"):
        if len(sentence.strip()) <= max_chars:
            units.append(sentence)
            continue
        # An overlong sentence: fall back to clauses, then to a hard cut.
        for clause in _split_units(sentence, r"[，、：,:]+[”’」』）)]*"):
            while len(clause) > max_chars:
                units.append(clause[:max_chars])
                clause = clause[max_chars:]
            units.append(clause)
    return units


def _pack(units: list[str], capacity: int) -> list[str]:
    """Greedy packing of units into pieces of at most capacity characters (stripped)."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current.strip() and len((current + unit).strip()) > capacity:
            pieces.append(current.strip())
            current = ""
        current += unit
    if current.strip():
        pieces.append(current.strip())
    return pieces


def split_long_text(text: str, max_chars: int) -> list[str]:
    """Split text at sentence boundaries into balanced pieces of at most max_chars.

    Balanced: the fewest pieces that fit, with the largest piece as small as possible
    (binary search on the capacity), so a 520-char section gives 2 x 260, not 500 + 20.
    """
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    units = _sentences(text, max_chars)
    fewest = len(_pack(units, max_chars))
    low, high = 1, max_chars
    while low < high:
        middle = (low + high) // 2
        if len(_pack(units, middle)) <= fewest:
            high = middle
        else:
            low = middle + 1
    return _pack(units, low)


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


@dataclass
class _Block:
    anchor: tuple[str, ...]  # path of the block's first section: decides what may join
    path: tuple[str, ...]  # common prefix of all joined sections: the chunk's heading
    text: str
    mergeable: bool = True


def _is_descendant(path: tuple[str, ...], ancestor: tuple[str, ...]) -> bool:
    return path[: len(ancestor)] == ancestor


def _may_join(block: _Block, section: Section, text: str, has_children: bool,
              settings: ChunkingSettings) -> bool:
    if not block.mergeable or len(block.text) + 1 + len(text) > settings.max_chars:
        return False
    if len(block.text) >= settings.min_chars and len(text) >= settings.min_chars:
        return False
    if _is_descendant(section.path, block.anchor):
        return True
    # A short section introducing sub-sections belongs with them, not with its sibling.
    is_sibling = len(section.path) == len(block.anchor) and section.path[:-1] == block.anchor[:-1]
    return is_sibling and not has_children


def _blocks(sections: list[Section], settings: ChunkingSettings) -> list[_Block]:
    blocks: list[_Block] = []
    for index, section in enumerate(sections):
        text = section.text.strip()
        if not text:
            continue
        following = sections[index + 1] if index + 1 < len(sections) else None
        has_children = following is not None and len(following.path) > len(section.path) \
            and _is_descendant(following.path, section.path)
        if len(text) > settings.max_chars:
            first_path = section.path
            previous = blocks[-1] if blocks else None
            if previous is not None and previous.mergeable and len(previous.text) < settings.min_chars \
                    and _is_descendant(section.path, previous.anchor):
                # A bare heading (or short intro) above a long sub-section opens its first piece.
                blocks.pop()
                text = previous.text + "\n" + text
                first_path = _common_prefix(previous.path, section.path)
            for number, piece in enumerate(split_long_text(text, settings.max_chars)):
                path = first_path if number == 0 else section.path
                blocks.append(_Block(section.path, path, piece, mergeable=False))
        elif blocks and _may_join(blocks[-1], section, text, has_children, settings):
            block = blocks[-1]
            block.text += "\n" + text
            block.path = _common_prefix(block.path, section.path)
        else:
            blocks.append(_Block(section.path, section.path, text))
    return blocks


# --------------------------------------------------------------------------- chunks


def chunk_speech(speech: Speech, settings: ChunkingSettings | None = None,
                 start_position: int = 0) -> list[Chunk]:
    """Chunks of one speech; positions count on from start_position (order in the file)."""
    settings = settings or ChunkingSettings()
    chunks = []
    for offset, block in enumerate(_blocks(split_sections(speech.paragraphs), settings)):
        position = start_position + offset
        chunks.append(Chunk(
            chunk_id=f"{speech.source}#{speech.index}.{position}",
            source=speech.source,
            title=speech.title,
            heading=block.path,
            text=block.text,
            speech_index=speech.index,
            position=position,
        ))
    return chunks


def chunk_speeches(speeches: Iterable[Speech],
                   settings: ChunkingSettings | None = None) -> list[Chunk]:
    """Chunks of many speeches, numbering positions per source file."""
    next_position: dict[str, int] = {}
    chunks: list[Chunk] = []
    for speech in speeches:
        speech_chunks = chunk_speech(speech, settings, next_position.get(speech.source, 0))
        next_position[speech.source] = next_position.get(speech.source, 0) + len(speech_chunks)
        chunks.extend(speech_chunks)
    return chunks


def chunk_file(path: Path, root: Path, settings: ChunkingSettings | None = None) -> list[Chunk]:
    """Read, split and chunk one corpus file."""
    from .documents import load_speeches  # documents imports this module's heading rules

    return chunk_speeches(load_speeches(path, root), settings)
