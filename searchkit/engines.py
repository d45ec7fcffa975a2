"""The storage engines this searchkit builds with, and the manifest blocks an index must match.

Today the keyword side is Whoosh (keyword_index.KeywordIndex) and the vector side FAISS
(vector_index.VectorIndex), both behind the protocols in backends.py. A new engine (e.g.
Milvus for vectors) implements its protocol, passes tests/test_backend_conformance.py, and
is chosen here; its own manifest block (engine name and settings) keeps an index built by
one engine from ever being opened by another.
"""
from __future__ import annotations

from typing import Any

from .config import EMBED_TEMPLATE_VERSION, WINDOW_SIZES, Settings
from .keyword_index import KeywordIndex
from .manifest import EngineBlock, ModelBlock
from .vector_index import VectorIndex

KEYWORD_ENGINE = KeywordIndex
VECTOR_ENGINE = VectorIndex


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


def expected_blocks(settings: Settings, embedder_name: str, precision: str | None = None) -> dict[str, dict]:
    """The manifest blocks an index must match to be used with `settings` (store.check_compatible)."""
    return {
        "model": model_block(embedder_name, None, precision),
        "keyword": {"engine": KEYWORD_ENGINE.ENGINE, "settings": KEYWORD_ENGINE.engine_settings()},
        "vectors": {"engine": VECTOR_ENGINE.ENGINE, "settings": VECTOR_ENGINE.engine_settings()},
        "chunking": settings.chunking_dict(),
    }


def manifest_blocks(settings: Settings, embedder_name: str, dimension: int) -> dict[str, Any]:
    """The typed blocks a new generation records (manifest.Manifest)."""
    return {
        "model": ModelBlock(**model_block(embedder_name, dimension, settings.precision)),
        "keyword": KEYWORD_ENGINE.manifest_block(),
        "vectors": VECTOR_ENGINE.manifest_block(),
        "chunking": settings.chunking_dict(),
    }


__all__ = ["EngineBlock", "expected_blocks", "manifest_blocks", "model_block"]
