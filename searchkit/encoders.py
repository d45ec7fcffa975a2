"""Which embedder embeds what: the one place that decides, asked by the indexer and the Searcher.

| job | embedder |
|---|---|
| full build or rebuild, fp32 | the model exported to ONNX (checked against torch at export) and run with onnxruntime on every core: the same vectors as sentence-transformers to ~1e-7, 1.18x faster |
| full build, int8 (`SEARCHKIT_PRECISION=int8`) | that export quantised to int8 by onnxruntime |
| update | the index's own ONNX encoder when it was made from the same model files at the same precision; otherwise as a full build |
| queries | the generation's ONNX encoder on one thread (queries never import torch); sentence-transformers only for an index without one |
| a registered embedder (a test's fake, a plug-in) or one passed in by the caller | itself, everywhere |

sentence-transformers stays the reference: `scripts/verify_onnx.py` and the `model` tests
check the export against it, and builds fall back to it when a model cannot be exported
or is not a mean-pooling transformer (the pooling the ONNX path reproduces).

The encoder a build embedded its passages with becomes the generation's query encoder
(`encoder/`), so documents and queries go through the same graph.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_PRECISION, Settings
from .embedding import Embedder, SentenceTransformerEmbedder, registered_embedder, resolve_model_path
from .errors import ModelError
from .fileutil import link_or_copy_tree

log = logging.getLogger(__name__)

ENCODER_DIR = "encoder"  # inside a generation: its query-time ONNX encoder


def model_fingerprint(path: Path) -> str:
    """Names and sizes of a model folder's files: a changed model file means another encoder."""
    h = hashlib.sha256()
    for item in sorted(Path(path).iterdir()):
        if item.is_file():
            h.update(f"{item.name}:{item.stat().st_size}".encode())
    return h.hexdigest()[:16]


def is_mean_pooling_model(path: Path) -> bool:
    """Whether sentence-transformers would embed with this folder as transformer + mean
    pooling (+ normalisation), which is exactly what OnnxEmbedder computes."""
    modules_file = Path(path) / "modules.json"
    if not modules_file.is_file():
        return True  # a plain transformers folder: sentence-transformers adds mean pooling
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    for module in modules:
        kind = module.get("type", "").rsplit(".", 1)[-1]
        if kind == "Pooling":
            config = json.loads((Path(path) / module["path"] / "config.json").read_text(encoding="utf-8"))
            modes = {k for k, v in config.items() if k.startswith("pooling_mode") and v is True}
            if modes != {"pooling_mode_mean_tokens"}:
                return False
        elif kind not in ("Transformer", "Normalize"):
            return False  # e.g. a Dense layer the export does not hold
    return True


@dataclass
class BuildEncoder:
    """The embedder of one build, and the query encoder it leaves in the new generation."""

    embedder: Embedder
    onnx_dir: Path | None = None  # an export folder to link into the generation as its encoder
    block: dict | None = None  # the manifest's "encoder" block for it


def _encoder_block(settings: Settings, model_path: Path, info: dict) -> dict:
    return {"path": ENCODER_DIR, "model_fingerprint": model_fingerprint(model_path),
            **{k: v for k, v in info.items() if k != "files"}}


def _reusable_encoder(settings: Settings, source, model_path: Path) -> dict | None:
    """The encoder block of generation `source` if it was made from these model files at
    the configured precision (and is still on disk)."""
    if source is None:
        return None
    block = source.manifest.encoder
    if (not block or block.get("model_fingerprint") != model_fingerprint(model_path)
            or block.get("precision", DEFAULT_PRECISION) != settings.precision
            or not (source.path / block["path"]).is_dir()):
        return None
    return block


def for_build(settings: Settings, source, work_dir: Path, given: Embedder | None = None) -> BuildEncoder:
    """The embedder for a build of `settings`, reusing the encoder of `source` (the live
    generation being updated, or one whose vectors a rebuild reuses) where it fits.

    `work_dir` receives a fresh export; the caller links what it needs into the new
    generation (`provide_query_encoder`) and deletes `work_dir`.
    """
    plug_in = given or registered_embedder(settings.model)
    if plug_in is not None:
        return BuildEncoder(plug_in)
    model_path = resolve_model_path(settings.model)
    if not is_mean_pooling_model(model_path):
        log.info("%s is not a mean-pooling model: builds and queries use sentence-transformers", model_path)
        return BuildEncoder(SentenceTransformerEmbedder(settings.model))
    from .onnx_encoder import OnnxEmbedder

    threads = os.cpu_count() or 1  # bulk encoding: every core
    block = _reusable_encoder(settings, source, model_path)
    if block is not None:
        onnx_dir = source.path / block["path"]
        return BuildEncoder(OnnxEmbedder(onnx_dir, settings.model, threads=threads), onnx_dir, block)
    try:
        onnx_dir, info = _export(model_path, work_dir, settings.precision)
    except (ModelError, OSError, RuntimeError, ValueError) as error:
        if settings.precision != DEFAULT_PRECISION:
            raise
        log.warning("could not export %s to ONNX (%s); embedding with sentence-transformers", model_path, error)
        return BuildEncoder(SentenceTransformerEmbedder(settings.model))
    return BuildEncoder(OnnxEmbedder(onnx_dir, settings.model, threads=threads), onnx_dir,
                        _encoder_block(settings, model_path, info))


def _export(model_path: Path, work_dir: Path, precision: str) -> tuple[Path, dict]:
    from .onnx_encoder import export_onnx, quantize_int8

    info = export_onnx(model_path, work_dir / "fp32")
    if precision == "int8":
        return work_dir / "int8", quantize_int8(work_dir / "fp32", work_dir / "int8")
    return work_dir / "fp32", info


def provide_query_encoder(settings: Settings, built: BuildEncoder, gen_dir: Path) -> dict | None:
    """Give the new generation its query encoder; returns the manifest's "encoder" block.

    Usually the build's own export (linked, not copied). A build that embedded with
    sentence-transformers (passed in by the caller, or the fallback) exports one now.
    """
    target = gen_dir / ENCODER_DIR
    if built.onnx_dir is not None and built.block is not None:
        link_or_copy_tree(built.onnx_dir, target)
        return dict(built.block, path=ENCODER_DIR)
    if not isinstance(built.embedder, SentenceTransformerEmbedder) or not is_mean_pooling_model(built.embedder.path):
        return None  # e.g. a test's fake embedder: queries use it directly
    try:
        from .onnx_encoder import export_onnx

        info = export_onnx(built.embedder.path, target)
    except (ModelError, OSError, RuntimeError, ValueError) as error:  # queries fall back to sentence-transformers
        log.warning("could not export the ONNX query encoder (%s); queries will load sentence-transformers", error)
        return None
    return _encoder_block(settings, built.embedder.path, info)


def for_queries(settings: Settings, generation) -> Embedder:
    """The embedder for queries against `generation`: its own encoder, whatever
    SEARCHKIT_PRECISION says (documents and queries must share one graph)."""
    plug_in = registered_embedder(settings.model)
    if plug_in is not None:
        return plug_in
    block = generation.manifest.encoder
    if block:
        from .onnx_encoder import OnnxEmbedder

        return OnnxEmbedder(generation.path / block["path"], settings.model)  # one thread: see OnnxEmbedder
    return SentenceTransformerEmbedder(settings.model)
