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

import codecs
import logging
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path, PurePosixPath

from .headings import WEAK_FORMS, is_heading_line, parse_heading, starts_new_paragraph
from .errors import CorpusError
from .models import Speech

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- reading

_FALLBACK_ENCODINGS = ["gb18030", "big5", "utf_16_le", "utf_16_be"]


def _plausible_text(text: str) -> bool:
    """Most characters are letters, CJK, digits, punctuation or whitespace."""
    if not text:
        return True
    odd = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0xE000 <= ord(ch) <= 0xF8FF)
    return odd / len(text) < 0.01


def _decode_utf16_without_bom(data: bytes) -> str | None:
    for encoding in ("utf_16_le", "utf_16_be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible_text(text):
            return text
    return None


def _decode(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:  # only UTF-16 explains NUL bytes in a text file
        return _decode_utf16_without_bom(data)
    from charset_normalizer import from_bytes  # imported lazily: rarely needed

    best = from_bytes(data, cp_isolation=_FALLBACK_ENCODINGS).best()
    if best is None:
        return None
    text = str(best)
    return text if _plausible_text(text) else None


def read_text(path: Path) -> str:
    """The text of a .txt corpus file: UTF-8 (BOM optional), UTF-16, GB18030 or Big5."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}; "
                          "check that the file exists and is readable") from error
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        text = None
    if text is None or (b"\x00" in data and "\x00" in text):
        raise CorpusError(f"{path} is not a readable text file (not UTF-8, UTF-16, GB18030 "
                          "or Big5, or binary); save it as UTF-8 text or remove it from the corpus")
    return text


# --------------------------------------------------------------------------- cleaning

_DROPPED_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\r"), None)
_SPACE_CHARS = dict.fromkeys(map(ord, "\u00a0\u3000\t\u2002\u2003\u2009\u202f\x0b\x0c"), " ")
# Chinese characters and full-width/CJK punctuation: spaces next to these are artefacts.
_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·、]"
_SPACE_NEAR_CJK = re.compile(rf"(?<={_CJK}) +| +(?={_CJK})")
_PAGE_NUMBER = re.compile(r"^[-—－\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/共]\s*\d{1,4}\s*页?)?[-—－\s]*$")
# Download-site footers such as "本DOCX文档由 www.zciku.com/中词库网 生成...".
_BOILERPLATE = re.compile(r"(?:www\.|https?://).*(?:文档|下载|范文|生成|版权)|(?:文档|范文).*(?:www\.|https?://)")


def _normalised_lines(text: str) -> list[str]:
    """Non-blank, stripped lines with invisible characters removed; spaces NOT collapsed."""
    text = text.translate(_DROPPED_CHARS).translate(_SPACE_CHARS)
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if line and not _PAGE_NUMBER.match(line) and not _BOILERPLATE.search(line):
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


def _continues(paragraph: str, line: str) -> bool:
    """Whether line continues paragraph (which was cut at a line or page end)."""
    if ends_sentence(paragraph):
        return False
    if is_heading_line(paragraph):
        return len(line) <= _WRAPPED_HEADING_TAIL and parse_heading(line) is None
    if len(paragraph) <= _LIST_ITEM_MAX and len(line) <= _LIST_ITEM_MAX and not ends_sentence(line):
        return False  # "勤奋好学、学以致用" / "联系群众、服务人民": a list, not a wrapped line
    return not (starts_new_paragraph(line) or _SALUTATION.match(line))


def reflow(lines: list[str]) -> list[str]:
    """Join lines cut mid-sentence into paragraphs; headings stay paragraphs of their own."""
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and _continues(paragraphs[-1], line):
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


def derive_title(source: str, paragraphs: list[str]) -> str:
    """A title for a speech without a title line: a meaningful file name, else its first heading."""
    stem = re.sub(r"^[\d_\-. ]+", "", PurePosixPath(source).stem)
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


# --------------------------------------------------------------------------- speeches


def split_speeches(text: str, source: str) -> list[Speech]:
    """All speeches in one file's text, with titles and reflowed paragraphs."""
    raw = _normalised_lines(text)
    toc = find_toc(raw)
    lines = [collapse_spaces(line) for line in raw]
    if toc is not None:
        _, body_start, entries = toc
        # Anything before the TOC is a cover; the TOC itself never reaches the body.
        lines = lines[body_start:]
        titles = _titles_from_toc(lines, entries, 0)
        if not titles:
            log.warning("%s: no TOC entry found in the body; reading it as one speech", source)
    else:
        titles = _titles_from_layout(lines)

    if not titles:
        paragraphs = reflow(lines)
        return [Speech(derive_title(source, paragraphs), source, tuple(paragraphs), 0)] \
            if paragraphs else []

    speeches = []
    for index, block in enumerate(titles):
        body_end = titles[index + 1].first if index + 1 < len(titles) else len(lines)
        body = lines[block.end:body_end]
        if index == 0 and toc is None:
            # Text above the first title is kept only if it is prose that does not merely
            # preview the title (download sites prepend "<title>同志们：...") nor a cover line.
            key = _match_key(block.title)
            intro = [line for line in lines[:block.first]
                     if key not in _match_key(line) and ends_sentence(line)]
            body = intro + body
        speeches.append(Speech(block.title, source, tuple(reflow(body)), index))
    return speeches


def load_speeches(path: Path, root: Path) -> list[Speech]:
    """Read one corpus file and split it; source is the path relative to root with '/'."""
    path, root = Path(path), Path(root)
    try:
        source = path.relative_to(root).as_posix()
    except ValueError:
        source = path.as_posix()
    text = read_text(path)
    speeches = split_speeches(text, source)
    if not speeches and find_toc(_normalised_lines(text)) is not None:
        # Otherwise reported as "empty or whitespace only", which is not what the user sees.
        raise CorpusError(f"{path} holds only a table of contents and no speech text; "
                          "nothing to index (add the speeches or remove the file)")
    return speeches
