"""The keyword side: a Whoosh index over jieba tokens, scored with BM25F.

Fields (analysers in analysis.py):
- words: the passage, jieba precise words, positions for phrases;
- context: speech title + heading path, same analyser, boosted (a section's heading says
  what all of its text is about);
- subwords: pieces of compound words, a weak recall aid;
- bigrams: Han character bigrams with positions, for exact quoted phrases and for terms
  that jieba cuts differently in context than in the query.
Only the integer doc id (shared with the vector index) and the file key are stored:
passages themselves live in the metadata store.

Two query plans use these fields: "full" (all four, phrase and bigram bonuses) and "lean"
(words and headings, for indexes where Whoosh's per-match scoring in Python gets slow).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Collection, Iterable, Sequence

from whoosh import fields, index, scoring
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage

from . import analysis, config
from .backends import Passage
from .manifest import EngineBlock
from .models import Chunk
from .query import SENTENCE_TERM_CHARS as MAX_BIGRAM_PHRASE
from .query import ParsedQuery


@dataclass(frozen=True)
class KeywordWeights:
    """Query-time boosts (relative to `words`) and limits of the keyword side, tuned with
    `searchkit eval`; none of them is stored in the index."""

    words: float = 1.0
    context: float = 0.6
    subwords: float = 0.3
    bigrams: float = 1.0
    phrase: float = 1.0  # bonus when a typed term's words stand together in the passage
    coord: float = 0.5  # Or(scale=...): a passage matching more of the query's terms scores higher
    k1: float = 1.2
    b: float = 0.75
    # The lean plan, for big indexes (see build_query): at most this many words are scored.
    lean_max_words: int = 8
    lean_paragraph_words: int = 24  # of a pasted paragraph's key words (`similar`)
    # A paragraph's key words (both plans) are scored only while their passages add up to
    # at most this many postings: Whoosh's cost is proportional to them (~10 us each), and
    # a paragraph's lesser words are common ones. Dev-set figures are the same without it.
    paragraph_postings: int = 10_000


# Query plans (config.KEYWORD_PLANS). Whoosh scores each matching passage in Python and
# cannot skip any under the full plan (phrase matchers have no score bound), so its cost
# grows with the corpus: ~0.9 s for 招商引资 措施 at 50k passages (scripts/bench_scale.py).
# The lean plan scores words and headings only, the most specific words first.


def schema() -> fields.Schema:
    return fields.Schema(
        doc_id=fields.ID(stored=True, unique=True),
        file_key=fields.ID(stored=False),
        words=fields.TEXT(analyzer=analysis.word_analyzer(), phrase=True),
        context=fields.TEXT(analyzer=analysis.word_analyzer(), phrase=False),
        subwords=fields.TEXT(analyzer=analysis.subword_analyzer(), phrase=False),
        bigrams=fields.TEXT(analyzer=analysis.bigram_analyzer(), phrase=True),
    )


def context_text(chunk: Chunk) -> str:
    return "\n".join((chunk.title, *chunk.heading))


SCHEMA_VERSION = 1  # bump when the fields above change: indexes are then rebuilt


class KeywordIndex:
    """The keyword backend (backends.KeywordBackend) on Whoosh."""

    ENGINE = "whoosh"

    @staticmethod
    def engine_settings() -> dict:
        """What an index must have been built with to be searched by this code."""
        return {"schema_version": SCHEMA_VERSION, "analysis": analysis.analyzer_settings()}

    @classmethod
    def manifest_block(cls) -> EngineBlock:
        import whoosh

        return EngineBlock(cls.ENGINE, whoosh.versionstring(), cls.engine_settings())

    def __init__(self, path: Path, weights: KeywordWeights | None = None, plan: str = "auto"):
        config.resolve_keyword_plan(plan, 0)  # a clear error for an unknown plan, now
        self.path = Path(path)
        self.weights = weights or KeywordWeights()
        self.plan = plan
        self._ix = None
        self._lean: bool | None = None
        self._docnums: dict[int, int] | None = None  # doc id -> Whoosh docnum, for `allowed`

    # -- writing -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path) -> KeywordIndex:
        Path(path).mkdir(parents=True, exist_ok=True)
        index.create_in(str(path), schema())
        return cls(path)

    def update(self, remove: Collection[int], add: Sequence[Passage], progress=None) -> None:
        """Delete the passages with doc ids `remove`, then add (doc_id, file_key, chunk) rows; one commit."""
        ix = self._open()
        writer = ix.writer(limitmb=256)
        try:
            for doc_id in remove:
                writer.delete_by_term("doc_id", str(doc_id))
            for doc_id, file_key, chunk in add:
                writer.add_document(doc_id=str(doc_id), file_key=file_key, words=chunk.text,
                                    context=context_text(chunk), subwords=chunk.text, bigrams=chunk.text)
                if progress:
                    progress(1)
            writer.commit(optimize=False)
        except BaseException:
            writer.cancel()
            raise
        self._ix = self._lean = self._docnums = None  # reopen to see the commit

    # -- reading -------------------------------------------------------------------------
    def _open(self):
        if self._ix is None:
            # Without mmap: whoosh3 wraps each mmapped segment file in BytesIO, which copies
            # it whole on every searcher open (200 ms per query at 50k passages, growing
            # with the index); plain file reads copy only what a query touches.
            self._ix = FileStorage(str(self.path), supports_mmap=False).open_index()
        return self._ix

    def doc_count(self) -> int:
        return self._open().doc_count()

    def is_lean(self) -> bool:
        if self._lean is None:
            self._lean = config.resolve_keyword_plan(self.plan, self.doc_count()) == "lean"
        return self._lean

    def build_query(self, parsed: ParsedQuery) -> wq.Query | None:
        """Terms mean "about all of these" (OR with a coordination bonus); phrases are required."""
        if self.is_lean():
            return self._lean_query(parsed)
        scored = [q for q in (self._term_query(p) for p in parsed.terms + parsed.phrases) if q is not None]
        if not scored:
            return None
        return self._require_phrases(parsed, scored[0] if len(scored) == 1 else wq.Or(scored, scale=self.weights.coord))

    def _require_phrases(self, parsed: ParsedQuery, ranking: wq.Query) -> wq.Query:
        """`ranking`, limited to passages holding every quoted phrase verbatim."""
        filters = [q for q in (self._exact(p) for p in parsed.phrases) if q is not None]
        return wq.And([*filters, ranking]) if filters else ranking

    def _lean_query(self, parsed: ParsedQuery) -> wq.Query | None:
        """The words of every term and phrase, most specific first, in passages and headings."""
        w = self.weights
        pieces = [[word for word, _, _ in analysis.words(piece)] for piece in parsed.all_pieces]
        words = [word for piece in pieces for word in piece]
        content = list(dict.fromkeys(t for t in words if t not in analysis.QUERY_STOPWORDS)) or list(dict.fromkeys(words))
        if len(content) > w.lean_max_words:
            idf = self.idf(content)
            content = sorted(content, key=lambda t: -idf[t])[: w.lean_max_words]
        if not content:
            return None
        kept = set(content)
        phrases: list[wq.Query] = []  # typed multi-word terms keep their phrase bonus (cheap: one field)
        for piece in pieces:
            piece_words = [t for t in piece if t in kept]
            if len(piece_words) > 1 and w.phrase > 0:
                phrases.append(wq.Phrase("words", piece_words, slop=1, boost=w.phrase))
        return self._require_phrases(parsed, wq.Or([wq.Term("words", t, boost=w.words) for t in content]
                                                   + [wq.Term("context", t, boost=w.context) for t in content] + phrases))

    def _term_query(self, term: str) -> wq.Query | None:
        """One typed term, scored across fields.

        Its words count one by one (a term the user typed without spaces may be a whole
        sentence); words in their typed order earn a phrase bonus, and bigrams and
        sub-words catch passages where jieba cut the same characters differently.
        """
        w = self.weights
        tokens = [word for word, _, _ in analysis.words(term)]
        content = [t for t in tokens if t not in analysis.QUERY_STOPWORDS] or tokens
        if not content:
            return None
        parts: list[wq.Query] = [
            wq.Or([wq.Term("words", t) for t in content], boost=w.words),
            wq.Or([wq.Term("context", t) for t in content], boost=w.context),
        ]
        if len(content) > 1 and w.phrase > 0:
            parts.append(wq.Phrase("words", content, slop=1, boost=w.phrase))
        grams = [g for g, _, _, _ in analysis.bigrams(term)]
        if grams and w.bigrams > 0 and len(grams) <= MAX_BIGRAM_PHRASE:
            parts.append(_sequence("bigrams", grams, w.bigrams))
        pieces = [p for t in content for p in analysis.subwords_of(t)]
        if pieces and w.subwords > 0:
            parts.append(wq.Or([wq.Term("subwords", p) for p in pieces], boost=w.subwords))
        return wq.Or(parts)

    def _exact(self, phrase: str) -> wq.Query | None:
        grams = [g for g, _, _, _ in analysis.bigrams(phrase)]
        # A filter, so it should add (almost) nothing to the score; a zero boost would
        # divide by zero in Whoosh's quality-skipping.
        return _sequence("bigrams", grams, 1e-3) if grams else None

    def contains_exact(self, text: str, allowed: AbstractSet[int] | None = None) -> bool:
        """Whether some passage (of `allowed`, if given) holds `text` verbatim (bigram phrase;
        ignores punctuation)."""
        q = self._exact(text)
        if q is None or allowed is not None and not allowed:
            return False
        with self._open().searcher() as searcher:  # stop at the first match, nothing scored
            docs = searcher.docs_for_query(q)
            if allowed is not None:
                keep = self._allowed_docnums(searcher, allowed)
                docs = (d for d in docs if d in keep)
            return next(iter(docs), None) is not None

    def search(self, parsed: ParsedQuery, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        return self.search_query(self.build_query(parsed), limit, allowed)

    def search_weighted_terms(self, weighted: Sequence[tuple[str, float]], limit: int,
                              allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """A bag of (word, weight) pairs, e.g. the key words of a pasted paragraph."""
        if not weighted:
            return []
        w = self.weights
        weighted = sorted(weighted, key=lambda x: -x[1])
        weighted = self._within_budget(weighted[: w.lean_paragraph_words] if self.is_lean() else weighted)
        parts = []
        for word, weight in weighted:
            parts.append(wq.Term("words", word, boost=weight * w.words))
            parts.append(wq.Term("context", word, boost=weight * w.context))
        return self.search_query(wq.Or(parts), limit, allowed)

    def _within_budget(self, weighted: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
        """The heaviest words first, skipping any that would take the postings past the budget
        (the heaviest one always stays)."""
        budget = self.weights.paragraph_postings
        kept: list[tuple[str, float]] = []
        postings = 0
        with self._open().reader() as reader:
            for word, weight in weighted:
                df = reader.doc_frequency("words", word) + reader.doc_frequency("context", word)
                if kept and postings + df > budget:
                    continue
                kept.append((word, weight))
                postings += df
        return kept

    def search_query(self, q: wq.Query | None, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """The best `limit` passages for a Whoosh query, among `allowed` doc ids if given.

        Filtering happens inside Whoosh (its `filter=`), so the scores are those of an
        unfiltered search: the result is the unfiltered ranking with the others left out.
        """
        if q is None or limit <= 0 or allowed is not None and not allowed:
            return []
        w = self.weights
        with self._open().searcher(weighting=scoring.BM25F(B=w.b, K1=w.k1)) as searcher:
            if allowed is None:
                results = searcher.search(q, limit=limit)
            else:
                # limit=None, then cut: with a small limit Whoosh prunes query branches that
                # cannot lift a passage over the running bar, which changes scores (measured:
                # 2.99 instead of 3.06 for the same passage), and the allowed passages alone
                # set another bar than the whole index. Only allowed passages are scored.
                results = searcher.search(q, limit=None, filter=self._allowed_docnums(searcher, allowed))[:limit]
            return [(int(hit["doc_id"]), float(hit.score)) for hit in results]

    def _allowed_docnums(self, searcher, allowed: AbstractSet[int]) -> set[int]:
        """Whoosh's document numbers of the allowed doc ids (the map is read once per open)."""
        if self._docnums is None:
            self._docnums = {int(fields["doc_id"]): docnum for docnum, fields in searcher.reader().iter_docs()}
        return {self._docnums[d] for d in allowed if d in self._docnums}

    def idf(self, words: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of words in the `words` field (0 for unknown words)."""
        import math

        reader = self._open().reader()
        try:
            n = max(reader.doc_count(), 1)
            out = {}
            for word in words:
                df = reader.doc_frequency("words", word)
                out[word] = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
            return out
        finally:
            reader.close()


def _sequence(field_name: str, tokens: Sequence[str], boost: float) -> wq.Query:
    if len(tokens) == 1:
        return wq.Term(field_name, tokens[0], boost=boost)
    return wq.Phrase(field_name, list(tokens), slop=1, boost=boost)
