"""Word documents (.docx), read with python-docx (MIT).

- Paragraphs and tables of the body in document order (content controls included);
  headers, footers, footnotes and comments are other parts of the package and never read.
- Outline levels come from the format: the style "Title"/"标题" is level 0; a paragraph's
  outline level (`w:outlineLvl`, its own or its style's, through `basedOn`) or a style
  named "Heading N"/"标题 N" gives level N.
- Word numbering (numbering.xml) is rendered into the text, as Word shows it: in Chinese
  documents `一、` and `（一）` are usually list numbers, not typed characters.
- Table rows become one block each, cells joined by a tab.
- Entries of a Word table of contents (styles "TOC N"/"目录 N") are dropped and counted.
- Core properties (title, author, created, subject, keywords) are offered as metadata.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CorpusError
from .base import Block, Document, clean_properties, paragraph_blocks

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": _W, "mc": _MC}
_RT_NUMBERING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering"


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _val(element, path: str) -> str | None:
    found = element.find(path, _NS) if element is not None else None
    return None if found is None else found.get(_q("val"))


_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|标题)$", re.IGNORECASE)
_TOC_STYLE = re.compile(r"^(?:toc|目录)\s*\d$|^toc heading$", re.IGNORECASE)
_BODY_OUTLINE = 9
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # w:outlineLvl 9 means "body text"


@dataclass
class _Style:
    name: str
    based_on: str | None
    outline: int | None
    num: tuple[str, int] | None  # (numId, ilvl) that the style itself applies


def _styles(document) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    for style in document.styles.element.findall("w:style", _NS):
        ppr = style.find("w:pPr", _NS)
        outline = _val(ppr, "w:outlineLvl")
        num_id = _val(ppr, "w:numPr/w:numId")
        styles[style.get(_q("styleId"))] = _Style(
            name=_val(style, "w:name") or "",
            based_on=_val(style, "w:basedOn"),
            outline=int(outline) if outline is not None else None,
            num=(num_id, int(_val(ppr, "w:numPr/w:ilvl") or 0)) if num_id else None,
        )
    return styles


def _style_chain(styles: dict[str, _Style], style_id: str | None):
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen:  # basedOn may loop in bad files
        seen.add(style_id)
        yield styles[style_id]
        style_id = styles[style_id].based_on


# --------------------------------------------------------------------------- numbering

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = "零壹贰叁肆伍陆柒捌玖"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_EARTHLY_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _chinese_number(n: int, digits: str = _CN_DIGITS, units: str = "十百千") -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (Word's chineseCounting)."""
    if n <= 0 or n >= 10000:
        return str(n)
    parts: list[str] = []
    zero = False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        digit = n // power % 10
        if digit == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append(digits[0])
            zero = False
        parts.append(("" if (digit == 1 and power == 10 and not parts) else digits[digit]) + unit)
    return "".join(parts)


def _letters(n: int, alphabet: str) -> str:
    return alphabet[(n - 1) % len(alphabet)] * ((n - 1) // len(alphabet) + 1)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + numeral, n - value
    return out


def format_number(n: int, fmt: str) -> str:
    """A list counter in one of Word's number formats (ST_NumberFormat); unknown → decimal."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "taiwaneseCounting",
               "taiwaneseCountingThousand", "japaneseCounting", "ideographDigital"):
        return _chinese_number(n)
    if fmt == "chineseLegalSimplified":
        return _chinese_number(n, _CN_LEGAL, "拾佰仟")
    if fmt in ("ideographTraditional", "ideographZodiacTraditional") and n <= 10:
        return _HEAVENLY_STEMS[n - 1]
    if fmt == "ideographZodiac" and n <= 12:
        return _EARTHLY_BRANCHES[n - 1]
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return _CIRCLED[n - 1] if n <= len(_CIRCLED) else str(n)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "upperLetter":
        return _letters(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if fmt == "lowerLetter":
        return _letters(n, "abcdefghijklmnopqrstuvwxyz")
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "lowerRoman":
        return _roman(n).lower()
    return str(n)


@dataclass(frozen=True)
class _Level:
    start: int
    fmt: str
    text: str  # lvlText, e.g. "%1、" or "（%1）"
    legal: bool  # isLgl: every counter shown as a decimal


@dataclass
class _Numbering:
    """Word's list counters. Counters belong to the abstract list, so that two num
    instances of one abstractNum continue each other, as in Word; a num with a
    startOverride restarts its level the first time it is used."""

    abstract_of: dict[str, str] = field(default_factory=dict)
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    overrides: dict[str, dict[int, int]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, document) -> _Numbering:
        numbering = cls()
        try:
            part = document.part.part_related_by(_RT_NUMBERING)
        except KeyError:
            return numbering
        root = part.element
        for abstract in root.findall("w:abstractNum", _NS):
            aid = abstract.get(_q("abstractNumId")) or ""
            numbering.levels[aid] = {int(lvl.get(_q("ilvl")) or 0): _level(lvl)
                                     for lvl in abstract.findall("w:lvl", _NS)}
        for num in root.findall("w:num", _NS):
            nid = num.get(_q("numId")) or ""
            numbering.abstract_of[nid] = _val(num, "w:abstractNumId") or ""
            numbering.overrides[nid] = {
                int(o.get(_q("ilvl")) or 0): int(_val(o, "w:startOverride") or 1)
                for o in num.findall("w:lvlOverride", _NS) if _val(o, "w:startOverride") is not None}
        return numbering

    def label(self, num_id: str, ilvl: int) -> str:
        """The number Word shows before the next paragraph of list num_id at level ilvl."""
        aid = self.abstract_of.get(num_id, "")
        levels = self.levels.get(aid, {})
        if ilvl not in levels:
            return ""  # numId 0 ("no numbering") or a list the file does not define
        counters = self.counters.setdefault(aid, {})
        if num_id not in self.started:
            self.started.add(num_id)
            for overridden, start in self.overrides.get(num_id, {}).items():
                counters[overridden] = start - 1
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [lv for lv in counters if lv > ilvl]:
            del counters[deeper]  # a new item restarts the levels below it
        level = levels[ilvl]
        if level.fmt in ("bullet", "none"):
            return ""  # a bullet glyph (often a private-use symbol) is not text

        def counter(match: re.Match) -> str:
            index = int(match.group(1)) - 1
            at = levels.get(index)
            value = counters.get(index, at.start if at else 1)
            return format_number(value, "decimal" if level.legal or at is None else at.fmt)

        return re.sub(r"%(\d)", counter, level.text)


def _level(lvl) -> _Level:
    start = _val(lvl, "w:start")
    return _Level(start=int(start) if start is not None else 1, fmt=_val(lvl, "w:numFmt") or "decimal",
                  text=_val(lvl, "w:lvlText") or "", legal=lvl.find("w:isLgl", _NS) is not None)


# --------------------------------------------------------------------------- body

# Runs of a paragraph, without deleted text (tracked changes), without text boxes (read as
# their own paragraphs would duplicate: Word stores a box twice, as mc:Choice and mc:Fallback).
_RUN_TEXT = ("./w:r/*|./w:hyperlink/w:r/*|./w:ins/w:r/*|./w:smartTag/w:r/*|./w:fldSimple/w:r/*"
             "|./w:sdt/w:sdtContent/w:r/*|./w:hyperlink/w:ins/w:r/*")


@functools.cache
def _run_text():
    from lxml import etree  # comes with python-docx

    return etree.XPath(_RUN_TEXT, namespaces=_NS)


def _paragraph_text(p) -> str:
    parts = []
    for node in _run_text()(p):
        tag = node.tag
        if tag == _q("t"):
            parts.append(node.text or "")
        elif tag == _q("tab"):
            parts.append("\t")
        elif tag in (_q("br"), _q("cr")):
            parts.append("\n")
        elif tag == _q("noBreakHyphen"):
            parts.append("-")
    return "".join(parts)


@dataclass
class _Reading:
    styles: dict[str, _Style]
    numbering: _Numbering
    blocks: list[Block] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)

    def paragraph(self, p) -> None:
        ppr = p.find("w:pPr", _NS)
        chain = list(_style_chain(self.styles, _val(ppr, "w:pStyle")))
        if chain and _TOC_STYLE.match(chain[0].name):
            self.removed["table_of_contents"] = self.removed.get("table_of_contents", 0) + 1
            return
        text = _paragraph_text(p)
        label = self._number(ppr, chain)
        if not text.strip():
            return  # an empty paragraph is spacing; paragraph breaks are blocks already
        level = _outline_level(ppr, chain)
        lines = [line for line in (label + text).split("\n") if line.strip()]
        if level is not None:  # a heading wrapped with a soft break is still one heading
            self.blocks.append(Block("".join(line.strip() for line in lines), level))
        else:
            self.blocks += [Block(line) for line in lines]

    def _number(self, ppr, chain: list[_Style]) -> str:
        num_id, ilvl = _val(ppr, "w:numPr/w:numId"), _val(ppr, "w:numPr/w:ilvl")
        if num_id is None:
            num = next((s.num for s in chain if s.num), None)
            if num is None:
                return ""
            num_id, ilvl = num[0], ilvl if ilvl is not None else str(num[1])
        return self.numbering.label(num_id, int(ilvl or 0))

    def table(self, tbl) -> None:
        for tr in tbl.iterfind("w:tr", _NS):
            cells = []
            for tc in tr.iterfind("w:tc", _NS):
                if _val(tc, "w:tcPr/w:vMerge") == "continue" or (
                        tc.find("w:tcPr/w:vMerge", _NS) is not None and _val(tc, "w:tcPr/w:vMerge") is None):
                    continue  # the lower part of a vertically merged cell repeats nothing
                cells.append(" ".join(_paragraph_text(p).replace("\n", " ").strip()
                                      for p in tc.iter(_q("p"))).strip())
            if any(cells):
                self.blocks.append(Block("\t".join(cells)))

    def container(self, element) -> None:
        for child in element:
            if child.tag == _q("p"):
                self.paragraph(child)
            elif child.tag == _q("tbl"):
                self.table(child)
            elif child.tag == _q("sdt"):  # a content control: its content is body text
                content = child.find("w:sdtContent", _NS)
                if content is not None:
                    self.container(content)


def _outline_level(ppr, chain: list[_Style]) -> int | None:
    if chain and _TITLE_STYLE.match(chain[0].name):
        return 0
    own = _val(ppr, "w:outlineLvl")
    outline = int(own) if own is not None else next((s.outline for s in chain if s.outline is not None), None)
    if outline is not None:
        return outline + 1 if outline < _BODY_OUTLINE else None
    for style in chain:
        match = _HEADING_STYLE.match(style.name)
        if match:
            return int(match.group(1))
    return None


def _properties(document) -> dict[str, str]:
    core = document.core_properties
    found = {"title": core.title, "author": core.author, "subject": core.subject, "keywords": core.keywords,
             "created": core.created.date().isoformat() if core.created else None}
    return clean_properties(found)


class DocxReader:
    suffixes = (".docx",)

    def read(self, path: Path) -> Document:
        import docx  # python-docx: imported on first use

        with open(path, "rb") as file:
            magic = file.read(8)
        if magic == _OLE_MAGIC:  # Office wraps a password-protected .docx in an OLE container
            raise CorpusError(f"{path} is not a .docx package but an OLE file: a password-protected document "
                              "or a Word 97-2003 file renamed; remove the password, or save it as .docx")
        document = docx.Document(str(path))
        reading = _Reading(_styles(document), _Numbering.of(document))
        reading.container(document.element.body)
        return Document(paragraph_blocks(reading.blocks), _properties(document), reading.removed)
