"""The heading grammar of Chinese government texts: which paragraph starts a section.

Speeches number their sections with a handful of marker forms (``一、`` ``（一）`` ``第一，``
``1、`` ``（1）`` ``一是`` ``一要`` ...). This low module only recognises them; the outline
(which form is which level) is built by chunking.py, and reflow / title finding in
documents.py use the same rules. It imports nothing from the package, so both can use it.

Detection reads a width-normalised copy of the text (full-width digits and letters as
ASCII, ideographic spaces as spaces, spaces between digits removed: ``一、２０２３年`` and
``2 0 2 3年`` are read as ``2023年``), while headings keep the original characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CN_NUMERAL = "[一二三四五六七八九十]{1,3}"

# (form, pattern) - the first pattern that matches a paragraph's start wins.
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("paren_cn", re.compile(rf"^[（(]({CN_NUMERAL})[）)]、?")),
    ("paren_arabic", re.compile(r"^[（(](\d{1,2})[）)]、?")),
    ("circled", re.compile(r"^([①-⑳])")),
    # "一、二季度" / "一、二、三产业" enumerate quarters or sectors, they are not headings.
    ("cn_dun", re.compile(rf"^({CN_NUMERAL})、(?!{CN_NUMERAL}[、季月产])")),
    # "第一，" / "第一、" / "第一是" / "第一个问题：" - but not "第一季度" / "第一次".
    ("ordinal", re.compile(rf"^第({CN_NUMERAL})(?:个问题|个方面)?(?:[，,、：:]|是)")),
    # "1、" / "1." / "1．" - but not "1.5%" / "1、2月" / "2023年".
    ("arabic", re.compile(r"^(\d{1,2})(?:[、．]|\.)(?![\d%．.])")),
    # Paragraph-leading enumerations; "一是" in mid-paragraph is never looked at.
    ("enum_shi", re.compile(rf"^({CN_NUMERAL})是(?![的否])")),
    ("enum_yao", re.compile(rf"^({CN_NUMERAL})要(?![素求])")),
)
WEAK_FORMS = frozenset({"enum_shi", "enum_yao"})
# Forms that, at a line start, begin a new paragraph even after a line cut mid-sentence.
# Ordinals ("...居全省" + "第一，") and circled digits often continue a sentence instead.
_BREAKING_FORMS = frozenset({"paren_cn", "paren_arabic", "cn_dun", "arabic"})
# A section numbered by a bare numeral on its own line ("一" / "二", as on Wikisource).
BARE_NUMERAL = re.compile(rf"^({CN_NUMERAL})$")

SENTENCE_STOP = "。！？；!?;"
_HEADING_MAX_CHARS = 60  # a heading sentence longer than this is body text
_STANDALONE_HEADING_MAX = 45  # a marker line without stops, longer than this, is wrapped body
_WEAK_STANDALONE_MAX = 16
_CLIPPED_MAX = 40

# Full-width ASCII (U+FF01-FF5E) -> ASCII and U+3000 -> space: the part of NFKC that matters
# here, one character for one so positions carry over to the original text.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20
_NEEDS_NORMALISING = re.compile(r"[\uff01-\uff5e\u3000 ]")


@dataclass(frozen=True)
class Heading:
    """A section start found at the beginning of a paragraph."""

    form: str  # which marker family, see _MARKERS ("bare", "plain", "level" elsewhere)
    numeral: str  # "一", "2", ... as written
    text: str  # the heading itself (the whole paragraph or its first sentence)
    standalone: bool  # True when the paragraph is only the heading, without body text
    level: int | None = None  # an explicit outline level (from a style), else None
    marker_len: int = 0  # characters of the marker ("一、", "第一，") at the start of text

    @property
    def reads_as_sentence(self) -> bool:
        """An item of a list rather than a heading: it runs on ("…农民工，") or is one
        sentence with clauses ("四、在园区就业的农民工，享受…。"), or has body text after it."""
        rest = self.text[self.marker_len:].rstrip()
        if not self.standalone or rest.endswith(("，", ",", "；", ";", "、")):
            return True
        return rest.endswith(("。", "！", "？")) and bool(re.search(r"[，,；;]", rest))


def normalise(text: str) -> tuple[str, list[int]]:
    """The detection form of text and, for each of its characters, the original index.

    Leading spaces go, full-width ASCII becomes ASCII, spaces between digits go. The list
    has one more entry than the string: the original length.
    """
    if not _NEEDS_NORMALISING.search(text):
        return text, []  # fast path: identical, positions are the identity
    wide = text.translate(_WIDTH)
    if " " not in wide:
        return wide, []  # one character for one: positions are still the identity
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(wide):
        if char == " " and (not chars or (chars[-1].isdigit() and index + 1 < len(wide)
                                          and wide[index + 1].isdigit())):
            continue
        chars.append(char)
        positions.append(index)
    positions.append(len(text))
    return "".join(chars), positions


def _original(text: str, positions: list[int], end: int) -> str:
    """The original text up to normalised position end (positions empty = identity)."""
    return text[:positions[end]] if positions else text[:end]


def match_marker(text: str) -> tuple[str, re.Match[str]] | None:
    for form, pattern in _MARKERS:
        match = pattern.match(text)
        if match:
            return form, match
    return None


def first_sentence_end(text: str) -> int:
    """Index just past the first sentence stop (and closing quotes after it), or -1."""
    match = re.search(rf"[{SENTENCE_STOP}]+[”’」』）)]*", text)
    return match.end() if match else -1


def _clip_heading(sentence: str, marker_end: int) -> str:
    """A usable heading from a too-long first sentence: marker + first clause, ≤ 40 chars.

    The clause is looked for after the marker, so "第二，要…" keeps "第二，要…" and is never
    cut down to the bare marker "第二，".
    """
    clause = re.match(r"[^，,：:]+[，,：:]?", sentence[marker_end:])
    text = sentence[:marker_end] + (clause.group(0) if clause else sentence[marker_end:])
    return text if len(text) <= _CLIPPED_MAX else text[:_CLIPPED_MAX] + "…"


_PREFIX = 120  # enough of a paragraph to read its marker and a heading-sized first sentence


def parse_heading(paragraph: str) -> Heading | None:
    """The heading a paragraph starts with, or None when it is ordinary body text."""
    head = paragraph[:_PREFIX]
    norm, positions = normalise(head)
    found = match_marker(norm)
    if found is None:
        return None
    form, match = found
    rest = norm[match.end():].lstrip()
    if not rest or not re.match(r"[\u4e00-\u9fff“\"《‘A-Za-z0-9（(]", rest):
        return None
    numeral = match.group(1)
    size = len(norm) + len(paragraph) - len(head)  # the normalised length of the whole paragraph
    end = first_sentence_end(norm)
    if end == -1 and size > len(norm):
        end = len(norm)  # the first sentence runs past the prefix: far longer than a heading
    elif end == -1 or end >= len(norm.rstrip()):
        # One sentence (or none): the paragraph is the heading, unless it is a body paragraph.
        if size <= _HEADING_MAX_CHARS:
            return Heading(form, numeral, paragraph.strip(), True, marker_len=match.end())
        if form in WEAK_FORMS:
            return None
        return Heading(form, numeral, _clip_original(head, norm, positions, len(norm), match.end()),
                       False, marker_len=match.end())
    if end <= _HEADING_MAX_CHARS:
        return Heading(form, numeral, _original(head, positions, end).strip(), False,
                       marker_len=match.end())
    if form in WEAK_FORMS:
        return None
    return Heading(form, numeral, _clip_original(head, norm, positions, end, match.end()),
                   False, marker_len=match.end())


def _clip_original(paragraph: str, norm: str, positions: list[int], end: int, marker_end: int) -> str:
    clipped = _clip_heading(norm[:end], marker_end)
    size = len(clipped.rstrip("…"))
    text = _original(paragraph, positions, size).strip()
    return text + "…" if clipped.endswith("…") else text


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
    found = match_marker(normalise(line[:_PREFIX])[0])
    return found is not None and found[0] in _BREAKING_FORMS and parse_heading(line) is not None


_CN_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九")}


def numeral_value(numeral: str) -> int | None:
    """1 for "一" / "1" / "①", 12 for "十二", 20 for "二十"; None when it is not a numeral."""
    if len(numeral) == 1 and "①" <= numeral <= "⑳":
        return ord(numeral) - ord("①") + 1
    if numeral.isascii() and numeral.isdigit():
        return int(numeral)
    if not numeral or any(ch not in _CN_DIGITS and ch != "十" for ch in numeral):
        return None
    if "十" not in numeral:
        return _CN_DIGITS[numeral[-1]] if len(numeral) == 1 else None
    tens, _, units = numeral.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
