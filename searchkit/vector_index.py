"""The vector side: FAISS inner-product search over L2-normalised embeddings (= cosine).

`IndexIDMap2(IndexFlatIP)` keeps our own int64 ids (shared with the keyword index), so
removing a file's passages is `remove_ids` and kept vectors can be read back with
`reconstruct` for reuse. Past `IVF_THRESHOLD` vectors exact search gets slow, so a build
switches to an IVF index (still id-mapped, so removals keep working).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

IVF_THRESHOLD = 200_000  # below this, exact search answers in tens of milliseconds here


def _faiss():
    import faiss  # ~0.2 s; only loaded by the code paths that use vectors

    return faiss


class VectorIndex:
    def __init__(self, index, dimension: int):
        self.index = index
        self.dimension = dimension

    # -- construction --------------------------------------------------------------------
    @classmethod
    def create(cls, dimension: int) -> "VectorIndex":
        faiss = _faiss()
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension)

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> "VectorIndex":
        faiss = _faiss()
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:
            index = faiss.read_index(str(path))  # some index types cannot be memory-mapped
        return cls(index, index.d)

    @classmethod
    def build_ivf(cls, ids: np.ndarray, vectors: np.ndarray, nlist: int | None = None,
                  nprobe: int = 16) -> "VectorIndex":
        """An approximate index for large collections: IVF-Flat with id mapping."""
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

    def remove(self, ids: Sequence[int]) -> int:
        if len(ids) == 0:
            return 0
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, doc_id in enumerate(ids):
            out[row] = self.index.reconstruct(int(doc_id))
        return out

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
    def search(self, query_vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if limit <= 0 or self.count == 0:
            return []
        q = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(1, -1)
        scores, ids = self.index.search(q, min(limit, self.count))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != -1]
