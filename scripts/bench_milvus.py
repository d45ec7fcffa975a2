#!/usr/bin/env python
"""Milvus (milvus-lite) beside the embedded engine (Whoosh + bigram BM25 + FAISS), same run.

For each size: one synthetic corpus (bench_scale.make_chunks: passages recombined from the
bundled speeches, written as speeches of 40 sections each), built by the product's own
`indexer.build_index(Settings(backend=...))` into one index per engine, then queried warm
through `searcher.Searcher.search` in hybrid, keyword and vector mode, so chunking, the keyword
plan, fusion and folding are the real ones. The embedder is a stand-in that returns
bench_scale.synth_vectors("clustered") for the texts it is given (one call per build, the same
texts in the same order for both engines, so both hold the same vectors; the run checks this
by hash). Query vectors are perturbed window vectors (bench_scale.make_queries).

Every build and every query pass runs in its own subprocess: build rate = passages / wall time
of build_index (the synthetic embedding is timed apart, it stands in for the model); peak
memory = ru_maxrss of that subprocess. milvus-lite 3.x serves a .db in-process (a gRPC server
in a thread, see milvus_lite/server_manager.py), so its memory is in that figure; children of
the worker (none expected) are measured too (RUSAGE_CHILDREN, /proc VmHWM).

    nice -n 10 python scripts/bench_milvus.py --quick
    nice -n 10 python scripts/bench_milvus.py --sizes 10000,100000 --out docs/bench_milvus.json
    SEARCHKIT_MILVUS_INDEX=HNSW ... (or --milvus-index FLAT,HNSW: one Milvus index per type)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale as scale  # noqa: E402  (also puts the repository on sys.path)

SECTIONS_PER_FILE = 40  # bench_scale's chunk i belongs to synthetic/<i // 40>.txt
MODES = ("hybrid", "keyword", "vector")


class SyntheticEmbedder:
    """The embedder interface (embedding.Embedder) over bench_scale's stand-in vectors:
    build texts get synth_vectors("clustered") in the order given; queries their own rows."""

    name = "synthetic-clustered-512"
    dimension = scale.DIM

    def __init__(self, seed: int, queries: dict | None = None):
        self.seed, self.queries = seed, queries
        self.vectors = None
        self.seconds = 0.0

    def encode(self, texts, progress=None):
        import numpy as np

        started = time.perf_counter()
        if self.queries is not None:
            out = np.stack([self.queries[t] for t in texts]).astype(np.float32)
        else:
            if self.vectors is not None:
                raise RuntimeError("the synthetic embedder serves one build call; build_index called it twice")
            out = self.vectors = scale.synth_vectors(len(texts), "clustered", self.seed)
        self.seconds += time.perf_counter() - started
        if progress:
            progress(len(texts))
        return out


# -- corpus ----------------------------------------------------------------------------------
def write_corpus(folder: Path, n: int, seed: int) -> None:
    """bench_scale's first n chunks as speeches: a title line, then heading + text per section."""
    if (folder / "DONE").exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    chunks = scale.make_chunks(n, seed)
    for start in range(0, n, SECTIONS_PER_FILE):
        part = chunks[start:start + SECTIONS_PER_FILE]
        lines = [part[0].title, ""]
        for c in part:
            lines += [c.heading[0], c.text, ""]
        (folder / f"{start // SECTIONS_PER_FILE:06d}.txt").write_text("\n".join(lines), encoding="utf-8")
    (folder / "DONE").write_text(str(n))


# -- memory ----------------------------------------------------------------------------------
def memory() -> dict:
    """Peak RSS (MB) of this process, of its waited-for children, and of live descendants."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    waited = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    live = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == os.getpid() and "VmHWM" in fields:
            live += int(fields["VmHWM"].split()[0]) / 1024
    return {"self_mb": round(own), "children_waited_mb": round(waited), "children_live_mb": round(live)}


def cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system): on a shared machine the build's
    own work, whatever the other processes took of the wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- workers ---------------------------------------------------------------------------------
def settings_for(a, engine: str):
    from searchkit.config import Settings

    return Settings(corpus_dir=Path(a.workdir) / f"corpus_{a.size}", index_dir=Path(a.workdir) / f"{a.label}_{a.size}",
                    model=SyntheticEmbedder.name, backend=engine)


def build_worker(a):
    import numpy as np

    from searchkit import analysis
    from searchkit.indexer import build_index

    analysis.words("预热分词器")  # jieba's dictionary loads once per process: not a build cost
    settings = settings_for(a, a.engine)
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    embedder = SyntheticEmbedder(a.seed)
    scale.log(f"build {a.label} {a.size}: starting")
    started, cpu_started = time.perf_counter(), cpu_seconds()
    report = build_index(settings, embedder=embedder, rebuild=True)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    x = embedder.vectors
    queries, _ = scale.make_queries(x, len(scale.QUERIES), a.seed)
    np.save(Path(a.workdir) / f"queries_{a.size}.npy", queries)
    res = {"engine": a.engine, "label": a.label, "size": a.size, "passages": report.chunks_total,
           "speeches": report.speeches_total, "windows": int(len(x)),
           "vectors_sha": hashlib.sha256(x.tobytes()).hexdigest()[:16],
           "build_s": round(seconds, 1), "embed_s": round(embedder.seconds, 1), "cpu_s": round(cpu, 1),
           "passages_per_cpu_s": round(report.chunks_total / cpu, 1),
           "passages_per_s": round(report.chunks_total / seconds, 1),
           "passages_per_s_without_embedding": round(report.chunks_total / (seconds - embedder.seconds), 1),
           "disk_mb": round(scale.dir_size(settings.index_dir) / 2**20, 1), "memory": memory(), "load_end": scale.load()}
    if a.engine == "milvus":
        from searchkit import milvus_backend

        milvus_backend.close_all()
    res["memory_after_close"] = memory()
    print(json.dumps(res))


def vector_index_name(searcher) -> str:
    if searcher.backend == "milvus":
        from searchkit import milvus_backend

        kind = searcher.vectors.index_type  # the collection's own (recorded in its pointer file)
        params = {**milvus_backend._index_build_params(kind), **milvus_backend._index_search_params(kind, scale.DEPTH)}
        return f"Milvus {kind}" + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else " (exact)")
    vi = searcher.vectors
    if vi.is_exact:
        return "FAISS IndexFlatIP (exact)"
    import faiss

    inner = faiss.extract_index_ivf(vi.index)
    return f"FAISS IVFFlat (nlist={inner.nlist}, nprobe={inner.nprobe})"


def query_worker(a):
    import numpy as np

    from searchkit import analysis
    from searchkit.query import parse_query
    from searchkit.searcher import Searcher

    analysis.words("预热分词器")
    q = np.load(Path(a.workdir) / f"queries_{a.size}.npy")
    # The Searcher embeds a query's semantic text (punctuation dropped): key the rows by it.
    embedder = SyntheticEmbedder(a.seed, {parse_query(t).semantic_text: v for t, v in zip(scale.QUERIES, q, strict=True)})
    searcher = Searcher(settings_for(a, a.engine), embedder=embedder)
    res = {"engine": a.engine, "label": a.label, "size": a.size, "reps": a.reps, "n_queries": len(scale.QUERIES),
           "load_start": scale.load()}
    started = time.perf_counter()
    searcher.search(scale.QUERIES[0], k=10, mode="hybrid")  # opens the index (Milvus: loads the collections)
    res["first_query_s"] = round(time.perf_counter() - started, 2)
    res["vector_index"] = vector_index_name(searcher)
    res["keyword_plan"] = "lean" if getattr(searcher.keyword, "is_lean", lambda: False)() else "full"
    for mode in MODES:
        for text in scale.QUERIES:  # warm
            searcher.search(text, k=10, mode=mode)
        times = []
        for _ in range(a.reps):
            for text in scale.QUERIES:
                t = time.perf_counter()
                searcher.search(text, k=10, mode=mode)
                times.append(time.perf_counter() - t)
        res[mode] = scale.ms_stats(times)
        scale.log(f"query {a.label} {a.size} {mode}: {res[mode]}")
    res["top_hybrid"] = [[h.chunk.chunk_id for h in searcher.search(t, k=10, mode="hybrid").hits] for t in scale.QUERIES[:10]]
    res["memory"] = memory()
    res["load_end"] = scale.load()
    print(json.dumps(res))


# -- driver ----------------------------------------------------------------------------------
def sub(args: list[str], env: dict | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    scale.log("run:", " ".join(args))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"bench_milvus: worker failed ({proc.returncode}): {' '.join(args)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def overlap(a: list[list[str]], b: list[list[str]]) -> float:
    """Mean share of the top-10 hybrid chunk ids two engines have in common (first 10 queries)."""
    pairs = [len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b, strict=True)]
    return round(sum(pairs) / max(len(pairs), 1), 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="passages per corpus, comma-separated")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2000 passages, one pass of queries")
    ap.add_argument("--milvus-index", default=os.environ.get("SEARCHKIT_MILVUS_INDEX", "FLAT"),
                    help="Milvus vector index types to build, comma-separated (FLAT, HNSW, IVF_FLAT)")
    ap.add_argument("--engines", default="embedded,milvus")
    ap.add_argument("--reps", type=int, default=3, help="timed passes over the 50 queries per mode")
    ap.add_argument("--workdir", default="/tmp/searchkit_bench_milvus")
    ap.add_argument("--out", default="docs/bench_milvus.json", help="results (merged by size and engine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-queries", action="store_true", help="builds only (e.g. to re-time them at lower load)")
    ap.add_argument("--report", help="print the table of these result files (comma-separated), run nothing")
    ap.add_argument("--_worker", choices=["build", "query"], help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--label", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._worker:
        return {"build": build_worker, "query": query_worker}[a._worker](a)
    if a.report:
        return print(render(merge([json.loads(Path(p).read_text()) for p in a.report.split(",")])))
    if a.quick:
        a.sizes, a.reps, a.workdir = "2000", 1, a.workdir + "_quick"
    out = Path(a.out)
    results = json.loads(out.read_text()) if out.exists() else {"runs": [], "sizes": {}}
    run = {"cmd": "nice -n 10 python " + " ".join(shlex.quote(x) for x in sys.argv),
           "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "load_start": scale.load(),
           "machine": scale.machine(), "pymilvus": _version("pymilvus"), "milvus_lite": _version("milvus-lite")}
    results["runs"].append(run)
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    runs = [("embedded", "embedded", {})] if "embedded" in a.engines else []
    if "milvus" in a.engines:
        runs += [("milvus", f"milvus-{kind.lower()}", {"SEARCHKIT_MILVUS_INDEX": kind})
                 for kind in a.milvus_index.upper().split(",")]
    for size in [int(s) for s in a.sizes.split(",") if s]:
        write_corpus(Path(a.workdir) / f"corpus_{size}", size, a.seed)
        entry = results["sizes"].setdefault(str(size), {})
        for engine, label, env in runs:
            common = ["--engine", engine, "--label", label, "--size", str(size), "--workdir", a.workdir,
                      "--seed", str(a.seed)]
            built = sub(["--_worker", "build", *common], env)
            scale.log(f"built {label} {size}: {built['passages_per_s']} passages/s, {built['memory']}")
            queried = None if a.no_queries else sub(["--_worker", "query", "--reps", str(a.reps), *common], env)
            entry[label] = {"build": built, "query": queried, "run": run["started_utc"], "quick": a.quick}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        labels = [label for _, label, _ in runs if label in entry and entry[label]["query"]]
        for other in labels[1:]:
            entry[other]["top10_overlap_with_" + labels[0]] = overlap(entry[labels[0]]["query"]["top_hybrid"],
                                                                      entry[other]["query"]["top_hybrid"])
    run["load_end"] = scale.load()
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(render(results))


def merge(parts: list[dict]) -> dict:
    """Several result files (sizes run in separate invocations) as one."""
    out: dict = {"runs": [], "sizes": {}}
    for part in parts:
        out["runs"] += part["runs"]
        for size, entries in part["sizes"].items():
            known = out["sizes"].setdefault(size, {})
            for label, e in entries.items():
                if e["query"] is None and label in known:  # a build re-timed later: keep both
                    known[label]["rebuild"] = e["build"]
                else:
                    known[label] = e
    return out


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def render(results: dict) -> str:
    """The benchmark tables (markdown) of every size in the results: builds, then queries."""
    lines = [f"- `{r['cmd']}`: started {r['started_utc']} UTC, load average {r['load_start']} -> {r.get('load_end')}"
             for r in results["runs"]] + [""]
    lines += ["| passages | engine | windows | build wall s | build CPU s | passages/s (wall) | passages per CPU-s | "
              "disk MB | peak RSS MB |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for _size, label, e in _entries(results):
        for b, note in ((e["build"], ""), (e.get("rebuild"), " (re-timed)")):
            if b:
                lines.append(f"| {b['passages']:,} | {label}{note} | {b['windows']:,} | {b['build_s']:.0f} | "
                             f"{_num(b.get('cpu_s'), '.0f')} | {b['passages_per_s']:.1f} | "
                             f"{_num(b.get('passages_per_cpu_s'), '.1f')} | {b['disk_mb']:.0f} | "
                             f"{b['memory']['self_mb'] + b['memory']['children_live_mb']} |")
    lines += ["", "| passages | engine | vector index | first query s | hybrid p50 / p95 ms | keyword p50 / p95 | "
              "vector p50 / p95 | peak RSS MB | top-10 hybrid overlap |", "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for _size, label, e in _entries(results):
        q = e["query"]
        if q:
            same = next((v for k, v in e.items() if k.startswith("top10_overlap")), None)
            lines.append(f"| {e['build']['passages']:,} | {label} | {q['vector_index']} | {q['first_query_s']} | "
                         + " | ".join(scale.fmt_ms(q[m]) for m in MODES)
                         + f" | {q['memory']['self_mb'] + q['memory']['children_live_mb']} | {'' if same is None else same} |")
    for size in sorted(results["sizes"], key=int):
        hashes = {e["build"]["vectors_sha"] for e in results["sizes"][size].values()}
        lines.append(f"\nCorpus of {int(size):,} synthetic sections: the engines hold "
                     f"{'the same' if len(hashes) == 1 else 'DIFFERENT'} synthetic vectors (sha256 {', '.join(sorted(hashes))}).")
    return "\n".join(lines)


def _num(value, spec: str) -> str:
    return "not measured" if value is None else format(value, spec)


def _entries(results: dict):
    for size in sorted(results["sizes"], key=int):
        for label, e in results["sizes"][size].items():
            yield size, label, e


if __name__ == "__main__":
    main()
