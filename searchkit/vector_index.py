"""The vector side: FAISS inner-product search over L2-normalised embeddings (= cosine).

`IndexIDMap2(IndexFlatIP)` keeps our own int64 ids (shared with the keyword index), so
removing a file's passages is `remove_ids` and kept vectors can be read back with
`reconstruct` for reuse. Past `IVF_THRESHOLD` vectors exact search gets slow, so a build
switches to an IVF index (still id-mapped, so removals keep working).
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import AbstractSet, Sequence

import numpy as np

from .config import WINDOW_SIZES
from .manifest import EngineBlock

IVF_THRESHOLD = 200_000  # below this, exact search answers in tens of milliseconds here

# -- passages as several vectors -------------------------------------------------------------
# A 300-500 character passage embedded whole blurs its several points together; a query
# matches one sentence or two. So each passage is embedded as windows of whole sentences
# at two sizes, and a passage scores the mean of its best window at each size. On the dev
# set this lifted vector-only nDCG@10 from 0.436 (whole passages) to 0.619.
_SLOTS = 128  # window ids per size: vector id = doc_id * 256 + size_index * 128 + window
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def passage_windows(text: str) -> list[tuple[int, str]]:
    """(local id, window text) for one passage: sentences packed up to each window size."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    out = []
    for size_index, size in enumerate(WINDOW_SIZES):
        windows: list[str] = []
        current = ""
        for sentence in sentences:
            if current and len(current) + len(sentence) > size:
                windows.append(current)
                current = sentence
            else:
                current += sentence
        if current:
            windows.append(current)
        if len(windows) > _SLOTS:  # an extreme passage: fold the tail into the last slot
            windows = windows[:_SLOTS - 1] + ["".join(windows[_SLOTS - 1:])]
        out += [(size_index * _SLOTS + i, w) for i, w in enumerate(windows)]
    return out or [(0, text)]


def vector_ids(doc_id: int, local_ids: Sequence[int]) -> list[int]:
    return [doc_id * 2 * _SLOTS + local for local in local_ids]


def aggregate_windows(hits: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """Window hits -> passage scores: mean over sizes of the best window of that size.

    A size under which a passage has no window among the hits counts the lowest score seen
    for that size (its best window ranked below everything retrieved).
    """
    best: dict[int, dict[int, float]] = {}
    floor: dict[int, float] = {}
    for vid, score in hits:
        doc, local = divmod(vid, 2 * _SLOTS)
        size_index = local // _SLOTS
        per_doc = best.setdefault(doc, {})
        score = float(score)
        if score > per_doc.get(size_index, -math.inf):
            per_doc[size_index] = score
        floor[size_index] = min(floor.get(size_index, math.inf), score)
    sizes = sorted(floor)
    scored = [(doc, sum(per.get(i, floor[i]) for i in sizes) / len(sizes)) for doc, per in best.items()]
    return sorted(scored, key=lambda x: (-x[1], x[0]))


def _faiss():
    import faiss  # ~0.2 s; only loaded by the code paths that use vectors

    return faiss


class VectorIndex:
    """The vector backend (backends.VectorBackend) on FAISS."""

    ENGINE = "faiss"

    @staticmethod
    def engine_settings() -> dict:
        # Inner product of L2-normalised vectors; window vector ids doc_id * 256 + window.
        return {"metric": "inner_product", "window_slots": 2 * _SLOTS}

    @classmethod
    def manifest_block(cls) -> EngineBlock:
        return EngineBlock(cls.ENGINE, _faiss().__version__, cls.engine_settings())

    def __init__(self, index, dimension: int):
        self.index = index
        self.dimension = dimension
        self._ids: np.ndarray | None = None  # every stored id, sorted, read once for `allowed` filters

    # -- construction --------------------------------------------------------------------
    @classmethod
    def create(cls, dimension: int) -> VectorIndex:
        faiss = _faiss()
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension)

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> VectorIndex:
        faiss = _faiss()
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:
            index = faiss.read_index(str(path))  # some index types cannot be memory-mapped
        return cls(index, index.d)

    @classmethod
    def build_ivf(cls, ids: np.ndarray, vectors: np.ndarray, nlist: int | None = None,
                  nprobe: int = 64) -> VectorIndex:
        """An approximate index for large collections: IVF-Flat with id mapping.

        nprobe 64: a passage search asks for 2,000 windows, and fewer cells cannot hold that
        many near the threshold (bench_scale: nprobe 16 returned ~1,300 of 2,000 at 100k);
        at 1M vectors nprobe 64 still answers in ~4 ms.
        """
        faiss = _faiss()
        n, d = vectors.shape
        nlist = nlist or max(64, int(4 * np.sqrt(n)))
        quantizer = faiss.IndexFlatIP(d)
        ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, min(n, nlist * 64), replace=False)]
        ivf.train(sample)
        ivf.nprobe = nprobe
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # allows remove_ids and reconstruct
        ivf.add_with_ids(vectors, ids.astype(np.int64))
        return cls(ivf, d)

    # -- updates -------------------------------------------------------------------------
    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors have {vectors.shape[1]} dimensions, the index {self.dimension}")
        self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._ids = None

    def remove(self, ids: Sequence[int]) -> int:
        if len(ids) == 0:
            return 0
        self._ids = None
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, doc_id in enumerate(ids):
            out[row] = self.index.reconstruct(int(doc_id))
        return out

    @property
    def is_exact(self) -> bool:
        return isinstance(self.index, _faiss().IndexIDMap2)

    def scaled(self) -> VectorIndex:
        """This index, or an IVF copy once exact search would get slow (IVF_THRESHOLD).

        Measured (scripts/bench_scale.py): exact search over 1M vectors takes ~470 ms a
        query on one core, IVF with nprobe 64 ~4 ms at recall@10 1.000 on clustered stand-in data.
        """
        if not self.is_exact or self.count <= IVF_THRESHOLD:
            return self
        faiss = _faiss()
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        vectors = self.index.index.reconstruct_n(0, self.count)
        return VectorIndex.build_ivf(ids, vectors)

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    def save(self, path: Path) -> None:
        """Write to `path` durably: FAISS writes in place, so write a temp file, fsync, rename."""
        faiss = _faiss()
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    # -- search --------------------------------------------------------------------------
    def search_passages(self, query_vector: np.ndarray, limit: int,
                        allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """Best passages (doc ids, among `allowed` if given) for a query, from their window vectors."""
        windows = max(limit * 20, 2000)
        return aggregate_windows(self.search(query_vector, windows, allowed))[:limit]

    def search(self, query_vector: np.ndarray, limit: int,
               allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """Best window vectors (window ids); with `allowed`, only windows of those doc ids,
        selected inside FAISS (an IDSelector), so that exact search returns exactly the
        unfiltered ranking with the other passages left out."""
        if limit <= 0 or self.count == 0:
            return []
        q = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(1, -1)
        if allowed is None:
            scores, ids = self.index.search(q, min(limit, self.count))
        else:
            selected = self._window_ids_of(allowed)
            if len(selected) == 0:
                return []
            if not self.is_exact and len(selected) <= self._compared_unfiltered():
                return self._rank_exactly(q[0], selected, limit)
            scores, ids = self.index.search(q, min(limit, len(selected)), params=self._selection(selected))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def _compared_unfiltered(self) -> int:
        """About how many vectors an unfiltered IVF search compares (its nprobe cells)."""
        ivf = _faiss().extract_index_ivf(self.index)
        return int(ivf.nprobe * self.count / ivf.nlist)

    def _rank_exactly(self, query: np.ndarray, window_ids: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """The allowed windows ranked by exact inner product, read back by id. When a filter
        allows no more windows than an unfiltered search compares, this costs less than
        probing the IVF for them: at 100k passages a 1 % filter (6,000 windows) took 4 ms
        this way and 74 ms probing every cell (FAISS still walks every list)."""
        vectors = self.index.reconstruct_batch(window_ids)
        scores = vectors @ query
        if len(scores) > limit:
            top = np.argpartition(-scores, limit - 1)[:limit]
        else:
            top = np.arange(len(scores))
        top = top[np.lexsort((window_ids[top], -scores[top]))]
        return [(int(window_ids[i]), float(scores[i])) for i in top]

    def _selection(self, window_ids: np.ndarray):
        faiss = _faiss()
        selector = faiss.IDSelectorBatch(len(window_ids), faiss.swig_ptr(window_ids))
        if self.is_exact:
            params = faiss.SearchParameters(sel=selector)
        else:  # SearchParametersIVF would otherwise probe one cell
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self._filtered_nprobe(len(window_ids)))
        params._keep = (selector, window_ids)  # SWIG does not keep them alive for us
        return params

    def _filtered_nprobe(self, selected: int) -> int:
        """IVF cells to probe when only `selected` of the vectors may be returned.

        The probed cells hold allowed windows only in proportion to the filter, so the usual
        nprobe would leave a 1 % filter ~1 % of its candidates: fewer than k passages, and a
        ranking far from exact (bench_scale: recall@10 0.49 at 20k passages; a 0.1 % filter
        left 49 of 50 queries short of 10). Probing nprobe / share cells gives a filtered
        search as many allowed candidates as an unfiltered one gets. Used for filters that
        allow more windows than an unfiltered search compares (fewer are ranked exactly, by
        `_rank_exactly`), so at most about 1 / share of the cells: walking them costs time.
        """
        ivf = _faiss().extract_index_ivf(self.index)
        return int(min(ivf.nlist, math.ceil(ivf.nprobe * self.count / max(selected, 1))))

    def _window_ids_of(self, allowed: AbstractSet[int]) -> np.ndarray:
        """Every stored window id whose passage is in `allowed`, in id order.

        A passage's windows are the ids in [doc * 256, (doc + 1) * 256): binary search in the
        sorted stored ids finds them, so the cost grows with the allowed passages, not with
        the index (a mask over every stored id took ~5 ms per query at 600k windows).
        """
        ids = self._stored_ids()
        docs = np.sort(np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        starts = np.searchsorted(ids, docs * (2 * _SLOTS))
        lengths = np.searchsorted(ids, (docs + 1) * (2 * _SLOTS)) - starts
        # positions starts[i] + 0 .. lengths[i] - 1 of every passage, flattened
        before = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))
        return np.ascontiguousarray(ids[positions])

    def _stored_ids(self) -> np.ndarray:
        if self._ids is None:
            faiss = _faiss()
            if self.is_exact:
                self._ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            else:
                invlists = faiss.extract_index_ivf(self.index).invlists
                parts = [faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                         for i in range(invlists.nlist) if invlists.list_size(i)]
                self._ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
            self._ids = np.sort(self._ids)  # for _window_ids_of's binary search
        return self._ids
