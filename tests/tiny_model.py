"""A tiny BERT made offline, saved as a sentence-transformers folder (transformer + mean
pooling): random weights, width 32, two layers, a vocabulary of the test speeches' characters.

It goes through exactly the real model's path (ONNX export and its check, onnxruntime
builds, updates and queries, sentence-transformers as the reference) in a fraction of a
second per call, so that path is tested in the quick loop, not only behind `model`.
"""
from __future__ import annotations

import json
from pathlib import Path

WIDTH = 32
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_tiny_model(folder: Path, texts: list[str], pooling: str = "mean") -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted({ch for text in texts for ch in text.lower() if not ch.isspace()})
    vocab = {token: i for i, token in enumerate(SPECIAL + chars)}
    # BERT's own pipeline (normaliser that splits Han characters, WordPiece, [CLS] … [SEP]),
    # built with `tokenizers`; save_pretrained writes tokenizer.json, which the ONNX encoder reads.
    core = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    BertTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                      sep_token="[SEP]", mask_token="[MASK]").save_pretrained(str(folder))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(SPECIAL) + len(chars), hidden_size=WIDTH, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).eval().save_pretrained(str(folder))
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128, "do_lower_case": False}),
                                                      encoding="utf-8")
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": WIDTH, "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False}), encoding="utf-8")
    return folder
