"""The manifest of one generation (`manifest.json`), typed, with one place for defaults.

Blocks that must match the running configuration for an index to be used:
- `model`: what the vectors embed (model name, embedding template, sentence windows,
  dimension, precision);
- `keyword` and `vectors`: one block per storage engine, written by the engine itself
  (engine name, library version, settings; see backends.py), so an index built by one
  engine is never opened by another;
- `chunking`: how files were cut into passages.
The rest describes the generation: counts, skipped files, the query encoder, and the
size and sha256 of every file (store.file_table).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import __version__
from .config import DEFAULT_PRECISION

# 2: speech metadata (meta.sqlite `speeches` and `extracted`, the `metadata` block)
FORMAT_VERSION = 2
COMPARED_BLOCKS = ("model", "keyword", "vectors", "chunking")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelBlock:
    name: str
    embed_template_version: int
    window_sizes: list[int]
    dimension: int | None = None
    precision: str = DEFAULT_PRECISION  # indexes written before precisions existed were fp32


@dataclass(frozen=True)
class EngineBlock:
    """What a storage engine records about itself; `version` is informative (not compared)."""

    engine: str
    version: str
    settings: dict[str, Any]

    def expected(self) -> dict[str, Any]:
        """The part an index must match to be opened by this engine."""
        return {"engine": self.engine, "settings": self.settings}


@dataclass(frozen=True)
class Counts:
    files: int = 0
    unique_files: int = 0
    speeches: int = 0
    chunks: int = 0


@dataclass
class Manifest:
    model: ModelBlock
    keyword: EngineBlock | None
    vectors: EngineBlock | None
    chunking: dict[str, Any]
    counts: Counts = field(default_factory=Counts)
    next_doc_id: int = 1  # the doc id the next new passage gets
    skipped: list[dict[str, str]] = field(default_factory=list)  # {source, file_key, reason}
    corpus_dir: str = ""
    encoder: dict[str, Any] | None = None  # the query-time ONNX encoder (encoders.py), if any
    # Speech metadata: {"version": speech_meta.METADATA_VERSION, "sidecar_sha256": "" | hex}
    metadata: dict[str, Any] = field(default_factory=dict)
    generation: int = 0
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> {size, sha256}
    format_version: int = FORMAT_VERSION
    searchkit_version: str = __version__
    built_at: str = field(default_factory=now_iso)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Read a manifest.json; keys it lacks take the defaults above, unknown keys are ignored."""
        values = _known(cls, data)
        values["model"] = ModelBlock(**{"name": None, "embed_template_version": None, "window_sizes": None,
                                        **_known(ModelBlock, data.get("model") or {})})
        for engine in ("keyword", "vectors"):
            values[engine] = EngineBlock(**_known(EngineBlock, data[engine])) if data.get(engine) else None
        values["counts"] = Counts(**_known(Counts, data.get("counts") or {}))
        values.setdefault("chunking", {})
        return cls(**values)

    def block(self, name: str) -> dict[str, Any]:
        """One of COMPARED_BLOCKS as a plain dict ({} if the index has no such block)."""
        value = getattr(self, name)
        if value is None:
            return {}
        return value if isinstance(value, dict) else asdict(value)


def _known(cls, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def flatten(block: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"settings": {"hmm": False}} -> {"settings.hmm": False}: nested settings compared one by one."""
    out: dict[str, Any] = {}
    for key, value in block.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
