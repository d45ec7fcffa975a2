"""Embedder provisioning (searchkit/encoders.py) on a tiny real BERT made offline
(tests/tiny_model.py): full builds embed with the verified ONNX export, the export becomes
the generation's query encoder, updates reuse it, and queries never import torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SPEECH_A, SPEECH_B
from tiny_model import make_tiny_model

from searchkit import encoders, store
from searchkit.config import Settings
from searchkit.indexer import build_index
from searchkit.onnx_encoder import OnnxEmbedder
from searchkit.searcher import Searcher
from searchkit.vector_index import VectorIndex, passage_windows, vector_ids

ROOT = Path(__file__).resolve().parent.parent
NEW_SPEECH = "在全区夜间经济工作推进会上的讲话\n一、大力发展夜间经济\n制定出台政策，繁荣夜市消费，打造特色步行街区。\n"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-bert", [SPEECH_A, SPEECH_B, NEW_SPEECH])


@pytest.fixture
def tiny_settings(tmp_path, small_corpus, tiny_model) -> Settings:
    return Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", model=str(tiny_model))


def chunk_texts(settings: Settings) -> dict[str, str]:
    generation = store.open_generation(settings.index_dir)
    meta = store.MetaStore(generation.meta_path, readonly=True)
    try:
        return {c.chunk_id: c.text for c in meta.chunks(meta.all_doc_ids()).values()}
    finally:
        meta.close()


def stored_vectors(settings: Settings) -> dict[str, np.ndarray]:
    """chunk id -> the window vectors the live generation holds for it, in window order."""
    generation = store.open_generation(settings.index_dir)
    meta = store.MetaStore(generation.meta_path, readonly=True)
    chunks = meta.chunks(meta.all_doc_ids())
    meta.close()
    vectors = VectorIndex.load(generation.vectors_path, mmap=False)
    return {c.chunk_id: vectors.reconstruct(vector_ids(doc_id, [i for i, _ in passage_windows(c.text)]))
            for doc_id, c in chunks.items()}


def test_a_full_build_embeds_with_the_onnx_export_and_keeps_it_as_query_encoder(tiny_settings, tiny_model):
    from searchkit.embedding import SentenceTransformerEmbedder

    report = build_index(tiny_settings)
    generation = store.open_generation(tiny_settings.index_dir)
    block = generation.manifest.encoder
    assert block["precision"] == "fp32" and block["model_fingerprint"] == encoders.model_fingerprint(tiny_model)
    assert report.windows_embedded > 0 and not list(tiny_settings.index_dir.glob("tmp-*"))
    # The vectors agree with sentence-transformers, the reference, window by window.
    reference = SentenceTransformerEmbedder(str(tiny_model))
    texts = chunk_texts(tiny_settings)
    for chunk_id, vectors in stored_vectors(tiny_settings).items():
        cosines = (vectors * reference.encode([w for _, w in passage_windows(texts[chunk_id])])).sum(axis=1)
        assert cosines.min() >= 0.99999, (chunk_id, cosines)


def test_an_update_reuses_the_index_encoder_and_its_vectors(tiny_settings):
    build_index(tiny_settings)
    first = store.open_generation(tiny_settings.index_dir)
    before = stored_vectors(tiny_settings)
    (tiny_settings.corpus_dir / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    report = build_index(tiny_settings)
    assert report.added == ["c.txt"] and report.chunks_reused == 0 and report.chunks_embedded > 0
    second = store.open_generation(tiny_settings.index_dir)
    for name in ("model.onnx", "model.onnx.data", "tokenizer.json"):  # linked, not exported again
        assert os.path.samefile(first.path / "encoder" / name, second.path / "encoder" / name)
    after = stored_vectors(tiny_settings)
    assert all(np.array_equal(after[cid], vectors) for cid, vectors in before.items())
    # The new passages' vectors are what the generation's own encoder makes of their windows.
    encoder = OnnxEmbedder(second.path / "encoder", "check")
    for chunk_id, text in chunk_texts(tiny_settings).items():
        if chunk_id not in before:
            np.testing.assert_allclose(after[chunk_id], encoder.encode([w for _, w in passage_windows(text)]), atol=1e-6)


def test_queries_never_import_torch(tiny_settings):
    build_index(tiny_settings)
    in_process = [h.chunk.chunk_id for h in Searcher(tiny_settings).search("招商引资 措施", k=3).hits]
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from searchkit.config import Settings\n"
        "from searchkit.searcher import Searcher\n"
        f"s = Settings(index_dir=Path({str(tiny_settings.index_dir)!r}), model={tiny_settings.model!r})\n"
        "hits = Searcher(s).search('招商引资 措施', k=3).hits\n"
        "print(json.dumps({'ids': [h.chunk.chunk_id for h in hits], 'heavy': sorted(m for m in "
        "('torch', 'transformers', 'sentence_transformers') if m in sys.modules)}))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    result = json.loads(done.stdout)
    assert result == {"ids": in_process, "heavy": []}


def test_a_model_that_is_not_mean_pooled_is_embedded_by_sentence_transformers(tmp_path, tiny_model):
    import shutil

    from searchkit.embedding import SentenceTransformerEmbedder

    cls_model = tmp_path / "cls-model"
    shutil.copytree(tiny_model, cls_model)
    config = json.loads((cls_model / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (cls_model / "1_Pooling" / "config.json").write_text(json.dumps(config))
    assert encoders.is_mean_pooling_model(tiny_model) and not encoders.is_mean_pooling_model(cls_model)
    built = encoders.for_build(Settings(model=str(cls_model)), None, tmp_path / "work")
    assert isinstance(built.embedder, SentenceTransformerEmbedder) and built.onnx_dir is None
