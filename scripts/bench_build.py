#!/usr/bin/env python
"""Full build of the bundled corpus, beside plain sentence-transformers encoding.

Builds a fresh index of the corpus into a temporary folder exactly as `searchkit index`
does (the embedder chosen by searchkit/encoders.py: the ONNX fp32 export on every core)
and reports its wall time per phase, then encodes the same passages whole with a plain
`SentenceTransformer.encode(texts, batch_size=32)` in the same process for comparison.
`--check-vectors` also embeds every window with sentence-transformers (the reference) and
prints the lowest cosine to the index's vectors (about as long again as the build).

    .venv/bin/python scripts/bench_build.py [--corpus corpus] [--check-vectors]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--check-vectors", action="store_true")
    args = parser.parse_args()

    from searchkit.config import Settings
    from searchkit.embedding import SentenceTransformerEmbedder
    from searchkit.indexer import build_index

    # Phases overlap (the model embeds in a worker thread while Whoosh indexes), so each is
    # timed from its start to its last step, and their sum may exceed the wall time.
    spans: dict[str, list[float]] = {}

    def progress(phase: str, total: int):
        now = time.perf_counter()
        spans[phase] = [now, now]

        def advance(n=1):
            spans[phase][1] = time.perf_counter()
        return advance

    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=Path(args.corpus), index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        report = build_index(settings, progress=progress)
        wall = time.perf_counter() - started
        phases = {name: (t0 - started, t1 - t0) for name, (t0, t1) in spans.items()}
        from searchkit.store import MetaStore, open_generation

        generation = open_generation(settings.index_dir)
        meta = MetaStore(generation.meta_path, readonly=True)
        chunks = meta.chunks(meta.all_doc_ids())
        meta.close()
        texts = [c.text for c in chunks.values()]
        embedder = SentenceTransformerEmbedder("m3e-small")
        if args.check_vectors:
            print(f"lowest cosine to sentence-transformers over every window: "
                  f"{lowest_cosine(generation, chunks, embedder):.7f}")

    model = embedder._load()
    started = time.perf_counter()
    model.encode(texts, batch_size=32, show_progress_bar=False)
    plain = time.perf_counter() - started

    n = report.chunks_total
    print("\n| what | wall s | passages/s |")
    print("|---|---|---|")
    print(f"| `searchkit index` full build ({n} passages, {report.windows_embedded} windows embedded) "
          f"| {wall:.1f} | {n / wall:.1f} |")
    for name, (offset, seconds) in phases.items():
        print(f"| · phase: {name} (starts at {offset:.1f} s) | {seconds:.1f} | |")
    print(f"| plain sentence-transformers encode of the same {len(texts)} passages, whole | {plain:.1f} | {len(texts) / plain:.1f} |")


def lowest_cosine(generation, chunks, embedder) -> float:
    from searchkit.vector_index import VectorIndex, passage_windows, vector_ids

    vectors = VectorIndex.load(generation.vectors_path, mmap=False)
    ids, windows = [], []
    for doc_id, chunk in chunks.items():
        local = passage_windows(chunk.text)
        ids += vector_ids(doc_id, [i for i, _ in local])
        windows += [w for _, w in local]
    return float((vectors.reconstruct(ids) * embedder.encode(windows)).sum(axis=1).min())


if __name__ == "__main__":
    main()
