"""Read corpus files and turn their text into speeches with clean, reflowed paragraphs.

The files are often extracted from PDFs or Word documents: lines are cut at page and
line ends, stray spaces sit between Chinese characters, and one file may be a
compilation with a table of contents (TOC) followed by many speeches. The pipeline:

    read_text -> normalised lines -> drop TOC -> split into speeches -> titles -> reflow

A compilation's speeches are located by fuzzy-matching each TOC entry against the
body's short lines; files without a TOC are split on lines that look like speech
titles (followed by "同志们：", a subtitle, a heading...).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path, PurePosixPath

from .chrome import CHROME_MAX, chrome_flags, strip_inline_chrome
from .errors import CorpusError
from .headings import BARE_NUMERAL, WEAK_FORMS, is_heading_line, normalise, parse_heading, starts_new_paragraph
from .models import Speech, SpeechList

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- reading

# Files are read by searchkit.readers (one reader per format); read_text stays importable
# here for callers of the plain-text decoding.
from .readers import read_document  # noqa: E402
from .readers.text import read_text  # noqa: E402,F401

# --------------------------------------------------------------------------- cleaning

_DROPPED_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\r"), None)
_SPACE_CHARS = dict.fromkeys(map(ord, "\u00a0\u3000\t\u2002\u2003\u2009\u202f\x0b\x0c"), " ")
# Chinese characters and full-width/CJK punctuation: spaces next to these are artefacts.
_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·、]"
_SPACE_NEAR_CJK = re.compile(rf"(?<={_CJK}) +| +(?={_CJK})")
_PAGE_NUMBER = re.compile(r"^[-—－\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/共]\s*\d{1,4}\s*页?)?[-—－\s]*$")
# Download-site footers such as "本DOCX文档由 www.zciku.com/中词库网 生成...".
_BOILERPLATE = re.compile(r"(?:www\.|https?://).*(?:文档|下载|范文|生成|版权)|(?:文档|范文).*(?:www\.|https?://)")


_DROPPED_RE = re.compile("[" + "".join(map(chr, _DROPPED_CHARS)) + "]")
_SPACE_RE = re.compile("[" + "".join(map(chr, _SPACE_CHARS)) + "]")


def _strip_line(line: str) -> str:
    # Regular expressions scan in C: far faster than str.translate with a dict on long lines.
    return _SPACE_RE.sub(" ", _DROPPED_RE.sub("", line)).strip()


def _is_junk(line: str) -> str | None:
    """Why a stripped line is removed on purpose ("page numbers", "page chrome"), or None."""
    if _PAGE_NUMBER.match(line):
        return "page numbers"
    if len(line) <= CHROME_MAX and _BOILERPLATE.search(line):
        return "page chrome"
    return None


def _normalised_lines(text: str) -> list[str]:
    """Non-blank, stripped lines with invisible characters removed; spaces NOT collapsed."""
    lines = []
    for line in text.split("\n"):
        line = _strip_line(line)
        if line and _is_junk(line) is None:
            lines.append(line)
    return lines


def collapse_spaces(line: str) -> str:
    """Remove spaces touching Chinese text; keep single spaces between latin words/numbers."""
    return _SPACE_NEAR_CJK.sub("", re.sub(r" {2,}", " ", line))


def clean_lines(text: str) -> list[str]:
    """Normalised, non-blank lines without page numbers and stray spaces between Chinese."""
    return [collapse_spaces(line) for line in _normalised_lines(text)]


# --------------------------------------------------------------------------- reflow

# A line ending like this finishes its sentence. A closing quote or bracket only counts
# after a stop ("。”"), or when it closes a line that is all bracketed ("（2022年7月2日）").
_SENTENCE_END = re.compile(r"(?:[。！？；：!?;:…]|\.{3})[”’」』）)》]*$")
_BRACKETED_LINE = re.compile(r"^[（(].*[）)]$")
_TRAILING_REMARK = re.compile(r"[（(][^（）()]{1,12}[）)]$")  # "...事故发生。（未讲）"
_SALUTATION = re.compile(r"^(?:同志们|各位|尊敬的)")
_WRAPPED_HEADING_TAIL = 6  # "而上" / "措" / "标。": a heading's last characters on a new line
_LIST_ITEM_MAX = 12  # two unpunctuated lines this short are list items, not a wrapped line


def ends_sentence(line: str) -> bool:
    if _BRACKETED_LINE.match(line):
        return True
    return bool(_SENTENCE_END.search(_TRAILING_REMARK.sub("", line) or line))


def _continues(paragraph: str, line: str, lists: bool = True) -> bool:
    """Whether line continues paragraph (which was cut at a line or page end)."""
    if ends_sentence(paragraph):
        return False
    if is_heading_line(paragraph):
        return len(line) <= _WRAPPED_HEADING_TAIL and parse_heading(line) is None
    if lists and len(paragraph) <= _LIST_ITEM_MAX and len(line) <= _LIST_ITEM_MAX \
            and not ends_sentence(line):
        return False  # "勤奋好学、学以致用" / "联系群众、服务人民": a list, not a wrapped line
    return not (starts_new_paragraph(line) or _SALUTATION.match(line))


def reflow(lines: list[str], lists: bool = True) -> list[str]:
    """Join lines cut mid-sentence into paragraphs; headings stay paragraphs of their own.

    lists=False joins short unpunctuated lines too: inside one blank-line-separated
    paragraph every line break is a wrap (a link or a name on a line of its own).
    """
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and _continues(paragraphs[-1], line, lists):
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
    return paragraphs


# --------------------------------------------------------------------------- TOC

_TOC_HEADER = re.compile(r"^目\s*录$")
_TOC_NUMBERED = re.compile(r"^\d{1,3}\s*[.．、]\s*\S")
# "<n>.<title><leaders or whitespace><page>"; leaders may be dots, ellipses or nothing.
_TOC_ENTRY = re.compile(
    r"^(?:\d{1,3}\s*[.．、]\s*)?(?P<title>.*?\S)(?:[\s.…·．]*\s|[.…·．]{2,})(?P<page>\d{1,4})$")
_MIN_TOC_RUN = 3  # without a "目录" header, this many entry lines in a row make a TOC


@dataclass(frozen=True)
class TocEntry:
    title: str
    page: int


def _parse_toc_entry(lines: list[str], i: int) -> tuple[TocEntry, int] | None:
    """The TOC entry starting at line i and the number of lines it uses (1 or 2)."""
    line = lines[i]
    if not _TOC_NUMBERED.match(line):
        return None
    candidates = [(line, 1)]
    if i + 1 < len(lines) and not _TOC_NUMBERED.match(lines[i + 1]):
        candidates.append((line + lines[i + 1], 2))  # an entry wrapped onto a second line
    for text, used in candidates:
        match = _TOC_ENTRY.match(text)
        if match and not ends_sentence(match.group("title")):
            title = collapse_spaces(match.group("title")).rstrip(".…·．")
            return TocEntry(title, int(match.group("page"))), used
    return None


def _toc_run(lines: list[str], start: int) -> tuple[list[TocEntry], int]:
    """Consecutive TOC entries from start; returns them and the index after the last."""
    entries: list[TocEntry] = []
    i = start
    while i < len(lines):
        parsed = _parse_toc_entry(lines, i)
        if parsed is None:
            break
        entries.append(parsed[0])
        i += parsed[1]
    return entries, i


def find_toc(lines: list[str]) -> tuple[int, int, list[TocEntry]] | None:
    """(first line, line after the TOC, entries) of the table of contents, if any."""
    for i, line in enumerate(lines):
        if _TOC_HEADER.match(line):
            entries, end = _toc_run(lines, i + 1)
            if len(entries) >= 2:
                return i, end, entries
    i = 0
    while i < len(lines):
        entries, end = _toc_run(lines, i)
        if len(entries) >= _MIN_TOC_RUN:
            return i, end, entries
        i = max(end, i + 1)
    return None


# --------------------------------------------------------------------------- titles

_MATCH_OK = 0.8  # first body line this similar to a TOC entry is taken as its title
_MATCH_FALLBACK = 0.55  # otherwise the most similar line, if at least this similar
_TITLE_MAX_CHARS = 120
_TITLE_ENDING = re.compile(r"(?:讲话|发言|致辞|讲稿|报告|汇报|总结|上)(?:[（(][^）)]*[）)])?$")
_SPEECH_OPENING = re.compile(r"^(?:同志们|各位|尊敬的|——|[（(]\d{4}年|[一二三四五六七八九十]、)")


def _match_key(text: str) -> str:
    """What is compared between TOC entries and body lines: no spaces, dashes or XX."""
    return re.sub(r"[\sX×Ｘ*—]", "", text)


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _could_be_title(line: str) -> bool:
    return len(line) <= _TITLE_MAX_CHARS and not line.endswith("。") and parse_heading(line) is None


def _title_wrapped(lines: list[str], i: int, key_length: int) -> bool:
    """Whether line i may be the first half of a title wrapped onto the next line."""
    return (i + 1 < len(lines) and _is_title_fragment(lines[i])
            and len(_match_key(lines[i])) < 0.9 * key_length
            and not lines[i + 1].startswith("—"))  # a subtitle is matched on its own


def _locate(entry: TocEntry, lines: list[str], start: int) -> tuple[int, int] | None:
    """(line index, lines used) of a TOC entry's title in the body, searching from start."""
    key = _match_key(entry.title)
    best: tuple[float, int, int] = (0.0, -1, 1)
    for i in range(start, len(lines)):
        if not _could_be_title(lines[i]):
            continue
        line_key = _match_key(lines[i])
        score, used = _similarity(key, line_key), 1
        if _title_wrapped(lines, i, len(key)):
            joined = _similarity(key, line_key + _match_key(lines[i + 1]))
            if joined > score + 0.05:
                score, used = joined, 2
        if score >= _MATCH_OK:
            return i, used
        if score > best[0]:
            best = (score, i, used)
    if best[0] >= _MATCH_FALLBACK:
        return best[1], best[2]
    return None


def _is_title_fragment(line: str) -> bool:
    """A short line without final punctuation: part of a multi-line title above a subtitle."""
    return len(line) <= 40 and not ends_sentence(line) and parse_heading(line) is None \
        and not re.search(f"[{'。！？；'}]", line)


@dataclass(frozen=True)
class _TitleBlock:
    first: int  # first line of the title
    end: int  # line after the title (and its subtitle): the body starts here
    title: str


def _title_block(lines: list[str], index: int, used: int, floor: int) -> _TitleBlock:
    """Extend a located title line to its full title: main title lines and '——' subtitle."""
    first, end = index, index + used
    if lines[index].startswith("—"):
        # The located line is the subtitle; the main title sits on the lines above it.
        while first - 1 > floor and index - first < 3 and _is_title_fragment(lines[first - 1]):
            first -= 1
    elif end < len(lines) and lines[end].startswith("—") and len(lines[end]) <= _TITLE_MAX_CHARS:
        end += 1
    return _TitleBlock(first, end, "".join(lines[first:end]))


def _is_speech_title(lines: list[str], i: int) -> bool:
    """Without a TOC: a title-like line that follows a finished line and opens a speech."""
    line = lines[i]
    if not (_could_be_title(line) and len(line) <= 80 and not ends_sentence(line)):
        return False
    if i > 0 and not ends_sentence(lines[i - 1]) and not _is_title_fragment(lines[i - 1]):
        return False
    followed_by_opening = i + 1 < len(lines) and bool(_SPEECH_OPENING.match(lines[i + 1]))
    return (bool(_TITLE_ENDING.search(line)) or line.startswith("——")) and followed_by_opening


def _titles_from_toc(lines: list[str], entries: list[TocEntry], body_start: int) -> list[_TitleBlock]:
    blocks: list[_TitleBlock] = []
    position = body_start
    for entry in entries:
        located = _locate(entry, lines, position)
        if located is None:
            log.warning("TOC entry %r not found in the body; its text stays with the previous speech",
                        entry.title)
            continue
        floor = blocks[-1].end if blocks else body_start - 1
        block = _title_block(lines, located[0], located[1], floor)
        blocks.append(block)
        position = block.end
    return blocks


def _titles_from_layout(lines: list[str]) -> list[_TitleBlock]:
    blocks: list[_TitleBlock] = []
    i = 0
    while i < len(lines):
        if _is_speech_title(lines, i):
            floor = blocks[-1].end if blocks else -1
            block = _title_block(lines, i, 1, floor)
            blocks.append(block)
            i = block.end
        else:
            i += 1
    return blocks


_DOC_NOUN = re.compile(r"(?:讲话|发言|致辞|讲稿|报告|汇报|总结|意见|决定|通知|办法|规定|条例|方案|纲要|公报)"
                       r"(?:[（(][^）)]*[）)])?$")
_DATE_LINE = re.compile(r"^(?:——|—|[（(]).{0,40}(?:\d{4}|[〇零一二三四五六七八九]{4}|XX|××)\s*年.{0,60}$")
_SPEAKER_LINE = re.compile(r"^(?:[\u4e00-\u9fff、]{2,16}[ 　]+)?[\u4e00-\u9fff](?:[ 　·]?[\u4e00-\u9fff]){1,3}$")
_PREAMBLE_MAX = 4  # at most this many date/speaker/subtitle lines follow a title


def _is_speaker_line(line: str, after_date: bool) -> bool:
    """"市长 王某某" / "习 近 平" / "李克强": a name, with an office before it, under a title."""
    if parse_heading(line) is not None:
        return False
    if after_date and re.fullmatch(r"[\u4e00-\u9fff·]{2,12}", line):
        return True  # "国务院总理李克强": office and name whose gap was collapsed
    if not _SPEAKER_LINE.match(line):
        return False
    han = len(re.sub(r"[^\u4e00-\u9fff]", "", line))
    return after_date or " " in line or "　" in line or han <= 4


def _preamble_end(lines: list[str], start: int, limit: int, after_date: bool = False,
                  fixed: frozenset[int] = frozenset()) -> int:
    """Index after the date, subtitle and speaker lines that follow a title at start.

    after_date: the title block already ended in a subtitle or date line; fixed: lines the
    format marked as headings, never preamble.
    """
    i = start
    while i < min(limit, start + _PREAMBLE_MAX) and i not in fixed:
        line = lines[i]
        if _DATE_LINE.match(line) and not ends_sentence(line.rstrip("）)")) and len(line) <= _TITLE_MAX_CHARS:
            after_date = True
        elif line.startswith("——") and len(line) <= _TITLE_MAX_CHARS and not ends_sentence(line):
            after_date = True
        elif not _is_speaker_line(collapse_spaces(line) if " " not in line else line, after_date):
            break
        i += 1
    return i


def _leading_title(lines: list[str]) -> _TitleBlock | None:
    """A title block at the very start: short title lines, then a date, subtitle or salutation.

    ("决胜全面建成小康社会" / "为夺取…胜利" / "——在…大会上的报告"). Files whose first line is
    already body text ("各位代表：", "一、…") have none.
    """
    i = 0
    while i < min(len(lines), 3) and _is_title_fragment(lines[i]) and not _SALUTATION.match(lines[i]) \
            and not lines[i].startswith("—") and not _DATE_LINE.match(lines[i]):
        i += 1
    if i == 0 or i >= len(lines):
        return None
    follower = lines[i]
    if not (follower.startswith("—") or _DATE_LINE.match(follower) or _SALUTATION.match(follower)):
        return None
    return _TitleBlock(0, i, "".join(lines[:i]))


def _split_title(block_lines: list[str]) -> tuple[str, list[str]]:
    """(main title, subtitle lines) of a title block's lines.

    Lines join into the main title while the title so far does not end in a document noun
    ("…报告", "…讲话"): "决胜全面建成小康社会" + "为夺取…胜利" is one title, but after
    "2023年政府工作报告" the next line is a subtitle. A "——" line is always a subtitle.
    """
    main = [block_lines[0]]
    rest = block_lines[1:]
    while rest and not rest[0].startswith("—") and not _DOC_NOUN.search("".join(main)):
        main.append(rest.pop(0))
    return "".join(main), rest


def derive_title(source: str, paragraphs: list[str]) -> str:
    """A title for a speech without a title line: a meaningful file name, else its first heading."""
    stem, _ = _file_name_parts(source)
    if re.search(r"[\u4e00-\u9fff]", stem):
        return stem
    headings = [h for h in map(parse_heading, paragraphs) if h is not None]
    # Prefer the outermost-looking heading: numbered forms before "一是"/"一要" lists.
    headings.sort(key=lambda h: h.form in WEAK_FORMS)
    if headings:
        text = re.sub(r"^[（(]?[一二三四五六七八九十\d]{1,3}[）)]?(?:[、，,：:．.]|是|要)?", "",
                      headings[0].text)
        return text.rstrip("。；;，,")
    body = [p for p in paragraphs if not _SALUTATION.match(p) or len(p) > 10]
    return body[0][:30] if body else PurePosixPath(source).stem


def _file_name_parts(source: str) -> tuple[str, str]:
    """(title part, speaker candidate) of a file name such as "2023政府工作报告_王某某.txt".

    Only a numbering prefix ("001_", "3-") is dropped, never the digits of a year
    ("2023政府工作报告"); "_" separates fields, of which a 2-4 character Han one is offered
    as the speaker; "." separates metadata fields ("名称.效力级别.有效.md": the first is the name).
    """
    stem = PurePosixPath(source).stem
    stem = re.sub(r"^\d{1,4}[_\-. ]+(?=\S)", "", stem)
    fields = [f.strip() for f in re.split(r"[_]+", stem) if f.strip()]
    if not fields:
        return stem, ""
    title_field = next((f for f in fields if re.search(r"[\u4e00-\u9fff]", f) and len(f) > 4), fields[0])
    speaker = next((f for f in fields if f != title_field and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", f)), "")
    if "." in title_field and re.search(r"[\u4e00-\u9fff]", title_field.split(".")[0]):
        title_field = title_field.split(".")[0]
    return title_field, speaker


# --------------------------------------------------------------------------- units

_BLANK_MODE_MIN_GROUPS = 5
_BLANK_MODE_ENDED = 0.8  # share of long blank-separated groups that end a sentence
_LAYOUT_HEADING_MAX = 40
_RUNNING_MIN_REPEATS = 4  # a short line repeated this often is a running header/footer


@dataclass
class _Unit:
    """A line (line mode) or a blank-separated paragraph (blank mode) on its way to a speech."""

    text: str
    level: int | None = None  # explicit outline level from the format; 0 = title
    layout: bool = False  # a heading by layout alone (standalone short line, bare numeral)
    raw: str = ""  # the line before spaces were collapsed (TOC entries need their gaps)


class _Tally:
    """Counts of what was removed on purpose, by reason."""

    def __init__(self) -> None:
        self.removed: dict[str, int] = {}
        self.warnings: list[str] = []
        self.dropped: list[tuple[str, str]] = []

    def add(self, reason: str, lines: list[str]) -> None:
        if lines:
            self.removed[reason] = self.removed.get(reason, 0) + len(lines)
            self.dropped += [(reason, line) for line in lines]


Line = tuple[str, "int | None"]


def _clean_blocks(blocks: list[Line], tally: _Tally) -> list[Line]:
    """Stripped lines ("" = blank) without page numbers, page chrome and running headers."""
    lines: list[Line] = []
    for text, level in blocks:
        parts = [text.replace("\n", "")] if level is not None else text.split("\n")
        for part in parts:
            stripped = _strip_line(part)
            if not stripped and part.strip():
                continue  # only invisible characters: not a blank line between paragraphs
            line = strip_inline_chrome(stripped)
            if line != stripped:
                tally.add("page chrome", [stripped])
            reason = _is_junk(line) if line else None
            if reason:
                tally.add(reason, [line])
                line = ""
            lines.append((line, level if line else None))
    flags = chrome_flags([line for line, _ in lines])
    tally.add("page chrome", [line for (line, _), flag in zip(lines, flags, strict=True) if flag])
    lines = [("", None) if flag else item for item, flag in zip(lines, flags, strict=True)]
    return _drop_running_lines(lines, tally)


def _drop_running_lines(lines: list[Line], tally: _Tally) -> list[Line]:
    """Running headers/footers: a short unpunctuated line repeated on every page.

    Salutations ("各位代表！") and headings end in punctuation or carry a marker, so they
    are never taken; a title repeated once or twice (a compilation's TOC) is not either:
    the line must come back about once a page.
    """
    counts: dict[str, int] = {}
    for line, level in lines:
        if line and level is None:
            counts[line] = counts.get(line, 0) + 1
    # About once a page (~40 lines): a title quoted a few times in a long file is no header.
    least = max(_RUNNING_MIN_REPEATS, sum(counts.values()) // 40)
    running = {line for line, n in counts.items()
               if n >= least and len(line) <= 40 and not ends_sentence(line)
               and len(re.findall(r"[\u4e00-\u9fff]", line)) >= 2
               and parse_heading(line) is None and not _SALUTATION.match(line)
               and not BARE_NUMERAL.match(line)}
    if not running:
        return lines
    tally.add("running headers", [line for line, _ in lines if line in running])
    return [("", None) if line in running else (line, level) for line, level in lines]


def _groups(lines: list[Line]) -> list[list[Line]]:
    groups: list[list[Line]] = [[]]
    for line, level in lines:
        if line:
            groups[-1].append((line, level))
        elif groups[-1]:
            groups.append([])
    return [group for group in groups if group]


def _blank_separated(groups: list[list[Line]]) -> bool:
    """Whether blank lines separate paragraphs (not every line, as in some PDF extracts).

    Where they do, nearly every long blank-separated group ends a sentence; where blank
    lines follow every line of a wrapped text, many groups stop mid-sentence.
    """
    if len(groups) < _BLANK_MODE_MIN_GROUPS:
        return False
    texts = ["".join(line for line, _ in group) for group in groups]
    long = [text for text in texts if len(text) >= 60]
    if not long:
        return False
    return sum(1 for text in long if ends_sentence(text)) / len(long) >= _BLANK_MODE_ENDED


def _is_layout_heading(text: str) -> bool:
    """A short paragraph standing alone without closing punctuation is a heading."""
    if len(text) <= 8 and BARE_NUMERAL.match(normalise(text)[0]):
        return True
    return (len(text) <= _LAYOUT_HEADING_MAX and not ends_sentence(text) and not text.endswith(("，", ","))
            and parse_heading(text) is None and not _SALUTATION.match(text)
            and bool(re.search(r"[\u4e00-\u9fff]", text)))


def _units(lines: list[Line]) -> tuple[list[_Unit], bool]:
    """The text as units, and whether they are already paragraphs (blank mode)."""
    groups = _groups(lines)
    if not _blank_separated(groups):
        return [_Unit(collapse_spaces(line), level, raw=line) for group in groups for line, level in group], False
    units: list[_Unit] = []
    for group in groups:
        if any(level is not None for _, level in group):
            units += [_Unit(collapse_spaces(line), level, raw=line) for line, level in group]
            continue
        paragraphs = reflow([collapse_spaces(line) for line, _ in group], lists=False)
        single = len(paragraphs) == 1
        raw = group[0][0] if len(group) == 1 else ""
        units += [_Unit(p, None, single and _is_layout_heading(p), raw or p) for p in paragraphs]
    return units, True


def _outline_toc(texts: list[str]) -> tuple[int, int] | None:
    """(first, end) of a 目录 whose entries are headings met again in the body (no pages).

    "目录" then "一、…" / "（一）…" lines without page numbers: each entry is a short line
    that appears again further down. The run ends at the first line that does not.
    """
    last: dict[str, int] = {}
    for index, text in enumerate(texts):
        last[_match_key(text)] = index
    for i, text in enumerate(texts[:200]):
        if not _TOC_HEADER.match(text):
            continue
        end = i + 1
        while end < len(texts) and len(texts[end]) <= 60 and not ends_sentence(texts[end]) \
                and last[_match_key(texts[end])] > end:
            end += 1
        if end - i - 1 >= 2:
            return i, end
    return None


def _titles(units: list[_Unit], texts: list[str], toc: list[TocEntry] | None) -> list[_TitleBlock]:
    """Where the speeches start: titles from the format (level 0), the TOC, or the layout."""
    explicit: list[_TitleBlock] = []
    for i, unit in enumerate(units):
        if unit.level == 0:
            if explicit and explicit[-1].end == i:  # a title styled over several paragraphs
                last = explicit.pop()
                explicit.append(_TitleBlock(last.first, i + 1, last.title + unit.text))
            else:
                explicit.append(_TitleBlock(i, i + 1, unit.text))
    if explicit:
        return explicit
    if toc is not None:
        return _titles_from_toc(texts, toc, 0)
    found = _titles_from_layout(texts)
    if found:
        return found
    leading = _leading_title(texts)
    return [leading] if leading else []


def _paragraphs(units: list[_Unit], ready: bool) -> tuple[list[str], list[int | None], set[int]]:
    """Paragraphs of a speech body, their explicit levels, and which are layout headings."""
    paragraphs: list[str] = []
    levels: list[int | None] = []
    layout: set[int] = set()
    run: list[str] = []

    def flush() -> None:
        for paragraph in reflow(run):
            paragraphs.append(paragraph)
            levels.append(None)
        run.clear()

    for unit in units:
        bare = len(unit.text) <= 8 and bool(BARE_NUMERAL.match(normalise(unit.text)[0]))
        if ready or unit.level is not None or bare:
            flush()
            if unit.layout or bare:
                layout.add(len(paragraphs))
            paragraphs.append(unit.text)
            levels.append(unit.level)
        else:
            run.append(unit.text)
    flush()
    return paragraphs, levels, layout


def _speech(title: str, source: str, units: list[_Unit], ready: bool, index: int,
            preamble: list[str]) -> Speech | None:
    paragraphs, levels, layout = _paragraphs(units, ready)
    if not paragraphs and not title:
        return None
    _, speaker = _file_name_parts(source)
    return Speech(title or derive_title(source, paragraphs), source, tuple(paragraphs), index,
                  preamble=tuple(preamble), levels=tuple(levels) if any(x is not None for x in levels) else (),
                  layout_headings=frozenset(layout), speaker_candidate=speaker)


def _intro(units: list[_Unit], title: str) -> tuple[list[_Unit], list[str]]:
    """Text above the first title: body text, except a preview repeating the title.

    Download sites prepend "<title>同志们：..."; such a preview is kept in the preamble.
    Nothing else above a title is dropped.
    """
    key = _match_key(title)
    body = [unit for unit in units if key not in _match_key(unit.text)]
    previews = [unit.text for unit in units if key in _match_key(unit.text)]
    return body, previews


def _split_units(units: list[_Unit], ready: bool, source: str, tally: _Tally) -> list[Speech]:
    cover: list[str] = []
    toc = find_toc([unit.raw or unit.text for unit in units])
    entries = None
    if toc is not None:
        first, body_start, entries = toc
        # Anything before the TOC is a cover, kept in the first speech's preamble.
        cover = [unit.text for unit in units[:first]]
        tally.add("table of contents", [unit.text for unit in units[first:body_start]])
        units = units[body_start:]
    else:
        outline = _outline_toc([unit.text for unit in units])
        if outline is not None:
            tally.add("table of contents", [unit.text for unit in units[outline[0]:outline[1]]])
            units = units[:outline[0]] + units[outline[1]:]
    texts = [unit.text for unit in units]
    titles = _titles(units, texts, entries)
    if entries is not None and not titles:
        log.warning("%s: no TOC entry found in the body; reading it as one speech", source)
    if not titles:
        speech = _speech("", source, units, ready, 0, cover)
        return [speech] if speech and speech.paragraphs else []
    speeches = []
    for index, block in enumerate(titles):
        limit = titles[index + 1].first if index + 1 < len(titles) else len(units)
        title, subtitles = _split_title(texts[block.first:block.end])
        fixed = frozenset(i for i in range(block.end, min(limit, block.end + _PREAMBLE_MAX))
                          if units[i].level is not None)
        # Preamble lines keep their own spacing: "市长 王某某" separates office and name.
        raws = [" ".join((unit.raw or unit.text).split()) for unit in units[block.end:limit]]
        end = block.end + _preamble_end(raws, 0, limit - block.end, bool(subtitles),
                                        frozenset(i - block.end for i in fixed))
        preamble = subtitles + raws[:end - block.end]
        body = units[end:limit]
        if index == 0:
            intro, previews = _intro(units[:block.first], block.title)
            body = intro + body
            preamble = cover + previews + preamble
        speech = _speech(title, source, body, ready, index, preamble)
        if speech is not None:
            speeches.append(speech)
    return speeches


def _copy_key(paragraphs: tuple[str, ...]) -> tuple[str, ...]:
    # Reflowed paragraphs of a second copy are identical strings; hashing them is cheap.
    return paragraphs


def _without_copies(speeches: list[Speech], tally: _Tally, source: str) -> list[Speech]:
    """One copy of a report a file holds twice: a repeated speech, or a repeated body."""
    kept: list[Speech] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for speech in speeches:
        key = (_match_key(speech.title), _copy_key(speech.paragraphs))
        if key in seen and speech.paragraphs:
            tally.add("duplicate copy", [speech.title, *speech.preamble, *speech.paragraphs])
            tally.warnings.append(f"{source}: a second copy of “{speech.title}” was left out")
            continue
        seen.add(key)
        kept.append(_without_repeated_half(speech, tally, source))
    return [replace(speech, index=i) for i, speech in enumerate(kept)]


def _without_repeated_half(speech: Speech, tally: _Tally, source: str) -> Speech:
    """The speech with a second copy of its text (pasted twice) cut off.

    The copy is the tail from some paragraph k on that repeats, paragraph for paragraph,
    a run that started earlier (at the first paragraph, or after a page's lead text).
    """
    keys = _copy_key(speech.paragraphs)
    n = len(keys)
    first: dict[str, int] = {}
    for k, key in enumerate(keys):
        start = first.setdefault(key, k)
        if start == k or len(key) < 20 or n - k < 3 or start + (n - k) > k:
            continue
        if keys[k:] == keys[start:start + n - k]:
            tally.add("duplicate copy", list(speech.paragraphs[k:]))
            tally.warnings.append(f"{source}: the text of “{speech.title}” is there twice; "
                                  "the second copy was left out")
            return replace(speech, paragraphs=speech.paragraphs[:k], levels=speech.levels[:k],
                           layout_headings=frozenset(i for i in speech.layout_headings if i < k))
    return speech


def _split_blocks(blocks: list[Line], source: str) -> SpeechList:
    tally = _Tally()
    units, ready = _units(_clean_blocks(blocks, tally))
    speeches = _without_copies(_split_units(units, ready, source, tally), tally, source)
    return SpeechList(speeches, tally.removed, tally.warnings, tally.dropped)


def split_document(document, source: str) -> SpeechList:
    """All speeches of a document read by a reader (blocks of text with optional levels).

    ``document.blocks`` are paragraphs (or lines of a plain text, "" for a blank line);
    ``block.level`` 0 marks a title and 1, 2, ... headings given by the format (a Word
    heading style, a Markdown "#"), which are headings even without a 一、 marker.
    """
    return _split_blocks([(block.text, block.level) for block in document.blocks], source)


def split_speeches(text: str, source: str) -> SpeechList:
    """All speeches in one plain text, with titles and reflowed paragraphs."""
    return _split_blocks([(line, None) for line in text.split("\n")], source)


def load_speeches(path: Path, root: Path) -> SpeechList:
    """Read one corpus file and split it; source is the path relative to root with '/'."""
    path, root = Path(path), Path(root)
    try:
        source = path.relative_to(root).as_posix()
    except ValueError:
        source = path.as_posix()
    document = read_document(path)
    if document.warnings and not document.text().strip():
        raise CorpusError(document.warnings[0])  # e.g. a scanned PDF: say why, not "empty"
    for warning in document.warnings:
        log.warning("%s", warning)
    speeches = split_document(document, source)
    if not speeches and speeches.removed.get("table of contents"):
        # Otherwise reported as "empty or whitespace only", which is not what the user sees.
        raise CorpusError(f"{path} holds only a table of contents and no speech text; "
                          "nothing to index (add the speeches or remove the file)")
    for warning in speeches.warnings:
        log.info("%s", warning)
    speeches.properties = dict(document.properties)
    return speeches
