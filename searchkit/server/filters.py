"""The one seam between request parameters and search filters.

Filter parameters are named like the CLI flags; a repeated parameter means OR. A bad value
is a 400 with the CLI's one-line message (filters.Filter.parse); the routes pass the result
to `Searcher.search/similar(filter=...)` (server/app.py: `_search`, `_similar`).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from ..errors import InputError
from ..filters import Filter

FILTER_PARAMS = ("speaker", "role", "level", "place", "meeting", "year", "source", "tag")
FILTERS_AVAILABLE = True  # the page shows its filter controls only when True


def filter_values(getlist) -> dict[str, list[str]]:
    """{name: [values]} of the filter parameters given (getlist(name) -> list of strings)."""
    out = {}
    for name in FILTER_PARAMS:
        values = [v.strip() for v in getlist(name) if v is not None and str(v).strip()]
        if values:
            out[name] = values
    return out


def filter_from_params(given: Mapping[str, list[str]]):
    """A filter object for the searcher from {name: [values]}, or None for no filter."""
    if not given:
        return None
    flt = Filter.parse(**given)
    return None if flt.is_empty else flt


def check_known(names: Iterable[str], allowed: Iterable[str]) -> None:
    """Refuse a misspelt parameter instead of silently ignoring it (a typo in `speaker`
    would otherwise return unfiltered results that look filtered)."""
    allowed = set(allowed) | set(FILTER_PARAMS)
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise InputError(f"unknown parameter {unknown[0]!r}; use {', '.join(sorted(allowed))}")
