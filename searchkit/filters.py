"""Narrowing a search by metadata: the typed `Filter`, its SQL twin, and facet counts.

Semantics (the same in `Filter.matches` and `Filter.to_sql`, tested against each other):
- speakers, levels, tags: exact; roles, places, meetings: substring;
- years: inclusive ranges; a speech whose date is unknown never matches a year filter;
- sources: globs on the path relative to the corpus (`*` crosses folders, as in SQLite GLOB);
  a pattern also matches everything below a folder it names: `2023/县政府`, `2023/县政府/`
  and `2023/县政府/*` all mean that folder;
- several values of one kind: any of them (OR); different kinds: all of them (AND).
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, fields
from fnmatch import fnmatchcase
from functools import partial
from typing import Iterable, Sequence

from .errors import InputError
from .metadata import LEVELS, SpeechMetadata, normalise

# The speeches table of the metadata store: one row per speech, `speech_key` as the lead's
# store defines it (default `source#index`, see `speech_row`).
SPEECHES_DDL = """
CREATE TABLE IF NOT EXISTS speeches (
    speech_key   TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    speech_index INTEGER NOT NULL,
    title        TEXT,
    speaker      TEXT,
    role         TEXT,
    level        TEXT,
    place        TEXT,
    meeting      TEXT,
    date         TEXT,      -- YYYY, YYYY-MM or YYYY-MM-DD
    year         INTEGER,   -- the date's year, for --year ranges
    tags_json    TEXT NOT NULL DEFAULT '[]',
    folder       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS speeches_source ON speeches(source);
"""
SQL_GLOB_FUNCTION = "searchkit_source_match"


def source_matches(pattern: str, source: str) -> bool:
    """A source glob matches the path itself or a folder above it."""
    pattern = pattern.rstrip("/") or "*"
    return fnmatchcase(source, pattern) or fnmatchcase(source, pattern + "/*")


def register_functions(connection: sqlite3.Connection) -> None:
    """What `Filter.to_sql` needs on a connection: the source-glob function."""
    connection.create_function(
        SQL_GLOB_FUNCTION, 2,
        lambda pattern, source: int(source is not None and source_matches(pattern, source)),
        deterministic=True)


def speech_key(source: str, speech_index: int) -> str:
    return f"{source}#{speech_index}"


def speech_row(meta: SpeechMetadata, speech_index: int, key: str | None = None) -> dict:
    """The `speeches` row of one speech (column → value), ready for `INSERT … VALUES (:col…)`."""
    return {"speech_key": key or speech_key(meta.source, speech_index), "source": meta.source,
            "speech_index": speech_index, "title": meta.title, "speaker": meta.speaker,
            "role": meta.role, "level": meta.level, "place": meta.place,
            "meeting": meta.meeting, "date": meta.date, "year": meta.year,
            "tags_json": json.dumps(list(meta.tags), ensure_ascii=False),
            "folder": meta.folder}


def metadata_from_row(row) -> SpeechMetadata:
    """Back from a `speeches` row (a sqlite3.Row or a mapping)."""
    return SpeechMetadata(
        title=row["title"], speaker=row["speaker"], role=row["role"], level=row["level"],
        place=row["place"], meeting=row["meeting"], date=row["date"],
        tags=tuple(json.loads(row["tags_json"] or "[]")), source=row["source"],
        folder=row["folder"] or "")


# --------------------------------------------------------------------------- the filter

_YEAR = re.compile(r"(\d{4})(?:\.\.(\d{4}))?")
_EXAMPLES = {"speaker": "a name, e.g. --speaker 林小明",
             "role": "part of a role, e.g. --role 市长",
             "place": "part of a place name, e.g. --place 四川",
             "tag": "a tag, e.g. --tag 招商引资",
             "meeting": "part of a meeting's name, e.g. --meeting 经济工作会议"}


@dataclass(frozen=True)
class Filter:
    """Which speeches a query may return. Empty tuples mean "any"."""

    speakers: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    meetings: tuple[str, ...] = ()
    years: tuple[tuple[int, int], ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, *, speaker: Sequence[str] = (), level: Sequence[str] = (),
              role: Sequence[str] = (), place: Sequence[str] = (), meeting: Sequence[str] = (),
              year: Sequence[str] = (), source: Sequence[str] = (),
              tag: Sequence[str] = ()) -> Filter:
        """From the values of repeated CLI flags; a bad value raises a one-line InputError."""
        def each(values):  # one value or several; None (a flag not given) = none
            return (values,) if isinstance(values, str) else tuple(values or ())

        return cls(
            speakers=tuple(_text("speaker", v) for v in each(speaker)),
            levels=tuple(_level(v) for v in each(level)),
            roles=tuple(_text("role", v) for v in each(role)),
            places=tuple(_text("place", v) for v in each(place)),
            meetings=tuple(_text("meeting", v) for v in each(meeting)),
            years=tuple(_years(v) for v in each(year)),
            sources=tuple(_source(v) for v in each(source)),
            tags=tuple(_text("tag", v) for v in each(tag)))

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def matches(self, meta: SpeechMetadata, source: str | None = None) -> bool:
        source = meta.source if source is None else source
        tests = (
            (self.speakers, lambda v: meta.speaker == v),
            (self.levels, lambda v: meta.level == v),
            (self.roles, lambda v: meta.role is not None and v in meta.role),
            (self.places, lambda v: meta.place is not None and v in meta.place),
            (self.meetings, lambda v: meta.meeting is not None and v in meta.meeting),
            (self.years, lambda r: meta.year is not None and r[0] <= meta.year <= r[1]),
            (self.sources, lambda p: source_matches(p, source)),
            (self.tags, lambda v: v in meta.tags),
        )
        return all(any(map(test, values)) for values, test in tests if values)

    def to_sql(self, table: str = "") -> tuple[str, list]:
        """A WHERE clause over `speeches` (or its alias `table`) and its parameters.

        The connection needs `register_functions` when the filter has sources.
        """
        col = (lambda name: f"{table}.{name}") if table else (lambda name: name)
        clauses: list[str] = []
        params: list = []

        def any_of(values, one):  # (a OR b OR …): one copy of the test per value
            clauses.append("(" + " OR ".join(one for _ in values) + ")")

        for values, name in ((self.speakers, "speaker"), (self.levels, "level")):
            if values:
                clauses.append(f"{col(name)} IN ({', '.join('?' * len(values))})")
                params += values
        for values, name in ((self.roles, "role"), (self.places, "place"),
                             (self.meetings, "meeting")):
            if values:
                any_of(values, f"instr({col(name)}, ?) > 0")  # exact substring; NULL never
                params += values
        if self.years:
            any_of(self.years, f"{col('year')} BETWEEN ? AND ?")
            params += [bound for pair in self.years for bound in pair]
        if self.sources:
            any_of(self.sources, f"{SQL_GLOB_FUNCTION}(?, {col('source')})")
            params += self.sources
        if self.tags:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({col('tags_json')}) AS tag "
                           f"WHERE tag.value IN ({', '.join('?' * len(self.tags))}))")
            params += self.tags
        return (" AND ".join(clauses) or "1"), params

    def describe(self) -> str:
        """The filter as flags, for messages: `--speaker 林小明 --year 2019..2022`."""
        flags = []
        for name, values in (("speaker", self.speakers), ("level", self.levels),
                             ("role", self.roles), ("place", self.places),
                             ("meeting", self.meetings), ("source", self.sources),
                             ("tag", self.tags)):
            flags += [f"--{name} {v}" for v in values]
        flags += [f"--year {lo}" if lo == hi else f"--year {lo}..{hi}" for lo, hi in self.years]
        return " ".join(flags)


class AllowedDocs(frozenset):
    """The doc ids a filter lets through, with the filter itself (backends that store the
    metadata, like Milvus, run the filter inside the engine and check against the ids)."""

    filter: Filter

    def __new__(cls, ids: Iterable[int], flt: Filter):
        allowed = super().__new__(cls, ids)
        allowed.filter = flt
        return allowed


def _bad(flag: str, value: str, advice: str) -> InputError:
    shown = value if value.strip() else '""'
    return InputError(f"--{flag} {shown}: {advice}")


def _text(flag: str, value: str) -> str:
    text = normalise(str(value))
    if not text:
        raise _bad(flag, str(value), f"give {_EXAMPLES[flag]}")
    return text


def _level(value: str) -> str:
    level = normalise(str(value)).removesuffix("级")  # 县级 → 县
    if level not in LEVELS:
        raise _bad("level", str(value), f"use one of {', '.join(LEVELS)}")
    return level


def _years(value: str) -> tuple[int, int]:
    m = _YEAR.fullmatch(normalise(str(value)))
    if not m:
        raise _bad("year", str(value), "use a year like 2022 or a range 2019..2022")
    lo, hi = int(m[1]), int(m[2] or m[1])
    if lo > hi:
        raise _bad("year", str(value), f"the range runs backwards; use {hi}..{lo}")
    return lo, hi


def _source(value: str) -> str:
    pattern = str(value).strip().replace("\\", "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        raise _bad("source", str(value), "give a path or glob inside the corpus, "
                   "e.g. --source '2023/县政府/'")
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:/", pattern):
        raise _bad("source", str(value), "use a path relative to the corpus folder, "
                   "e.g. --source '2023/县政府/'")
    return pattern


# --------------------------------------------------------------------------- facets


def facet_counts(metas: Iterable[SpeechMetadata]) -> dict[str, dict[str, int]]:
    """Speeches per speaker, level, year and meeting (most first; unknown values left out)."""
    counters: dict[str, Counter[str]] = {"speaker": Counter(), "level": Counter(), "year": Counter(), "meeting": Counter()}
    for meta in metas:
        for name, value in (("speaker", meta.speaker), ("level", meta.level),
                            ("year", str(meta.year) if meta.year else None),
                            ("meeting", meta.meeting)):
            if value:
                counters[name][value] += 1
    order = {level: i for i, level in enumerate(LEVELS)}

    def key(item: tuple[str, int], name: str) -> tuple[int, str]:
        value, count = item
        if name == "level":
            return order.get(value, 99), value
        if name == "year":
            return -int(value), value  # newest first
        return -count, value

    return {name: dict(sorted(c.items(), key=partial(key, name=name)))
            for name, c in counters.items()}
