"""Merging ranked lists from the keyword and vector sides. Pure functions, no I/O.

Each input list is [(doc_id, score), ...] best first. Every fused result keeps the rank
and score it had in each input, so a hit can say why it is where it is.

- reciprocal_rank_fusion: score = sum_i w_i / (k + rank_i). Uses ranks only.
- convex_combination: score = sum_i w_i * norm_i(score_i), with each list normalised by
  a theoretical lower bound and its observed top ("TM2C2" in Bruch et al. 2023, "An
  Analysis of Fusion Functions for Hybrid Retrieval"): unlike plain min-max it does not
  stretch a weak list's noise to fill [0, 1].
Ties are broken by the best rank in any list given weight, then by list order, then by doc
id, so the output is deterministic for the same input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Hashable, Mapping, Sequence, TypeVar

K = TypeVar("K", bound=Hashable)  # the doc id type: what goes in comes out (int chunk ids, test strings)
Ranked = Sequence[tuple[K, float]]


@dataclass
class Fused(Generic[K]):
    doc_id: K
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # 1-based rank in each list it appears in
    scores: dict[str, float] = field(default_factory=dict)


def _collect(lists: Mapping[str, Ranked[K]]) -> dict[K, Fused[K]]:
    fused: dict[K, Fused[K]] = {}
    for name, ranked in lists.items():
        seen: set[K] = set()
        for rank, (doc_id, score) in enumerate(ranked, start=1):
            if doc_id in seen:  # a list naming a doc twice counts its first (best) place
                continue
            seen.add(doc_id)
            item = fused.setdefault(doc_id, Fused(doc_id, 0.0))
            item.ranks[name] = rank
            item.scores[name] = float(score)
    return fused


def _ordered(fused: dict[K, Fused[K]], lists: Mapping[str, Ranked[K]],
             weights: Mapping[str, float] | None = None) -> list[Fused[K]]:
    names = list(lists)
    # A list given no weight breaks no ties either: its order must not leak into the result.
    counted = {n for n in names if weights is None or weights.get(n, 0.0) > 0}

    def key(item: Fused[K]):
        ranks = {n: r for n, r in item.ranks.items() if n in counted}
        best = min(ranks.values(), default=float("inf"))
        first_list = min((names.index(n) for n, r in ranks.items() if r == best), default=len(names))
        return (-item.score, best, first_list, str(item.doc_id))

    return sorted(fused.values(), key=key)


def reciprocal_rank_fusion(lists: Mapping[str, Ranked[K]], k: float = 60.0,
                           weights: Mapping[str, float] | None = None) -> list[Fused[K]]:
    if k < 0:
        raise ValueError("k must be >= 0")
    fused = _collect(lists)
    for item in fused.values():
        item.score = sum((weights or {}).get(name, 1.0) / (k + rank) for name, rank in item.ranks.items())
    return _ordered(fused, lists)


def normalize_scores(ranked: Ranked[K], lower_bound: float | None = None,
                     upper_bound: float | None = None) -> dict[K, float]:
    """Map scores to [0, 1]: (s - lower) / (top - lower); lower defaults to the list's minimum,
    top to its maximum (a filtered list passes its unfiltered top, so that its scores mean
    what they would have meant without the filter).

    A list whose scores are all equal maps to 1.0 (no division by zero).
    """
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    top = max(scores) if upper_bound is None else max(upper_bound, max(scores))
    low = min(scores) if lower_bound is None else lower_bound
    span = top - low
    out: dict[K, float] = {}
    for doc_id, s in ranked:
        if doc_id not in out:
            out[doc_id] = 1.0 if span <= 0 else max(0.0, (s - low) / span)
    return out


def convex_combination(lists: Mapping[str, Ranked[K]], weights: Mapping[str, float],
                       lower_bounds: Mapping[str, float | None] | None = None,
                       upper_bounds: Mapping[str, float | None] | None = None) -> list[Fused[K]]:
    """Weighted sum of normalised scores; a doc missing from a list gets 0 from it."""
    fused = _collect(lists)
    for name, ranked in lists.items():
        normalized = normalize_scores(ranked, (lower_bounds or {}).get(name), (upper_bounds or {}).get(name))
        weight = weights.get(name, 0.0)
        for doc_id, value in normalized.items():
            fused[doc_id].score += weight * value
    return _ordered(fused, lists, weights)
