"""The storage engines this searchkit builds with, and the manifest blocks an index must match.

Two backends, chosen per index (`searchkit index --backend`, SEARCHKIT_BACKEND) and
recorded in the manifest, behind the protocols in backends.py:
- "embedded" (default): Whoosh (keyword_index.KeywordIndex) + FAISS (vector_index.VectorIndex)
  + the bigram BM25 matrix (bigram_index.py), all files in the generation folder;
- "milvus": both sides in Milvus collections (milvus_backend.py).
A new engine implements the protocols, passes tests/test_backend_conformance.py, and is
added to `engines()`; its own manifest block (engine name and settings) keeps an index
built by one engine from ever being opened by another.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import BACKENDS, EMBED_TEMPLATE_VERSION, WINDOW_SIZES, Settings
from .manifest import EngineBlock, Manifest, ModelBlock


@dataclass(frozen=True)
class Engines:
    backend: str  # one of config.BACKENDS
    keyword: Any  # a backends.KeywordBackend class
    vectors: Any  # a backends.VectorBackend class


def engines(backend: str) -> Engines:
    """The classes of a backend; Milvus's client library is imported only when it is used."""
    if backend == "milvus":
        from .milvus_backend import MilvusKeywordIndex, MilvusVectorIndex

        return Engines(backend, MilvusKeywordIndex, MilvusVectorIndex)
    assert backend in BACKENDS, backend
    from .keyword_index import KeywordIndex
    from .vector_index import VectorIndex

    return Engines("embedded", KeywordIndex, VectorIndex)


def backend_of(manifest: Manifest) -> str:
    """The backend a generation was written by."""
    return "milvus" if manifest.keyword is not None and manifest.keyword.engine == "milvus" else "embedded"


def build_backend(settings: Settings, previous: Manifest | None) -> str:
    """What a build writes with: the setting if given, else what the index already uses."""
    return settings.backend or (backend_of(previous) if previous is not None else "embedded")


def model_block(embedder_name: str, dimension: int | None = None, precision: str | None = None) -> dict[str, Any]:
    """What the vectors embed; builds pass the precision they embed with, queries do not
    (they use the index's own encoder)."""
    block: dict[str, Any] = {"name": embedder_name, "embed_template_version": EMBED_TEMPLATE_VERSION,
                             "window_sizes": list(WINDOW_SIZES)}
    if dimension is not None:
        block["dimension"] = dimension
    if precision is not None:
        block["precision"] = precision
    return block


def expected_blocks(settings: Settings, embedder_name: str, precision: str | None = None,
                    backend: str = "embedded") -> dict[str, dict]:
    """The manifest blocks an index must match to be used with `settings` (store.check_compatible)."""
    chosen = engines(backend)
    return {
        "model": model_block(embedder_name, None, precision),
        "keyword": {"engine": chosen.keyword.ENGINE, "settings": chosen.keyword.engine_settings()},
        "vectors": {"engine": chosen.vectors.ENGINE, "settings": chosen.vectors.engine_settings()},
        "chunking": settings.chunking_dict(),
    }


def manifest_blocks(settings: Settings, embedder_name: str, dimension: int, backend: str = "embedded") -> dict[str, Any]:
    """The typed blocks a new generation records (manifest.Manifest)."""
    chosen = engines(backend)
    return {
        "model": ModelBlock(**model_block(embedder_name, dimension, settings.precision)),
        "keyword": chosen.keyword.manifest_block(),
        "vectors": chosen.vectors.manifest_block(),
        "chunking": settings.chunking_dict(),
    }


__all__ = ["EngineBlock", "Engines", "backend_of", "build_backend", "engines", "expected_blocks", "manifest_blocks",
           "model_block"]
