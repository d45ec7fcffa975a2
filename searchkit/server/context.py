"""Reading the index beyond ranked hits: a passage in its speech, the list of speeches, facets.

These run on the Searcher's own thread (engine.Engine.call) and read its metadata
database; the SQL lives here, in one place, so a change of the metadata schema touches
one module.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from .. import analysis
from ..errors import InputError
from ..query import parse_query
from ..snippets import make_snippet

if TYPE_CHECKING:
    from ..searcher import Searcher


class NotFound(Exception):
    """What was asked for is not in the index (a 404, not a bug)."""


NEIGHBOURS = 2  # passages shown before and after the one asked for
MAX_NEIGHBOURS = 20


def query_terms(query: str | None) -> tuple[str, ...]:
    """The words to highlight for a query: the rule of Searcher.search (quoted phrases,
    then the jieba words of each term without stop words)."""
    if not query or not query.strip():
        return ()
    try:
        parsed = parse_query(query)
    except InputError:
        return ()
    return tuple(dict.fromkeys(parsed.phrases + tuple(
        w for t in parsed.terms for w, _, _ in analysis.words(t) if w not in analysis.QUERY_STOPWORDS)))


def highlight_spans(text: str, terms) -> list[list[int]]:
    """[start, end) of each occurrence of the terms in text, longest term first, no overlaps."""
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t and t.strip()}, key=len, reverse=True):
        for m in re.finditer(re.escape(term), text, flags=re.IGNORECASE):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    return [list(s) for s in sorted(spans)]


def snippet_dict(text: str, terms) -> dict:
    s = make_snippet(text, tuple(terms))
    return {"text": s.text, "spans": [list(x) for x in s.spans], "cut_left": s.cut_left, "cut_right": s.cut_right}


def _chunk_dict(chunk, terms) -> dict:
    return {"chunk_id": chunk.chunk_id, "heading": list(chunk.heading), "text": chunk.text,
            "position": chunk.position, "highlights": highlight_spans(chunk.text, terms)}


def passage_context(searcher: Searcher, chunk_id: str, query: str | None, neighbours: int = NEIGHBOURS) -> dict:
    """The passage, its neighbours in the same speech, the speech's heading outline and the
    query's words highlighted (spans into each passage's text)."""
    from ..searcher import speech_json  # loaded already: this runs on the Searcher's thread

    if not 0 <= neighbours <= MAX_NEIGHBOURS:
        raise InputError(f"neighbours must be between 0 and {MAX_NEIGHBOURS} (got {neighbours})")
    meta = searcher.meta
    row = meta.db.execute("SELECT doc_id, file_key, speech_index, position FROM chunks WHERE chunk_id=? "
                          "ORDER BY doc_id LIMIT 1", (chunk_id,)).fetchone()
    if row is None:
        raise NotFound(f"no passage {chunk_id!r} in the index (it may have changed since the search); "
                          "search again")
    doc_id, file_key, speech, position = row
    terms = query_terms(query)
    speech_rows = list(meta.db.execute(
        "SELECT doc_id, chunk_id, heading, position FROM chunks WHERE file_key=? AND speech_index=? "
        "ORDER BY position", (file_key, speech)))
    at = next(i for i, r in enumerate(speech_rows) if r[0] == doc_id)
    window = speech_rows[max(0, at - neighbours): at + neighbours + 1]
    chunks = meta.chunks([r[0] for r in window])
    chunk = chunks[doc_id]
    sources = meta.sources_by_file_key().get(file_key, [chunk.source])
    speech_meta = meta.speeches_of([(file_key, speech)]).get((file_key, speech))
    return {
        "chunk_id": chunk.chunk_id, "title": chunk.title, "source": chunk.source, "sources": sources,
        # the speech object of every hit (speaker, role, date…), so the view can say who spoke when
        "speech": speech_json(speech_meta, chunk.title),
        "heading": list(chunk.heading), "terms": list(terms),
        "passage": _chunk_dict(chunk, terms),
        "before": [_chunk_dict(chunks[r[0]], terms) for r in window if r[3] < position],
        "after": [_chunk_dict(chunks[r[0]], terms) for r in window if r[3] > position],
        "outline": _outline(speech_rows, chunk.heading),
        "passages_in_speech": len(speech_rows), "index_in_speech": at + 1,
    }


def _outline(speech_rows, current_heading: tuple[str, ...]) -> list[dict]:
    """Each heading of the speech once, in order: {title, level, chunk_id of its first
    passage, current (on the path of the passage shown)}."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for _doc_id, chunk_id, heading_json, _position in speech_rows:
        heading = tuple(json.loads(heading_json))
        for depth in range(1, len(heading) + 1):
            prefix = heading[:depth]
            if prefix in seen:
                continue
            seen.add(prefix)
            out.append({"title": prefix[-1], "level": depth, "chunk_id": chunk_id,
                        "current": current_heading[:depth] == prefix})
    return out


def speeches(searcher: Searcher, flt=None) -> list[dict]:
    """Every speech in the index (that `flt`, a filters.Filter, lets through): title, source
    file(s), its number in the file, passages, its first passage (to open it in context) and
    its metadata (`speech`, as in every hit)."""
    meta = searcher.meta
    known = {(m.source, i): m for m, i, _n in meta.speeches(flt)}
    sources = meta.sources_by_file_key()
    rows = meta.db.execute(
        "SELECT c.file_key, c.speech_index, c.source, c.title, n.passages, c.chunk_id FROM chunks c "
        "JOIN (SELECT file_key, speech_index, MIN(position) AS first, COUNT(*) AS passages FROM chunks "
        "      GROUP BY file_key, speech_index) n "
        "ON c.file_key = n.file_key AND c.speech_index = n.speech_index AND c.position = n.first "
        "ORDER BY c.source, c.speech_index")
    return [{"title": title, "source": source, "sources": sources.get(key, [source]), "speech_index": speech,
             "passages": passages, "first_chunk_id": first, "speech": known[(source, speech)].to_json()}
            for key, speech, source, title, passages, first in rows if (source, speech) in known]


def facets(searcher: Searcher, flt=None) -> dict:
    """Values to filter on, from what the index holds: files with their passage counts;
    speaker, level, year and meeting with their speech counts (filters.facet_counts) among
    the speeches `flt` lets through."""
    from ..filters import facet_counts
    from .filters import FILTER_PARAMS, FILTERS_AVAILABLE

    meta = searcher.meta
    by_source = dict(meta.db.execute("SELECT source, COUNT(*) FROM chunks GROUP BY source"))
    keys = dict((source, key) for source, key, _size, _n in meta.files())
    per_key = dict(meta.db.execute("SELECT file_key, COUNT(*) FROM chunks GROUP BY file_key"))
    # every name a file goes by is a value of `source` (the same content under two names is indexed once)
    source_counts = {source: per_key.get(key, by_source.get(source, 0)) for source, key in keys.items()}
    speeches_total = meta.db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT file_key, speech_index FROM chunks)").fetchone()[0]
    values: dict[str, list[dict]] = {name: [] for name in FILTER_PARAMS}
    values["source"] = [{"value": s, "count": n} for s, n in sorted(source_counts.items())]
    for name, counts in facet_counts(m for m, _i, _n in meta.speeches(flt)).items():
        values[name] = [{"value": v, "count": n} for v, n in counts.items()]
    return {"filters_available": FILTERS_AVAILABLE,
            "counts": {"files": len(keys), "speeches": speeches_total, "passages": meta.counts()[0]},
            "facets": values}
