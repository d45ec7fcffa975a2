"""A torch-free query encoder: the embedding model exported to ONNX, run with onnxruntime.

Importing sentence-transformers costs ~8 s and torch ~3 s, far over the 1 s budget of a CLI
query. The index build (which has torch loaded anyway) calls `export_onnx` once and stores the
graph next to the index; queries then use `OnnxEmbedder`, which needs only onnxruntime,
tokenizers and numpy (all imported on first use).

The graph outputs token embeddings; mean pooling over the attention mask and L2
normalisation happen in numpy, exactly as the sentence-transformers Pooling module does.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .embedding import l2_normalize, token_budget_batches
from .errors import ModelError
from .fileutil import sha256_file

ONNX_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"  # the weights, stored as ONNX external data
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "onnx_export.json"  # written last: its presence means the export is complete
OPSET = 17  # LayerNormalization is a native op from 17 on, which onnxruntime fuses well
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "token_embeddings"


class OnnxModelError(ModelError):
    pass


def mean_pool(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Average the token vectors of each row over its real (mask == 1) tokens."""
    mask = attention_mask.astype(np.float32)[:, :, None]
    summed = (token_embeddings * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)  # same guard as sentence-transformers
    return summed / counts


def _max_seq_length(model_path: Path, config) -> int:
    """The truncation length sentence-transformers would use for this model folder."""
    st_config = model_path / "sentence_bert_config.json"
    if st_config.is_file():
        value = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length")
        if value:
            return int(value)
    limit = int(config.max_position_embeddings)
    tok_config = model_path / "tokenizer_config.json"
    if tok_config.is_file():
        model_max = json.loads(tok_config.read_text(encoding="utf-8")).get("model_max_length")
        if isinstance(model_max, int) and model_max > 0:
            limit = min(limit, model_max)
    return limit


def _example_batch(tokenizer_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Two texts of different lengths, tokenized and padded: (input_ids, attention_mask)."""
    from tokenizers import Tokenizer

    rows = [e.ids for e in Tokenizer.from_file(str(tokenizer_file)).encode_batch(["招商引资工作会议", "你好"])]
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, :len(row)], mask[i, :len(row)] = row, 1
    return ids, mask


def export_onnx(model_path: Path, out_dir: Path) -> dict:
    """Export the BERT in `model_path` to `out_dir`: model.onnx (+ model.onnx.data, fp32
    weights), tokenizer.json and onnx_export.json (metadata, also the return value).

    Returns the metadata dict (also stored as `onnx_export.json`).
    """
    import torch  # heavy, and only needed at build time
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # CLI output stays ours (int8 builds export before anything else loads)
    hf_logging.set_verbosity_error()
    model_path, out_dir = Path(model_path), Path(out_dir)
    if not (model_path / TOKENIZER_FILE).is_file():
        raise OnnxModelError(f"{model_path} has no {TOKENIZER_FILE}; the fast tokenizer is required")
    out_dir.mkdir(parents=True, exist_ok=True)

    # Eager attention: plain matmul/softmax ops that trace cleanly to ONNX.
    bert = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()
    max_length = _max_seq_length(model_path, bert.config)

    class TokenEmbeddings(torch.nn.Module):
        # We build the additive 4D mask ourselves (transformers passes a 4D mask through
        # unchanged), so no data-dependent "is there padding?" branch of transformers' mask
        # helpers gets frozen into the traced graph. token_type_ids are all 0 for single
        # texts, so they are not a graph input.
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            keep = attention_mask[:, None, None, :].to(torch.float32)
            additive = (1.0 - keep) * torch.finfo(torch.float32).min
            return self.model(input_ids=input_ids, attention_mask=additive,
                              token_type_ids=torch.zeros_like(input_ids)).last_hidden_state

    wrapper = TokenEmbeddings(bert).eval()
    # A padded example batch made by the model's own tokenizer (any vocabulary), so the
    # traced graph really exercises the mask.
    ids, mask = (torch.tensor(a, dtype=torch.long) for a in _example_batch(model_path / TOKENIZER_FILE))

    # Everything is written into a staging folder inside out_dir, then renamed into place
    # (same filesystem, so each rename is atomic), metadata last.
    staging = Path(tempfile.mkdtemp(prefix=".onnx-export-", dir=out_dir))
    try:
        reference = _trace(wrapper, ids, mask, staging)
        _check_export(staging / ONNX_FILE, ids.numpy(), mask.numpy(), reference)
        shutil.copyfile(model_path / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        # onnx writes the weights file as 0600; give it the ordinary (umask) mode of the copy.
        os.chmod(staging / DATA_FILE, (staging / TOKENIZER_FILE).stat().st_mode)

        info = _export_info(model_path, staging, int(bert.config.hidden_size), max_length, torch.__version__)
        (staging / META_FILE).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
        (out_dir / META_FILE).unlink(missing_ok=True)  # an old META must not vouch for half-new files
        for name in (DATA_FILE, ONNX_FILE, TOKENIZER_FILE, META_FILE):
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return info


def _trace(wrapper, ids, mask, staging: Path) -> np.ndarray:
    """Trace `wrapper` to staging/model.onnx (+ external weights); returns torch's output
    on the example batch, which the export is checked against."""
    import onnx
    import torch

    traced = staging / "traced.onnx"
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notices
        # The TorchScript exporter (dynamo=False) needs no onnxscript and handles BERT fine.
        torch.onnx.export(
            wrapper, (ids, mask), str(traced), dynamo=False,
            input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAMES[0]: axes, INPUT_NAMES[1]: axes, OUTPUT_NAME: axes},
            opset_version=OPSET, do_constant_folding=True,
        )
        reference = wrapper(ids, mask).numpy()
    # Weights go to a separate file: onnxruntime memory-maps external data, which cut
    # session creation from ~0.24 s to ~0.07 s here (it is on every query's path).
    onnx.save(onnx.load(str(traced)), str(staging / ONNX_FILE), save_as_external_data=True,
              all_tensors_to_one_file=True, location=DATA_FILE, size_threshold=1024)
    traced.unlink()
    return reference


def _export_info(model_path: Path, folder: Path, dimension: int, max_length: int, torch_version: str) -> dict:
    """The export's metadata (onnx_export.json): what the graph computes and its files' hashes."""
    return {
        "format": 1,
        "source_model": str(model_path),
        "opset": OPSET,
        "precision": "fp32",
        "inputs": list(INPUT_NAMES),
        "output": OUTPUT_NAME,
        "pooling": "mean",
        "normalize": True,
        "dimension": dimension,
        "max_seq_length": max_length,
        "torch_version": torch_version,
        "files": {name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
                  for name in (ONNX_FILE, DATA_FILE, TOKENIZER_FILE)},
    }


def quantize_int8(fp32_dir: Path, out_dir: Path) -> dict:
    """Dynamic int8 quantisation of an `export_onnx` folder into `out_dir` (for
    SEARCHKIT_PRECISION=int8 builds): int8 weights, activations quantised per batch.

    Per-tensor on purpose: per-channel int8 came out broken here (cosine to fp32 < 0.5).
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_dir, out_dir = Path(fp32_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs pre-processing advice on the root logger
    try:
        quantize_dynamic(str(fp32_dir / ONNX_FILE), str(out_dir / ONNX_FILE), weight_type=QuantType.QInt8,
                         per_channel=False)
    finally:
        root.setLevel(level)
    shutil.copyfile(fp32_dir / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    info = json.loads((fp32_dir / META_FILE).read_text(encoding="utf-8"))
    info.update(precision="int8", files={name: {"bytes": (out_dir / name).stat().st_size, "sha256": sha256_file(out_dir / name)}
                                         for name in (ONNX_FILE, TOKENIZER_FILE)})
    (out_dir / META_FILE).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    texts = ["招商引资工作会议", "全力以赴抓好安全生产，坚决遏制重大事故发生"]
    agreement = float(np.min(np.sum(OnnxEmbedder(fp32_dir, "check").encode(texts)
                                    * OnnxEmbedder(out_dir, "check").encode(texts), axis=1)))
    if not agreement > 0.95:  # measured ~0.99 on m3e-small
        (out_dir / META_FILE).unlink()
        raise OnnxModelError(f"the int8 model disagrees with fp32 (cosine {agreement:.3f}); build with SEARCHKIT_PRECISION=fp32")
    return info


def _check_export(onnx_path: Path, ids: np.ndarray, mask: np.ndarray, reference: np.ndarray) -> None:
    """Refuse an export whose onnxruntime output differs from torch on the padded example."""
    session = _make_session(onnx_path, threads=1)
    got = session.run([OUTPUT_NAME], {INPUT_NAMES[0]: ids, INPUT_NAMES[1]: mask})[0]
    err = float(np.abs((got - reference) * mask[:, :, None]).max())
    if not err < 1e-3:
        raise OnnxModelError(f"ONNX export disagrees with torch (max abs difference {err:g})")


def _make_session(onnx_path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: CLI output must stay clean
    return ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])


class OnnxEmbedder:
    """Embedder over an `export_onnx` folder; matches SentenceTransformerEmbedder's vectors.

    threads=1 by default: a query is one short text, and a second intra-op thread competing
    with a busy core made latency ~5x worse here. Use 2+ only for bulk encoding.
    """

    def __init__(self, onnx_dir: Path, name: str, threads: int = 1, batch_size: int = 64):
        self.onnx_dir = Path(onnx_dir)
        self.name = name
        self.threads = threads
        self.batch_size = batch_size
        self._meta: dict | None = None
        self._session: Any = None  # onnxruntime.InferenceSession, made on first use
        self._tokenizer: Any = None  # tokenizers.Tokenizer

    def _info(self) -> dict:
        if self._meta is None:
            meta_path = self.onnx_dir / META_FILE
            if not meta_path.is_file():
                raise OnnxModelError(f"no ONNX model in {self.onnx_dir} (missing {META_FILE}); rebuild the index")
            self._meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return self._meta

    @property
    def dimension(self) -> int:
        return int(self._info()["dimension"])

    @property
    def max_seq_length(self) -> int:
        return int(self._info()["max_seq_length"])

    @property
    def precision(self) -> str:
        return self.metadata.get("precision", "fp32")

    @property
    def metadata(self) -> dict:
        """The export's onnx_export.json (what `export_onnx` / `quantize_int8` returned)."""
        return self._info()

    def _load(self):
        if self._session is None:
            from tokenizers import Tokenizer

            max_length = self.max_seq_length  # reads the metadata: a clear error if the export is missing
            tokenizer = Tokenizer.from_file(str(self.onnx_dir / TOKENIZER_FILE))
            # Same ids as the HF tokenizer sentence-transformers uses ([CLS] ... [SEP], cut at
            # max_seq_length); padding is done per batch below.
            tokenizer.enable_truncation(max_length)
            tokenizer.no_padding()
            self._tokenizer = tokenizer
            self._session = _make_session(self.onnx_dir / ONNX_FILE, self.threads)
        return self._session, self._tokenizer

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts) if len(texts) > 1 else [tokenizer.encode(texts[0])]
        ids = [e.ids for e in encodings]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)  # rows in input order
        for batch in token_budget_batches([len(i) for i in ids], max_batch=self.batch_size):
            width = len(ids[batch[0]])
            input_ids = np.zeros((len(batch), width), dtype=np.int64)  # pads are masked out
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            tokens = session.run([OUTPUT_NAME], {INPUT_NAMES[0]: input_ids, INPUT_NAMES[1]: mask})[0]
            out[batch] = mean_pool(tokens, mask)
            if progress:
                progress(len(batch))
        return l2_normalize(out)
