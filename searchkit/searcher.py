"""The search facade: one object that answers `search` and `similar` in any mode.

It opens the live generation once, runs the keyword and/or vector side, fuses the two
lists (fusion.py), folds near-identical passages into one hit, and returns Hits that say
where each came from. Nothing heavy is loaded until a mode needs it: keyword search never
imports FAISS or an embedder.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import analysis, fusion, store
from .bigram_index import BigramIndex, passage_text
from .config import Settings
from .engines import backend_of, engines, expected_blocks
from .errors import InputError
from .filters import AllowedDocs, Filter
from .keyword_index import KeywordWeights
from .models import Hit
from .query import ParsedQuery, parse_query, require_text

MODES = ("hybrid", "keyword", "vector")
MAX_K = 1000
SIMILAR_MAX_CHARS = 510  # m3e-small reads 512 tokens, about one per Han character


@dataclass(frozen=True)
class RankingSettings:
    """Query-time ranking. Every number here was chosen on two judged sets at once (the bundled
    dev queries and a real policy-QA benchmark; README › Relevance) and is a general rule."""

    depth: int = 100  # candidates taken from each side before fusion
    # Hybrid = convex combination of normalised scores (fusion.convex_combination).
    fusion: str = "convex"  # or "rrf" (see FUSIONS)
    # The keyword side's share for typed queries (key words, and questions whose words the
    # corpus holds) and for pasted paragraphs (`similar`: the model reads a whole paragraph
    # well, so its side keeps more). Measured 0.6-0.75 on both sets.
    keyword_weight: float = 0.7
    paragraph_keyword_weight: float = 0.6
    # The vector side is scaled from `vector_window` below its best cosine (floored at 0), not
    # from the list's lowest candidate: m3e-small's cosines crowd into a narrow band, and
    # stretching the list's own spread to [0, 1] let the 100th candidate look as good as the
    # keyword side's best. Measured 0.1-0.3 on both sets; 0.15 is the middle.
    vector_window: float = 0.15
    # A question typed as a sentence is answered by the keyword side only as far as the
    # corpus holds its words: `coverage` = the idf-weighted share of the question's bigrams
    # that the best keyword passage holds, a bigram no passage holds counting at the idf of
    # df = 0 (it is information the keyword side cannot match, the mark of a question put in
    # other words: 勒紧裤腰带 for 过紧日子). A paraphrase scores 0.05-0.2, a citizen's
    # question about a policy 0.3-0.9. Below `coverage_low` the vector side ranks alone; the
    # keyword share rises to `keyword_weight` at `coverage_full`.
    coverage_low: float = 0.15
    coverage_full: float = 0.2
    # Key words and paragraphs rank by both keyword indexes (Whoosh words + bigram BM25),
    # each scaled by its own best score; this is the bigram index's share.
    bigram_share: float = 0.5
    rrf_k: float = 60.0
    fold_threshold: float = 0.85  # bigram Jaccard above which two passages count as one
    own_passage_containment: float = 0.8  # `similar` leaves out a passage this much inside the paragraph
    paragraph_terms: int = 48  # key words taken from a pasted paragraph for the keyword side
    paragraph_extra_depth: int = 5  # room for the pasted paragraph's own passage and its copies
    # Candidates read beyond k to fill k hits after folding near-duplicates.
    fold_reserve_factor: int = 3
    fold_reserve_min: int = 20
    keyword: KeywordWeights = field(default_factory=KeywordWeights)

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise InputError(f"unknown fusion {self.fusion!r}; use one of: {', '.join(FUSIONS)}")


FUSIONS = ("convex", "rrf")


@dataclass
class SearchResponse:
    query: str
    mode: str
    k: int
    took_ms: float
    hits: list[Hit]
    notices: list[str] = field(default_factory=list)
    terms: tuple[str, ...] = ()  # what to highlight

    def to_dict(self) -> dict:
        return {
            "query": self.query, "mode": self.mode, "k": self.k, "took_ms": round(self.took_ms, 1),
            "results": [hit_to_dict(h) for h in self.hits],
        }


def hit_to_dict(hit: Hit) -> dict:
    c = hit.chunk
    return {
        "rank": hit.rank, "score": round(hit.score, 6), "chunk_id": c.chunk_id, "source": c.source,
        "title": c.title, "heading": list(c.heading), "text": c.text,
        "keyword_rank": hit.keyword_rank, "vector_rank": hit.vector_rank,
        "keyword_score": None if hit.keyword_score is None else round(hit.keyword_score, 6),
        "vector_score": None if hit.vector_score is None else round(hit.vector_score, 6),
        "sources": list(hit.sources),
        "speech": hit.speech if hit.speech is not None else _unknown_speech(c.title),
    }


def _unknown_speech(title: str) -> dict:
    return {"title": title or None, "speaker": None, "role": None, "level": None, "place": None,
            "meeting": None, "date": None, "tags": []}


def validate(mode: str, k: int) -> tuple[int, list[str]]:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    if k < 1:
        raise InputError(f"-k must be at least 1 (got {k})")
    if k > MAX_K:
        return MAX_K, [f"-k {k} is more than {MAX_K}; showing the top {MAX_K}"]
    return k, []


def _on_live_generation(query_method):
    """Run a query on the live generation (reopened if a build published a new one), with
    query text cut by that generation's jieba table in this thread."""
    @functools.wraps(query_method)
    def run(self, *args, **kwargs):
        self.refresh()
        token = analysis.activate(self._lexicon)
        try:
            return query_method(self, *args, **kwargs)
        finally:
            analysis.deactivate(token)
    return run


class Searcher:
    def __init__(self, settings: Settings, embedder=None,
                 ranking: RankingSettings | None = None):
        self.settings = settings
        self.ranking = ranking or RankingSettings()
        self._embedder = embedder
        self._given_embedder = embedder
        self._generation: store.Generation | None = None
        self._lease: store.Lease | None = None
        self._lexicon: analysis.Lexicon | None = None
        self._open_lock = threading.RLock()
        self._keyword: Any = None  # a backends.KeywordBackend
        self._vectors: Any = None  # a backends.VectorBackend, loaded on first use (FAISS is imported then)
        self._vectors_lock = threading.Lock()
        self._meta: store.MetaStore | None = None
        self._bigrams: Any = None  # bigram_index.BigramIndex, or the Milvus collection's bigram field

    # -- opening ---------------------------------------------------------------------------
    # The Searcher may live long (a server): before each query it checks which generation
    # CURRENT names (one small read) and reopens when a build published a new one. While it
    # uses a generation it holds a lease on it (store.Lease), so no build deletes it.
    @property
    def generation(self) -> store.Generation:
        with self._open_lock:
            if self._generation is None:
                self._open(store.current_generation_name(Path(self.settings.index_dir)))
            return self._generation  # type: ignore[return-value]

    def refresh(self) -> bool:
        """Reopen if a build published a new generation since; True if it did."""
        with self._open_lock:
            name = store.current_generation_name(Path(self.settings.index_dir))
            if self._generation is not None and name == self._generation.path.name:
                return False
            self._open(name)
            return True

    def _open(self, name: str | None) -> None:
        index_dir = Path(self.settings.index_dir)
        lease = store.Lease(index_dir, name) if name else None
        try:
            generation = store.open_generation(index_dir)
            if generation.path.name != name:  # published again meanwhile: hold the one opened
                lease.release() if lease else None
                lease = store.Lease(index_dir, generation.path.name)
                generation = store.open_generation(index_dir)  # verified again under the lease
            embedder_name = self._given_embedder.name if self._given_embedder else self.settings.model
            store.check_compatible(generation.manifest, expected_blocks(
                self.settings, embedder_name, backend=backend_of(generation.manifest)), index_dir)
        except BaseException:
            if lease:
                lease.release()
            raise
        self.close()
        self._generation, self._lease = generation, lease
        lexicon = generation.path / store.LEXICON
        # Query text is cut with the generation's own jieba table, read on demand (fast start).
        self._lexicon = analysis.Lexicon.open(lexicon) if lexicon.exists() else analysis.Lexicon.full()

    @property
    def meta(self) -> store.MetaStore:
        if self._meta is None:
            self._meta = store.MetaStore(self.generation.meta_path, readonly=True)
        return self._meta

    @property
    def backend(self) -> str:
        return backend_of(self.generation.manifest)

    @property
    def keyword(self) -> Any:
        if self._keyword is None:
            self._keyword = engines(self.backend).keyword(self.generation.keyword_dir, self.ranking.keyword,
                                                          self.settings.keyword_plan)
        return self._keyword

    @property
    def vectors(self):
        with self._vectors_lock:  # loaded by whichever thread asks first
            if self._vectors is None:
                self._vectors = engines(self.backend).vectors.load(self.generation.vectors_path)
            return self._vectors

    @property
    def embedder(self):
        if self._embedder is None:
            from .encoders import for_queries

            self._embedder = for_queries(self.settings, self.generation)
        return self._embedder

    def close(self) -> None:
        """Let go of the open generation (its files, its lease); the next query reopens."""
        if self._meta:
            self._meta.close()
        if self._lease:
            self._lease.release()
        self._generation = self._meta = self._keyword = self._vectors = self._lease = self._bigrams = None
        self._embedder = self._given_embedder

    @property
    def bigrams(self):
        if self._bigrams is None:
            if self.backend == "milvus":
                from .milvus_backend import MilvusBigrams

                self._bigrams = MilvusBigrams(self.keyword)
            else:
                self._bigrams = BigramIndex(self.generation.path / store.BIGRAMS_DIR)
        return self._bigrams

    # -- queries ---------------------------------------------------------------------------
    @_on_live_generation
    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               filter: Filter | None = None) -> SearchResponse:  # noqa: A002 (the API's word)
        started = time.perf_counter()
        k, notices = validate(mode, k)
        parsed = parse_query(query)
        allowed = self.allowed(filter)
        if allowed is not None and not allowed:
            return self._nothing_allowed(parsed.text, mode, k, started, notices, filter)
        depth = max(self.ranking.depth, k)
        lists = self._run_sides(mode, lambda: self._keyword_search(parsed, depth, allowed),
                                lambda: self._vector_search(parsed.semantic_text, depth, allowed))
        if parsed.phrases and "vector" in lists:  # a quoted phrase is a hard requirement in every mode
            lists["vector"] = self._require_phrases(lists["vector"], parsed)
        weight = self._keyword_share(parsed, lists.get("keyword", [])) if mode == "hybrid" else 0.0
        hits = self._finish(lists, mode, k, weight)
        terms = tuple(dict.fromkeys(parsed.phrases + tuple(
            w for t in parsed.terms for w, _, _ in analysis.words(t) if w not in analysis.QUERY_STOPWORDS)))
        return SearchResponse(parsed.text, mode, k, (time.perf_counter() - started) * 1000, hits, notices, terms)

    @_on_live_generation
    def similar(self, text: str, k: int = 10, mode: str = "hybrid",
                filter: Filter | None = None) -> SearchResponse:  # noqa: A002 (the API's word)
        started = time.perf_counter()
        k, notices = validate(mode, k)
        text = require_text(text, "pasted paragraph")
        allowed = self.allowed(filter)
        if allowed is not None and not allowed:
            return self._nothing_allowed(text, mode, k, started, notices, filter)
        if len(text) > SIMILAR_MAX_CHARS and mode != "keyword":
            notices.append(f"the paragraph has {len(text)} characters; the model reads the first "
                           f"{SIMILAR_MAX_CHARS}, the keyword side reads all of it")
        depth = max(self.ranking.depth, k) + self.ranking.paragraph_extra_depth
        key_terms = self._paragraph_terms(text) if mode != "vector" else []

        def keyword_side():
            tops = None
            if allowed is not None:  # scaled as unfiltered (see _keyword_search)
                tops = (_top(self.keyword.search_weighted_terms(key_terms, 1)), _top(self.bigrams.search(text, 1)))
            return self._both_keyword_lists(self.keyword.search_weighted_terms(key_terms, depth, allowed),
                                            self.bigrams.search(text, depth, allowed=allowed), depth, tops)

        lists = self._run_sides(mode, keyword_side,
                                lambda: self._vector_search(text[:SIMILAR_MAX_CHARS], depth, allowed))
        own = _bigram_set(text)
        limit = self.ranking.own_passage_containment
        hits = self._finish(lists, mode, k, self.ranking.paragraph_keyword_weight,
                            exclude=lambda hit_text: _containment(own, _bigram_set(hit_text)) >= limit)
        return SearchResponse(text, mode, k, (time.perf_counter() - started) * 1000, hits, notices,
                              tuple(t for t, _ in key_terms[:8]))

    def allowed(self, flt: Filter | None) -> AllowedDocs | None:
        """The doc ids a filter lets through (one SQL query on the speeches table), handed
        to every side so each ranks among them before its top-k; None = no filter. The
        filter rides along, for engines that filter by metadata themselves (Milvus)."""
        if flt is None or flt.is_empty:
            return None
        return AllowedDocs(self.meta.allowed_doc_ids(flt), flt)

    def _nothing_allowed(self, text, mode, k, started, notices, flt: Filter | None) -> SearchResponse:
        what = flt.describe() if flt is not None else "the filter"
        notices = [*notices, f"no speech matches {what}; see `searchkit facets` for what is there"]
        return SearchResponse(text, mode, k, (time.perf_counter() - started) * 1000, [], notices)

    # -- internals -------------------------------------------------------------------------
    def _keyword_search(self, parsed: ParsedQuery, depth: int, allowed=None) -> list[tuple[int, float]]:
        """A sentence ranks by bigram BM25 alone (jieba may cut its words unlike the passage's,
        and Whoosh's cost grows with its length); key words by both keyword indexes."""
        if parsed.is_sentence:
            return self.bigrams.search(parsed.semantic_text, depth, allowed=allowed)
        found = self.keyword.search(parsed, depth, allowed)
        grams = self.bigrams.search(parsed.semantic_text, depth, allowed=allowed)
        if parsed.phrases:
            grams = self._require_phrases(grams, parsed)
        tops = None
        if allowed is not None:
            # Each list is scaled by its unfiltered best score, so that the filtered ranking
            # is the unfiltered one with the other passages left out (not re-scaled by the
            # best allowed passage). Two one-hit searches.
            unfiltered = self.bigrams.search(parsed.semantic_text, depth if parsed.phrases else 1)
            if parsed.phrases:
                unfiltered = self._require_phrases(unfiltered, parsed)
            tops = (_top(self.keyword.search(parsed, 1)), _top(unfiltered))
        return self._both_keyword_lists(found, grams, depth, tops)

    def _both_keyword_lists(self, words, grams, depth: int,
                            tops: tuple[float | None, float | None] | None = None) -> list[tuple[int, float]]:
        share = self.ranking.bigram_share
        fused = fusion.convex_combination({"words": words, "bigrams": grams},
                                          {"words": 1.0 - share, "bigrams": share},
                                          lower_bounds={"words": 0.0, "bigrams": 0.0},
                                          upper_bounds={"words": tops[0], "bigrams": tops[1]} if tops else None)
        return [(item.doc_id, item.score) for item in fused[:depth]]

    def _keyword_share(self, parsed: ParsedQuery, keyword_hits) -> float:
        """The keyword side's weight in hybrid fusion (see RankingSettings.coverage_low)."""
        r = self.ranking
        if not parsed.is_sentence:
            return r.keyword_weight
        coverage = self._coverage(parsed.semantic_text, keyword_hits[:1])
        ramp = (coverage - r.coverage_low) / (r.coverage_full - r.coverage_low)
        return r.keyword_weight * min(1.0, max(0.0, ramp))

    def _coverage(self, text: str, hits) -> float:
        from .bigram_index import bm25_idf, tokens

        unseen = bm25_idf(self.bigrams.doc_count(), 0)  # see RankingSettings.coverage_low
        idf = {gram: value or unseen for gram, value in self.bigrams.idf(dict.fromkeys(tokens(text))).items()}
        total = sum(idf.values())
        if not hits or total <= 0:
            return 0.0
        chunk = self.meta.chunks([hits[0][0]]).get(hits[0][0])
        held = set(tokens(passage_text(chunk))) if chunk else set()
        return sum(v for gram, v in idf.items() if gram in held) / total

    def _run_sides(self, mode: str, keyword_side, vector_side) -> dict:
        """Run the sides a mode needs. For a fresh process the first query is mostly
        loading (Whoosh, FAISS, the ONNX encoder), so in hybrid mode the loads overlap:
        FAISS and the encoder load in threads while the keyword side searches (onnxruntime
        and FAISS release the GIL while they work)."""
        _ = self.generation  # open (and verify) once, before any thread touches it
        if mode == "keyword":
            return {"keyword": keyword_side()}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            pool.submit(lambda: self.vectors)  # warm-up only; vector_side waits on the same lock
            if mode == "vector":
                return {"vector": vector_side()}
            vector_future = pool.submit(vector_side)
            keyword_hits = keyword_side()
            return {"keyword": keyword_hits, "vector": vector_future.result()}

    def _vector_search(self, text: str, depth: int, allowed=None) -> list[tuple[int, float]]:
        vector = self.embedder.encode([text])[0]
        return self.vectors.search_passages(vector, depth, allowed)

    def _require_phrases(self, ranked, parsed: ParsedQuery):
        """Keep the passages holding every quoted phrase, ignoring spaces and letter case (as
        the keyword side does: its bigrams are lowercased), so "GDP" finds gdp on both sides."""
        chunks = self.meta.chunks([d for d, _ in ranked])
        phrases = [p.lower() for p in parsed.phrases]
        return [(d, s) for d, s in ranked if d in chunks and all(
            p in _squash(chunks[d].text).lower() for p in phrases)]

    def _paragraph_terms(self, text: str) -> list[tuple[str, float]]:
        """The paragraph's key words by tf-idf against the index (jieba words, stop words out)."""
        counts = Counter(w for w, _, _ in analysis.words(text)
                         if w not in analysis.QUERY_STOPWORDS and (len(w) > 1 or not w.isascii()))
        counts = Counter({w: c for w, c in counts.items() if len(w) > 1})
        idf = self.keyword.idf(counts)
        scored = sorted(((w, (1 + math.log(c)) * idf[w]) for w, c in counts.items() if idf[w] > 0),
                        key=lambda x: (-x[1], x[0]))[: self.ranking.paragraph_terms]
        top = scored[0][1] if scored else 1.0
        return [(w, s / top) for w, s in scored]

    def _finish(self, lists, mode, k, keyword_weight: float, exclude=None) -> list[Hit]:
        r = self.ranking
        if mode == "hybrid":
            weights = {"keyword": keyword_weight, "vector": 1.0 - keyword_weight}
            if r.fusion == "convex":
                # BM25 has a true zero; cosine does not (see RankingSettings.vector_window).
                top = max((s for _, s in lists["vector"]), default=0.0)
                fused = fusion.convex_combination(lists, weights, lower_bounds={
                    "keyword": 0.0, "vector": top - r.vector_window})
            else:
                fused = fusion.reciprocal_rank_fusion(lists, k=r.rrf_k, weights=weights)
        else:
            fused = fusion.reciprocal_rank_fusion({mode: lists[mode]}, k=0)
            for item in fused:  # single mode: keep the side's own score
                item.score = item.scores[mode]
        candidates = fused[: max(k * r.fold_reserve_factor, k + r.fold_reserve_min)]
        chunks = self.meta.chunks([f.doc_id for f in candidates])
        keys = self.meta.file_keys_of_chunks([f.doc_id for f in candidates]) if candidates else {}
        sources = self.meta.sources_by_file_key() if candidates else {}
        speeches = self.meta.speeches_of((keys[d], c.speech_index) for d, c in chunks.items() if d in keys)
        hits: list[Hit] = []
        kept_grams: list[set] = []
        for item in candidates:
            chunk = chunks.get(item.doc_id)
            if chunk is None:
                continue
            if exclude and exclude(chunk.text):
                continue
            grams = _bigram_set(chunk.text)
            duplicate = next((i for i, g in enumerate(kept_grams) if _near_copy(g, grams, r.fold_threshold)), None)
            if duplicate is not None:  # fold: the better-ranked copy stays, it gains this source
                hit = hits[duplicate]
                hit.sources = tuple(dict.fromkeys(hit.sources + (chunk.source,)))
                continue
            file_key = keys.get(item.doc_id)
            hits.append(Hit(
                chunk=chunk, score=item.score, rank=len(hits) + 1,
                keyword_rank=item.ranks.get("keyword"), keyword_score=item.scores.get("keyword"),
                vector_rank=item.ranks.get("vector"), vector_score=item.scores.get("vector"),
                sources=tuple(sources.get(file_key, [chunk.source]) if file_key is not None else [chunk.source]),
                speech=speech_json(speeches.get((file_key, chunk.speech_index)) if file_key is not None else None,
                                    chunk.title),
            ))
            kept_grams.append(grams)
            if len(hits) == k:
                break
        return hits


def _top(ranked) -> float | None:
    return ranked[0][1] if ranked else None


def speech_json(meta, title: str) -> dict:
    """The `speech` object of a hit: the metadata's JSON, or every field unknown but the title."""
    return meta.to_json() if meta is not None else _unknown_speech(title)


def _squash(text: str) -> str:
    return "".join(text.split())


def _bigram_set(text: str) -> set[str]:
    t = "".join(ch for ch in text if ch.isalnum())
    return {t[i:i + 2] for i in range(len(t) - 1)} or {t}


def _near_copy(a: set, b: set, threshold: float) -> bool:
    """Jaccard(a, b) >= threshold, without intersecting sets whose sizes already rule it out
    (Jaccard <= small / large): on long passages the intersections are the costly part."""
    small, large = sorted((len(a), len(b)))
    if not small or small < threshold * large:
        return False
    common = len(a & b)
    return common >= threshold * (small + large - common)


def _containment(query: set, passage: set) -> float:
    """How much of the smaller of the two is inside the other: 1.0 for a passage copied whole."""
    small = min(len(query), len(passage))
    return len(query & passage) / small if small else 0.0
