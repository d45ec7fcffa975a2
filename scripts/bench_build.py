#!/usr/bin/env python
"""Full build of the bundled corpus, beside plain sentence-transformers encoding.

Builds a fresh index of the corpus into a temporary folder exactly as `searchkit index`
does (the embedder chosen by searchkit/encoders.py: the ONNX fp32 export on every core)
and reports its wall time per phase, then encodes the same passages whole with a plain
`SentenceTransformer.encode(texts, batch_size=32)` in the same process for comparison.
`--check-vectors` also embeds every window with sentence-transformers (the reference) and
prints the lowest cosine to the index's vectors (about as long again as the build).

`--against OLD_ROOT` (a checkout of older code, e.g. `git worktree add /tmp/old-code C`)
instead times full builds of old and new code alternated, each in a fresh process (one
warm-up build of each first, unless `--no-warm-up`), `--pairs` times, then checks the last
new build's vectors against sentence-transformers as `--check-vectors` does.

    .venv/bin/python scripts/bench_build.py [--corpus corpus] [--check-vectors]
    .venv/bin/python scripts/bench_build.py --against /tmp/old-code [--pairs 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
    parser.add_argument("--against", help="root of an older checkout to alternate with (see above)")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args()
    if args.against:
        return alternate(Path(args.against), Path(args.corpus), args.pairs, not args.no_warm_up)

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


# One full build in a fresh process of the code under PYTHONPATH; prints its figures as JSON.
_ONE_BUILD = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
import searchkit
from searchkit.config import Settings
from searchkit.indexer import build_index
r = build_index(Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2])))
print(json.dumps({"build_s": time.perf_counter() - started, "chunks": r.chunks_total,
                  "windows": r.windows_embedded, "code": searchkit.__file__}))
"""


def one_build(root: Path, corpus: Path, index_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _ONE_BUILD, str(corpus), str(index_dir)], env=env, cwd=root,
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result.update(wall_s=time.perf_counter() - started, load=load)
    return result


def alternate(old_root: Path, corpus: Path, pairs: int, warm_up: bool) -> None:
    from searchkit.embedding import SentenceTransformerEmbedder
    from searchkit.store import MetaStore, open_generation

    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores; "
          f"old code {old_root}, new code {ROOT}, corpus {corpus.resolve()}", flush=True)
    times: dict[str, list[float]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as tmp:
        order = [("warm-up", "old"), ("warm-up", "new")] if warm_up else []
        order += [("timed", side) for _ in range(pairs) for side in ("old", "new")]
        last_new = Path(tmp)
        for n, (kind, side) in enumerate(order):
            index_dir = Path(tmp) / f"{side}-{n}"
            r = one_build(old_root if side == "old" else ROOT, corpus, index_dir)
            print(f"{kind} {side}: build {r['build_s']:.1f} s (process {r['wall_s']:.1f} s), {r['chunks']} passages, "
                  f"{r['windows']} windows, load {r['load']:.2f}, code {r['code']}", flush=True)
            if kind == "timed":
                times[side].append(r["build_s"])
            if side == "new":
                last_new = index_dir
        for side in ("old", "new"):
            print(f"{side}: " + ", ".join(f"{t:.1f}" for t in times[side]) + f" s; median {statistics.median(times[side]):.1f}")
        print(f"speed-up old/new (medians): {statistics.median(times['old']) / statistics.median(times['new']):.3f}x; "
              "pairwise: " + ", ".join(f"{o / n:.3f}x" for o, n in zip(times["old"], times["new"], strict=True)))
        generation = open_generation(last_new)
        meta = MetaStore(generation.meta_path, readonly=True)
        chunks = meta.chunks(meta.all_doc_ids())
        meta.close()
        lowest = lowest_cosine(generation, chunks, SentenceTransformerEmbedder("m3e-small"))
        print(f"lowest cosine of the last new build's vectors to sentence-transformers over every window: {lowest:.7f}")
    print(f"load average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


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
