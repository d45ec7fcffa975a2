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
from .documents import load_speeches
from .headings import BARE_NUMERAL, SENTENCE_STOP, WEAK_FORMS, Heading, normalise, numeral_value, parse_heading
from .models import Chunk, Speech

# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    path: tuple[str, ...]  # heading path, outer -> inner; () for the preamble
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


_INLINE_FIRST_ITEM = re.compile(r"[：:，,。；;]\s*一([是要])")


@dataclass
class _Entry:
    key: str  # the marker form ("cn_dun", ...), "plain"/"bare" for layout headings, "level:N"
    text: str
    level: int | None  # explicit level from the format, None for headings found in the text
    value: int | None  # the heading's number (2 for "二、"), None when unnumbered
    standalone: bool = True  # False for a numbered paragraph that goes on with body text


class Outline:
    """A stack of headings: a form seen before closes everything below it.

    Headings with an explicit level (a Word style, a Markdown "#") nest by that level and
    are only closed by an explicit heading of the same or a higher level. Numbered headings
    must count on: inside an open "二、" section, a "一、" that restarts the count, or a
    "四、" that jumps over "三、", is an item of a numbered list in the body, and so is the
    list's continuation ("二、", "三、" after that restart).
    """

    def __init__(self) -> None:
        self._stack: list[_Entry] = []
        self._lists: dict[str, int] = {}  # form -> last number of a body list in that form

    def enter(self, heading: Heading, previous: str = "") -> bool:
        """Place a heading in the outline; False when it should be read as body text.

        previous is the paragraph before. When it holds a mid-paragraph "一是"/"一要", "二是…"
        continues that enumeration instead of being a stray body line; when it ends in "：",
        a count starting again at 1 is a list it introduces.
        """
        inline = _INLINE_FIRST_ITEM.search(previous)
        inline_first = inline.group(1) if inline else ""
        if heading.level is not None:
            return self._enter_explicit(heading)
        implicit_from = self._implicit_start()
        if heading.form in ("plain", "bare"):
            # A heading line standing alone is never inside a numbered body paragraph
            # ("一、大家知道，…。" followed by more text): it closes such paragraphs' sections.
            items = [i for i in range(implicit_from, len(self._stack)) if not self._stack[i].standalone]
            if items:
                del self._stack[items[0]:]
        forms = [entry.key for entry in self._stack[implicit_from:]]
        value = numeral_value(heading.numeral) if heading.numeral else None
        if heading.form in forms:
            position = implicit_from + forms.index(heading.form)
            if not self._counts_on(heading, self._stack[position].value, value, previous):
                return False
            del self._stack[position:]
        elif heading.form in WEAK_FORMS and heading.numeral != "一" \
                and not (heading.numeral == "二" and heading.form == _WEAK_VERB.get(inline_first)):
            # "二是..." without a preceding "一是" continues an inline list.
            return False
        elif heading.form not in WEAK_FORMS:
            # A "一是" item never holds a numbered heading: a new numbered form closes it.
            weak = [i for i in range(implicit_from, len(self._stack)) if self._stack[i].key in WEAK_FORMS]
            if weak:
                del self._stack[weak[0]:]
        self._lists.pop(heading.form, None)
        self._stack.append(_Entry(heading.form, heading.text, None, value, heading.standalone))
        return True

    def _implicit_start(self) -> int:
        explicit = [i for i, entry in enumerate(self._stack) if entry.level is not None]
        return explicit[-1] + 1 if explicit else 0

    def _enter_explicit(self, heading: Heading) -> bool:
        level = heading.level or 1
        keep = 0
        for entry in self._stack:
            if entry.level is None or entry.level >= level:
                break
            keep += 1
        del self._stack[keep:]
        self._lists.clear()
        self._stack.append(_Entry(f"level:{level}", heading.text, level, None))
        return True

    def _counts_on(self, heading: Heading, previous: int | None, value: int | None,
                   before: str) -> bool:
        """Whether a numbered heading follows its open sibling; records body lists.

        A restart at 1 is a list when the paragraph before introduces it ("…经验是：") or the
        item reads as a sentence ("四、在园区就业的农民工，…"); a jump is a list unless the item
        is a heading line of its own (a heading lost between could explain it). Otherwise a
        restart opens a new numbered part (a closing "一、关于…工作" after "三、"), and a
        repeated number (a typo: "(二)" twice) is still a heading.
        """
        form = heading.form
        if previous is None or value is None or form in WEAK_FORMS or form in ("plain", "bare"):
            return True
        listed = self._lists.get(form)
        if listed is not None and value == listed + 1:
            self._lists[form] = value  # the body list goes on
            return False
        if value in (previous, previous + 1):
            return True
        sentence_like = heading.reads_as_sentence
        is_list = (before.rstrip().endswith(("：", ":")) or sentence_like) if value == 1 else sentence_like
        if is_list:
            self._lists[form] = value
        return not is_list

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(entry.text for entry in self._stack)


_WEAK_VERB = {"是": "enum_shi", "要": "enum_yao"}


def _heading_of(speech_paragraph: str, index: int, levels: tuple[int | None, ...],
                layout: frozenset[int]) -> Heading | None:
    level = levels[index] if index < len(levels) else None
    if level is not None and level >= 1:
        return Heading("level", "", speech_paragraph.strip(), True, level)
    if index in layout:
        bare = BARE_NUMERAL.match(normalise(speech_paragraph)[0])
        if bare:
            return Heading("bare", bare.group(1), speech_paragraph.strip(), True)
        return Heading("plain", "", speech_paragraph.strip(), True)
    return parse_heading(speech_paragraph)


def split_sections(paragraphs: Iterable[str], levels: tuple[int | None, ...] = (),
                   layout: frozenset[int] = frozenset()) -> list[Section]:
    """Group a speech's paragraphs into sections, each headed by its outline path.

    levels gives explicit outline levels per paragraph (None = find from the text), layout
    the paragraphs that are headings by layout alone (see models.Speech).
    """
    outline = Outline()
    sections: list[Section] = []
    previous = ""
    for index, paragraph in enumerate(paragraphs):
        heading = _heading_of(paragraph, index, levels, layout)
        if heading is not None and outline.enter(heading, previous):
            sections.append(Section(outline.path, [paragraph]))
        elif sections:
            sections[-1].paragraphs.append(paragraph)
        else:
            sections.append(Section((), [paragraph]))
        previous = paragraph
    return sections


# --------------------------------------------------------------------------- sizing


def _split_units(text: str, pattern: str) -> list[str]:
    """Cut text after each match of pattern, keeping the delimiters with the left part."""
    units = re.findall(rf".+?(?:{pattern}|$)", text, flags=re.S)
    return [unit for unit in units if unit]


def _sentences(text: str, max_chars: int) -> list[str]:
    """Sentence-sized units of at most max_chars each, in order; concatenation == text."""
    units: list[str] = []
    for sentence in _split_units(text, rf"[{SENTENCE_STOP}…]+[”’」』）)]*\n?|\n"):
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
    opening_only: bool = False  # the block holds only the speech's opening (no heading yet)


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
    is_sibling = len(section.path) == len(block.anchor) and section.path[:-1] == block.anchor[:-1] \
        and len(section.path) > 1  # top-level sections stay apart: their headings name the passage
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
            # A short opening joined to the first section is named by that section (its
            # heading would otherwise be lost); the common prefix names all later joins.
            block.path = section.path if block.opening_only else _common_prefix(block.path, section.path)
            block.opening_only = False
        else:
            blocks.append(_Block(section.path, section.path, text, opening_only=not section.path))
    return blocks


# --------------------------------------------------------------------------- chunks


def chunk_speech(speech: Speech, settings: ChunkingSettings | None = None,
                 start_position: int = 0) -> list[Chunk]:
    """Chunks of one speech; positions count on from start_position (order in the file)."""
    settings = settings or ChunkingSettings()
    chunks = []
    sections = split_sections(speech.paragraphs, speech.levels, speech.layout_headings)
    for offset, block in enumerate(_blocks(sections, settings)):
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
    return chunk_speeches(load_speeches(path, root), settings)
