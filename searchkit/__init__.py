"""searchkit: hybrid keyword + semantic search over Chinese speeches and reports.

    from searchkit import Searcher, Settings, build_index
    settings = Settings.from_env()
    build_index(settings)
    for hit in Searcher(settings).search("招商引资 措施").hits: ...

Heavy dependencies (torch, sentence-transformers, faiss, jieba's dictionary) load on
first use inside the objects that need them, never at import time: the names below are
imported only when first used.
"""
from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it
_EXPORTS = {
    "Searcher": "searcher", "SearchResponse": "searcher", "RankingSettings": "searcher",
    "build_index": "indexer", "IndexReport": "indexer",
    "Settings": "config", "ChunkingSettings": "config",
    "Hit": "models", "Chunk": "models",
    "SearchkitError": "errors", "InputError": "errors", "CorpusError": "errors", "IndexMissingError": "errors",
    "IndexMismatchError": "errors", "IndexCorruptError": "errors", "IndexLockedError": "errors",
    "IndexWriteError": "errors", "ModelError": "errors", "EngineError": "errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'searchkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs; nothing is imported at run time
    from .config import ChunkingSettings, Settings  # noqa: F401
    from .errors import (  # noqa: F401 IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError,
        CorpusError,
        EngineError,
        IndexWriteError,  # noqa: F401
        InputError,
        ModelError,
        SearchkitError,
    )
    from .indexer import IndexReport, build_index  # noqa: F401
    from .models import Chunk, Hit  # noqa: F401
    from .searcher import RankingSettings, Searcher, SearchResponse  # noqa: F401
