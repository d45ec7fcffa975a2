"""One configuration object. Precedence: command-line flag > environment variable > default.

The values actually used are written into each index's manifest, and an index whose
manifest disagrees with the running configuration is refused (see store.py).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import InputError

DEFAULT_MODEL = "m3e-small"

# What the vector side embeds (recorded in the manifest; changing either re-embeds):
# each passage as sentence windows of at most these many characters (vector_index.py).
WINDOW_SIZES = (120, 200)
EMBED_TEMPLATE_VERSION = 2


# Keyword query plans (keyword_index.py): "full" scores every typed term in four fields
# with phrase and bigram bonuses; "lean" scores words and headings only, which Whoosh
# answers several times faster on big indexes; "auto" is lean above LEAN_ABOVE passages.
KEYWORD_PLANS = ("auto", "full", "lean")
# Embedding precision of builds: "fp32" (the model's verified ONNX export; see encoders.py) or "int8"
# (the model quantised with onnxruntime: embedding 1.4-1.7x faster, dev nDCG@10 0.733 instead
# of 0.746). Recorded in the manifest; queries use whatever encoder the index holds.
PRECISIONS = ("fp32", "int8")
DEFAULT_PRECISION = "fp32"  # also what an index recorded before precisions existed was built with


def require_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r} (SEARCHKIT_PRECISION); use one of: {', '.join(PRECISIONS)}")
    return precision
LEAN_ABOVE = 20_000


def resolve_keyword_plan(plan: str, passages: int) -> str:
    """The plan ("full" or "lean") that `plan` means for an index of `passages` passages."""
    if plan not in KEYWORD_PLANS:
        raise InputError(f"unknown keyword plan {plan!r} (SEARCHKIT_KEYWORD_PLAN); use one of: {', '.join(KEYWORD_PLANS)}")
    if plan == "auto":
        return "lean" if passages > LEAN_ABOVE else "full"
    return plan


# Storage backends (engines.py): "embedded" = Whoosh + FAISS files in the index folder;
# "milvus" = Milvus collections (milvus_backend.py). "" = whatever the index already uses.
BACKENDS = ("embedded", "milvus")


def require_backend(backend: str) -> str:
    if backend and backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r} (--backend / SEARCHKIT_BACKEND); use one of: {', '.join(BACKENDS)}")
    return backend


@dataclass(frozen=True)
class ChunkingSettings:
    max_chars: int = 500  # m3e-small reads 512 tokens; ~1 token per Han character
    min_chars: int = 120  # shorter neighbouring sections of one speech are merged
    version: int = 2  # bump when the chunking rules change so old indexes are rebuilt


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("indexes/default")
    # A name resolved by embedding.resolve_model_path ("m3e-small") or a local folder.
    model: str = DEFAULT_MODEL
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    keyword_plan: str = "auto"  # see KEYWORD_PLANS; query-time only, the index is the same
    precision: str = DEFAULT_PRECISION  # see PRECISIONS; build-time
    backend: str = ""  # see BACKENDS; build-time ("" = as the index has it, else embedded)

    def __post_init__(self) -> None:
        # Validated once, here: every later use may trust these values.
        require_precision(self.precision)
        require_backend(self.backend)
        resolve_keyword_plan(self.keyword_plan, 0)

    @classmethod
    def from_env(cls, corpus_dir: Path | None = None, index_dir: Path | None = None,
                 model: str | None = None) -> Settings:
        """Build settings from flags (if given), else SEARCHKIT_* variables, else defaults."""
        env = os.environ
        return cls(
            corpus_dir=Path(corpus_dir or env.get("SEARCHKIT_CORPUS") or cls.corpus_dir),
            index_dir=Path(index_dir or env.get("SEARCHKIT_INDEX") or cls.index_dir),
            model=model or env.get("SEARCHKIT_MODEL") or cls.model,
            keyword_plan=env.get("SEARCHKIT_KEYWORD_PLAN") or cls.keyword_plan,
            precision=env.get("SEARCHKIT_PRECISION") or cls.precision,
            backend=env.get("SEARCHKIT_BACKEND") or cls.backend,
        )

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def chunking_dict(self) -> dict:
        return asdict(self.chunking)
