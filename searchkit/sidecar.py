"""The user's own metadata: `corpus/metadata.csv`, whose values override extraction.

One row per file (the `speech` cell empty) or per speech (`speech` = the speech's index in its
file as `searchkit speeches` shows it, counting from 0, or its title). Columns (the first row
names them, in any order; Chinese names are accepted too):

    file, speech, title, speaker, role, level, place, meeting, date, tags

An empty cell keeps what was extracted; `-` clears it (the value is unknown). `date` is
YYYY, YYYY-MM or YYYY-MM-DD (also 2022/7/2, which Excel writes for dates); `tags` are separated
by `;` or `，`. A speech row beats its file's row, which beats extraction.
Encodings: UTF-8 with or without BOM (Excel's "CSV UTF-8" writes one) and GB18030 (Excel's
plain "CSV" on Chinese Windows).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import CorpusError
from .metadata import LEVELS, SpeechMetadata, find_date, format_date, normalise

SIDECAR_NAME = "metadata.csv"
COLUMNS = ("file", "speech", "title", "speaker", "role", "level", "place", "meeting", "date",
           "tags")
VALUE_COLUMNS = COLUMNS[2:]
_ALIASES = {"文件": "file", "文件名": "file", "讲话": "speech", "篇": "speech", "标题": "title",
            "讲话人": "speaker", "发言人": "speaker", "职务": "role", "层级": "level",
            "级别": "level", "地点": "place", "地方": "place", "会议": "meeting", "日期": "date",
            "时间": "date", "标签": "tags"}
CLEAR = "-"  # a cell that says "unknown" instead of "keep what was extracted"
_TAG_SPLIT = re.compile(r"[;；，,]")
_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")


@dataclass(frozen=True)
class SidecarRow:
    line: int
    file: str
    speech: int | str | None  # None: the whole file; int: its index; str: its title
    values: dict = field(default_factory=dict)  # column → value (None = cleared)


@dataclass
class Sidecar:
    """The rows of a metadata.csv, ready to apply to extracted metadata."""

    name: str = SIDECAR_NAME
    rows: list[SidecarRow] = field(default_factory=list)

    def _rows_for(self, source: str) -> list[SidecarRow]:
        return [row for row in self.rows if row.file == source]

    def apply(self, meta: SpeechMetadata, speech_index: int | None = None) -> SpeechMetadata:
        """`meta` with the file's row, then the speech's row (by index or title), applied."""
        rows = self._rows_for(meta.source)
        title = normalise(meta.title or "")
        for row in sorted(rows, key=lambda r: r.speech is not None):  # file rows first
            if row.speech is None or row.speech == speech_index \
                    or (isinstance(row.speech, str) and row.speech == title):
                meta = meta.replace(**row.values)
        return meta

    def files(self) -> set[str]:
        return {row.file for row in self.rows}

    def unknown_files(self, sources) -> list[str]:
        """Files named in the sidecar that are not in the corpus (for a warning)."""
        return sorted(self.files() - set(sources))


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # Excel's "Unicode text"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{name}: not UTF-8 or GB18030 text; save it from Excel as "
                      "\"CSV UTF-8 (comma delimited)\"")


def parse_date(text: str) -> str | None:
    """YYYY, YYYY-MM, YYYY-MM-DD (or / . separators, or 2022年7月2日) → the canonical form;
    None if not a date."""
    text = normalise(text)
    if re.fullmatch(r"\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?", text):
        return find_date(text)
    m = _DATE.fullmatch(text)
    if not m:
        return None
    month = int(m[2]) if m[2] else None
    return format_date(int(m[1]), month, int(m[3]) if m[3] else None)


def _header(cells: list[str], where: str) -> list[str]:
    """The column names of the first row; `where` is "metadata.csv line N"."""
    columns = []
    for cell in cells:
        key = cell.strip().lstrip("\ufeff").lower()
        key = _ALIASES.get(key, key)
        if key not in COLUMNS:
            raise CorpusError(f'{where}: unknown column "{cell.strip()}"; '
                              f"use {', '.join(COLUMNS)}")
        if key in columns:
            raise CorpusError(f'{where}: column "{key}" appears twice; keep one')
        columns.append(key)
    if "file" not in columns:
        raise CorpusError(f'{where}: no "file" column; the first row must name the '
                          f"columns ({', '.join(COLUMNS)})")
    return columns


def _value(column: str, cell: str, where: str):
    """A cell's override value (None = clear), or raise with what is wrong and how to fix it."""
    if cell == CLEAR:
        return () if column == "tags" else None
    if column == "date":
        date = parse_date(cell)
        if date is None:
            raise CorpusError(f'{where}: date "{cell}" is not a date; '
                              "use YYYY, YYYY-MM or YYYY-MM-DD")
        return date
    if column == "level":
        level = cell.removesuffix("级")
        if level not in LEVELS:
            raise CorpusError(f'{where}: level "{cell}" is not a level; '
                              f"use one of {', '.join(LEVELS)}")
        return level
    if column == "tags":
        return tuple(dict.fromkeys(t.strip() for t in _TAG_SPLIT.split(cell) if t.strip()))
    return normalise(cell) if column != "title" else cell


def _row(columns: list[str], cells: list[str], line: int, name: str) -> SidecarRow | None:
    where = f"{name} line {line}"
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
        raise CorpusError(f"{where}: {len(cells)} cells but {len(columns)} columns; "
                          "quote cells that contain a comma")
    record = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)}
    if not any(record.values()):
        return None  # blank line
    file = record["file"].replace("\\", "/").removeprefix("./")
    if not file:
        raise CorpusError(f"{where}: the file cell is empty; name the file relative to the "
                          "corpus folder, e.g. 2023/县政府/讲话.txt")
    if file.startswith("/") or re.match(r"^[A-Za-z]:/", file) or ".." in PurePosixPath(file).parts:
        raise CorpusError(f'{where}: file "{file}" must be relative to the corpus folder, '
                          "e.g. 2023/县政府/讲话.txt")
    speech = record.get("speech", "")
    speech_key: int | str | None = int(speech) if speech.isdigit() else (normalise(speech) or None)
    values = {col: _value(col, record[col], where)
              for col in VALUE_COLUMNS if record.get(col)}
    return SidecarRow(line, file, speech_key, values)


def sidecar_of(corpus_root: Path) -> Sidecar:
    """The corpus's metadata.csv, or an empty Sidecar when there is none."""
    path = Path(corpus_root) / SIDECAR_NAME
    return load_sidecar(path) if path.is_file() else Sidecar()


def load_sidecar(path: Path) -> Sidecar:
    """Read and check a metadata.csv; a bad row raises CorpusError naming the file and line."""
    path = Path(path)
    name = path.name
    try:
        text = _decode(path.read_bytes(), name)
    except OSError as error:
        raise CorpusError(f"{name}: cannot be read ({error.strerror}); check its permissions") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    sidecar = Sidecar(name=name)
    try:
        columns = None
        seen: dict[tuple, int] = {}
        for cells in reader:
            if columns is None:
                if not any(c.strip() for c in cells):
                    continue
                columns = _header(cells, f"{name} line {reader.line_num}")
                continue
            row = _row(columns, cells, reader.line_num, name)
            if row is None:
                continue
            key = (row.file, row.speech)
            if key in seen:
                what = row.file if row.speech is None else f"{row.file} speech {row.speech}"
                raise CorpusError(f"{name} line {row.line}: a second row for {what} "
                                  f"(the first is line {seen[key]}); keep one")
            seen[key] = row.line
            sidecar.rows.append(row)
    except csv.Error as error:
        raise CorpusError(f"{name} line {reader.line_num}: {error}; check the quotes") from None
    return sidecar
