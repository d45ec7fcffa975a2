"""The ONNX query encoder: pooling, batching and lazy imports (fast), and agreement with
sentence-transformers on the real m3e-small model (marked `model`)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from searchkit.embedding import l2_normalize, token_budget_batches
from searchkit.onnx_encoder import META_FILE, OnnxEmbedder, OnnxModelError, mean_pool

ROOT = Path(__file__).resolve().parent.parent


def test_mean_pool_ignores_padding():
    tokens = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],
                       [[5.0, 6.0], [100.0, 100.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(mean_pool(tokens, mask), [[2.0, 3.0], [5.0, 6.0]])


def test_mean_pool_all_masked_row_is_zero_not_nan():
    pooled = mean_pool(np.ones((1, 2, 3), dtype=np.float32), np.zeros((1, 2), dtype=np.int64))
    assert np.all(pooled == 0)


def test_token_budget_batches_group_similar_lengths_within_the_budget():
    lengths = [10, 300, 100, 600, 100, 120, 5, 5, 5]
    batches = token_budget_batches(lengths, budget=300, max_batch=2)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))  # each once
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(lengths, reverse=True)  # longest first
    assert batches[0] == [3]  # longer than the budget: alone, never dropped or split
    assert all(len(batch) * lengths[batch[0]] <= 300 for batch in batches[1:])
    assert all(len(batch) <= 2 for batch in batches)
    assert token_budget_batches([]) == []


def test_import_is_light():
    # The query path must not pay for torch/transformers; onnxruntime/tokenizers load on first use.
    code = ("import sys, searchkit.onnx_encoder; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'onnxruntime', "
            "'tokenizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_export_is_a_clear_error(tmp_path):
    embedder = OnnxEmbedder(tmp_path / "nowhere", "m3e-small")  # constructing touches nothing
    with pytest.raises(OnnxModelError, match="rebuild the index"):
        embedder.encode(["招商引资"])


@pytest.fixture
def toy_export(tmp_path) -> tuple[Path, np.ndarray]:
    """A stand-in export: token embeddings are a table lookup, words split on whitespace."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, **{w: i + 4 for i, w in enumerate("abcdefgh")}}
    table = np.random.default_rng(0).normal(size=(len(vocab), 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["token_embeddings"])], "toy",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "sequence", 4])],
        [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
              tmp_path / "model.onnx")

    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / META_FILE).write_text(json.dumps({"dimension": 4, "max_seq_length": 5}))
    return tmp_path, table


def test_batches_pad_and_keep_input_order(toy_export):
    folder, table = toy_export
    texts = ["a", "b c d e f g", "", "h g", "a b c"]  # the second one is cut to 5 tokens
    expected_ids = [[2, 4, 3], [2, 5, 6, 7, 3], [2, 3], [2, 11, 10, 3], [2, 4, 5, 6, 3]]
    expected = l2_normalize(np.stack([table[ids].mean(axis=0) for ids in expected_ids]))

    embedder = OnnxEmbedder(folder, "toy", batch_size=2)
    seen = []
    got = embedder.encode(texts, progress=seen.append)
    assert got.dtype == np.float32 and got.shape == (5, 4) and embedder.dimension == 4
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert seen == [2, 2, 1]
    assert embedder.encode([]).shape == (0, 4)


@pytest.mark.model
def test_matches_sentence_transformers(tmp_path):
    from searchkit.embedding import SentenceTransformerEmbedder, resolve_model_path
    from searchkit.onnx_encoder import export_onnx

    info = export_onnx(resolve_model_path("m3e-small"), tmp_path)
    assert info["files"]["model.onnx.data"]["bytes"] > 10_000_000 and info["dimension"] == 512

    long_text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))[:3000]
    texts = ["招商引资 措施", "优化营商环境，推进放管服改革。", "", " ", "GDP 增长 6.5%",
             "乡村振兴", "安全生产", "a", long_text, long_text[:400]]
    reference = SentenceTransformerEmbedder("m3e-small").encode(texts)

    onnx = OnnxEmbedder(tmp_path, "m3e-small", batch_size=7)  # calls of <= 7 texts and <= 512 tokens
    got = onnx.encode(texts)
    assert got.shape == (len(texts), 512) and got.dtype == np.float32
    cosines = (got * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines

    # Batch composition must not matter: each text alone (batch 1) gives the same vector.
    alone = np.concatenate([onnx.encode([t]) for t in texts])
    np.testing.assert_allclose(alone, got, atol=1e-5)
