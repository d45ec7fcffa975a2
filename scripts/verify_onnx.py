#!/usr/bin/env python
"""Check that the ONNX encoder reproduces the sentence-transformers vectors.

Exports the model to a temporary folder (or uses --onnx-dir), encodes corpus passages and
short queries with both embedders, prints min/mean cosine per group and exits 1 if any
cosine is below --threshold.

    python scripts/verify_onnx.py [--corpus corpus] [--passages 240] [--threshold 0.999]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from searchkit.embedding import SentenceTransformerEmbedder, resolve_model_path  # noqa: E402
from searchkit.onnx_encoder import OnnxEmbedder, export_onnx  # noqa: E402

QUERIES = [
    "招商引资 措施", "优化营商环境", "乡村振兴", "安全生产责任制", "固定资产投资增速",
    "一季度经济运行情况", "双过半", "项目建设", "民营经济发展", "党风廉政建设",
    "生态环境保护", "脱贫攻坚成果巩固", "基层党组织建设", "疫情防控", "财政收入",
    "规模以上工业增加值", "招商引资", "形式主义 官僚主义", "干部作风", "科技创新",
    "数字经济", "城市更新", "农业现代化", "就业 民生", "教育 医疗 养老",
    "防范化解重大风险", "债务风险", "高质量发展", "工作报告", "意识形态工作",
    "人才引进政策", "河长制", "文明城市创建", "扫黑除恶", "营商环境 改革",
    "GDP增长", "COVID-19", "5G基站建设", "政府工作报告2023", "如何 抓 落实？",
]


def sample_texts(corpus: Path, count: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Paragraphs of 200-500 characters, plus a few long ones that exceed 512 tokens."""
    paragraphs = [line.strip() for path in sorted(corpus.glob("*.txt"))
                  for line in path.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    medium = [p for p in paragraphs if 200 <= len(p) <= 500]
    long_ = [p for p in paragraphs if len(p) > 500]
    passages = rng.sample(medium, min(count, len(medium)))
    # Joined paragraphs: > 512 tokens, so truncation must agree too.
    joined = ["".join(rng.sample(long_ or medium, min(3, len(long_ or medium)))) for _ in range(8)]
    return passages, joined


def report(label: str, a: np.ndarray, b: np.ndarray) -> float:
    cos = (a * b).sum(axis=1)  # both sides are L2-normalised
    print(f"{label:<10} n={len(cos):<4} min cosine {cos.min():.7f}  mean {cos.mean():.7f}  (1-min = {1 - cos.min():.1e})")
    return float(cos.min())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--model", default="m3e-small")
    parser.add_argument("--passages", type=int, default=240)
    parser.add_argument("--threshold", type=float, default=0.999)
    parser.add_argument("--onnx-dir", type=Path, help="use an existing export instead of exporting")
    args = parser.parse_args()

    passages, long_texts = sample_texts(args.corpus, args.passages)
    if len(passages) < 200:
        print(f"warning: only {len(passages)} passages of 200-500 characters in {args.corpus}", file=sys.stderr)
    groups = {"passages": passages, "long": long_texts, "queries": QUERIES}

    reference = SentenceTransformerEmbedder(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_dir = args.onnx_dir
        if onnx_dir is None:
            onnx_dir = Path(tmp)
            start = time.perf_counter()
            info = export_onnx(resolve_model_path(args.model), onnx_dir)
            size = sum(f["bytes"] for f in info["files"].values()) / 1e6
            print(f"exported in {time.perf_counter() - start:.1f}s: {size:.1f} MB "
                  f"({', '.join(info['files'])}), opset {info['opset']}")
        candidate = OnnxEmbedder(onnx_dir, args.model, threads=2)
        worst = 1.0
        for label, texts in groups.items():
            worst = min(worst, report(label, reference.encode(texts), candidate.encode(texts)))

    ok = worst >= args.threshold
    print(f"{'OK' if ok else 'FAIL'}: min cosine {worst:.7f} (threshold {args.threshold})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
