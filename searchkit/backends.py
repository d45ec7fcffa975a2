"""What the indexer and the Searcher need from a storage engine: one protocol per side.

Whoosh (keyword_index.KeywordIndex) and FAISS (vector_index.VectorIndex) are the first
implementations; engines.py says which ones a build uses. A new backend (Milvus next):

1. implements the protocol below, ids included: a passage is known by its integer doc id
   everywhere (keyword index, vector index, meta.sqlite); the vector side stores one vector
   per sentence window under id `doc_id * 256 + window` (vector_index.vector_ids) and must
   give the ids back unchanged;
2. records itself in the manifest (`ENGINE`, `engine_settings()`, `manifest_block()`): an
   index is opened only by the engine and settings that wrote it;
3. honours `allowed` (a set of doc ids, or None for all) exactly: the result must be the
   unfiltered ranking with the other passages left out (same scores, same order), and an
   empty set means no results. Metadata filters arrive this way;
4. passes tests/test_backend_conformance.py (add your factory to its parameter lists).

Writes happen only into a new generation's folder (store.GenerationWriter): a backend
never changes files a published generation holds, so readers never see a half-written index.
"""
from __future__ import annotations

from pathlib import Path
from typing import AbstractSet, Callable, Collection, Iterable, Protocol, Sequence

import numpy as np

from .manifest import EngineBlock
from .models import Chunk
from .query import ParsedQuery

Passage = tuple[int, str, Chunk]  # (doc id, file key, chunk)
Ranked = list[tuple[int, float]]  # (id, score), best first


class KeywordBackend(Protocol):
    """Full-text search over passages. Made with `create(path)` (an empty index) or
    `__init__(path, weights=None, plan="auto")` (open an existing one)."""

    ENGINE: str

    @staticmethod
    def engine_settings() -> dict: ...

    @classmethod
    def manifest_block(cls) -> EngineBlock: ...

    def update(self, remove: Collection[int], add: Sequence[Passage],
               progress: Callable[[int], None] | None = None) -> None:
        """Delete the passages `remove` (doc ids), add `add`, and make it durable in one commit."""

    def doc_count(self) -> int: ...

    def search(self, parsed: ParsedQuery, limit: int, allowed: AbstractSet[int] | None = None) -> Ranked:
        """The best `limit` passages for a typed query: terms mean "about all of these",
        quoted phrases are required verbatim."""

    def search_weighted_terms(self, weighted: Sequence[tuple[str, float]], limit: int,
                              allowed: AbstractSet[int] | None = None) -> Ranked:
        """The best passages for a bag of (word, weight) pairs, e.g. a pasted paragraph's key words."""

    def contains_exact(self, text: str, allowed: AbstractSet[int] | None = None) -> bool:
        """Whether some passage holds `text` verbatim (punctuation and spaces ignored)."""

    def idf(self, words: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of each word (0 for a word no passage holds)."""


class VectorBackend(Protocol):
    """Nearest-neighbour search over L2-normalised float32 window vectors (inner product =
    cosine). Made with `create(dimension)` or `load(path)`; written with `save(path)`."""

    ENGINE: str
    dimension: int

    @staticmethod
    def engine_settings() -> dict: ...

    @classmethod
    def manifest_block(cls) -> EngineBlock: ...

    @property
    def count(self) -> int: ...

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None: ...

    def remove(self, ids: Sequence[int]) -> int:
        """Delete vectors by id; returns how many were removed."""

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of `ids`, in that order (vectors of unchanged passages are reused)."""

    def search(self, query_vector: np.ndarray, limit: int, allowed: AbstractSet[int] | None = None) -> Ranked:
        """The best `limit` window vectors (window ids), among the windows of `allowed` doc ids."""

    def search_passages(self, query_vector: np.ndarray, limit: int,
                        allowed: AbstractSet[int] | None = None) -> Ranked:
        """The best `limit` passages (doc ids), scored from their windows (vector_index.aggregate_windows)."""

    def scaled(self) -> VectorBackend:
        """This index, or an approximate copy once exact search would be too slow."""

    def save(self, path: Path) -> None: ...
