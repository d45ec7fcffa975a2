"""Readable snippets: the window of a passage that holds most of the query's terms."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    text: str
    spans: tuple[tuple[int, int], ...]  # (start, end) of highlighted terms inside `text`
    cut_left: bool
    cut_right: bool


def make_snippet(text: str, terms: tuple[str, ...] | list[str], width: int = 160) -> Snippet:
    text = re.sub(r"\s+", " ", text).strip()
    spans = _find(text, terms)
    if len(text) <= width:
        return Snippet(text, tuple(spans), False, False)
    start = _best_window(text, spans, width)
    # Prefer to start at a sentence or clause boundary just before the window.
    boundary = max(text.rfind(p, max(0, start - 30), start + 1) for p in "。！？；，")
    if boundary >= 0 and start - boundary <= 30:
        start = boundary + 1
    end = min(len(text), start + width)
    inside = tuple((max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start)
    return Snippet(text[start:end], inside, start > 0, end < len(text))


def _find(text: str, terms) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t and t.strip()}, key=len, reverse=True):
        for m in re.finditer(re.escape(term), text, flags=re.IGNORECASE):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    return sorted(spans)


def _best_window(text: str, spans, width: int) -> int:
    if not spans:
        return 0
    best_start, best_score = 0, -1
    for s, _ in spans:
        start = max(0, min(s - width // 4, len(text) - width))
        covered = {text[a:b] for a, b in spans if a >= start and b <= start + width}
        score = len(covered) * 10 + sum(1 for a, b in spans if a >= start and b <= start + width)
        if score > best_score:
            best_start, best_score = start, score
    return best_start


def to_rich_markup(snippet: Snippet, style: str = "bold yellow") -> str:
    from rich.markup import escape

    out, pos = [], 0
    for s, e in snippet.spans:
        out.append(escape(snippet.text[pos:s]))
        out.append(f"[{style}]{escape(snippet.text[s:e])}[/]")
        pos = e
    out.append(escape(snippet.text[pos:]))
    return ("…" if snippet.cut_left else "") + "".join(out) + ("…" if snippet.cut_right else "")
