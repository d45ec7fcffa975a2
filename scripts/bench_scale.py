#!/usr/bin/env python
"""Scale benchmark for searchkit: keyword (Whoosh+jieba), vector (FAISS flat / IVF) and hybrid.

Synthetic corpora are built from the bundled speeches (corpus/*.txt): the text is split into
sentences at 。！？； and chunks of ~300 characters are made by recombining random real
sentences (seeded: chunk i depends only on --seed and i, so a 50k corpus is the prefix of the
100k one). Vectors are synthetic stand-ins (NOT real m3e embeddings): either i.i.d. random
normal vectors, L2-normalised ("random", a worst case for IVF: no cluster structure), or a
mixture of Gaussians around 1000 random centres, L2-normalised ("clustered", closer to the
structure of real text embeddings). Queries for the vector side are perturbed database vectors.

Every measured size runs in its own subprocess so peak memory (ru_maxrss of that process,
i.e. resident set size, not tracemalloc) is per size.

Examples:
  python scripts/bench_scale.py --quick --out /tmp/bench_quick.md
  python scripts/bench_scale.py --out docs/bench_scale.md
  python scripts/bench_scale.py --parts vector --vector-sizes 1000000 --merge --out docs/bench_scale.md
  python scripts/bench_scale.py --parts kwquery,searcher --reps 2 --merge --out docs/bench_scale.md
      (re-time queries on the keyword indexes an earlier run left in --workdir)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "corpus"
DIM = 512
N_CENTERS = 1000
CLUSTER_NOISE = 1.0  # norm of the per-point noise around a unit centre (cos to centre ~0.7)
QUERY_NOISE = 0.5  # norm of the perturbation added to a database vector to make a query
REALMIX_NOISE = 0.1  # norm of the noise added to a blend of two real vectors ("realmix")
HYBRID_KEYWORD_WEIGHT = 0.7  # searcher.RankingSettings.keyword_weight
DEPTH = 100  # searcher.RankingSettings.depth

# ~50 realistic queries: two-term key-word queries, single entity/topic terms, sentences.
KEYWORD_QUERIES = [
    "招商引资 措施", "乡村振兴 产业", "营商环境 优化", "安全生产 责任", "项目建设 进度",
    "固定资产投资 增长", "脱贫攻坚 成果", "生态环境 保护", "干部 作风", "基层 党建",
    "民生 保障", "就业 创业", "财政 收入", "工业 增加值", "企业 服务", "改革 创新",
    "人才 引进", "城市 管理", "疫情 防控", "农业 现代化", "文明 城市", "信访 稳定",
    "重点 项目", "考核 问责", "教育 医疗",
]
ENTITY_QUERIES = [
    "统计局", "发改局", "县委", "市政府", "全面从严治党", "一季度", "开门红", "双过半",
    "党风廉政建设", "高质量发展", "政法队伍", "扫黑除恶", "营商环境",
]
SENTENCE_QUERIES = [
    "机关单位赖账，企业要不回钱怎么办", "如何完成全年经济目标任务", "怎样把招商引资项目尽快落地",
    "干部不作为不担当的问题怎么解决", "农村人居环境整治怎么抓", "怎么看待一季度经济运行情况",
    "如何加强基层党组织建设", "安全生产事故怎么防范", "如何解决群众反映强烈的突出问题",
    "怎样推动工业经济转型升级", "疫情期间企业复工复产", "年轻干部要在基层一线经受锻炼",
]
QUERIES = KEYWORD_QUERIES + ENTITY_QUERIES + SENTENCE_QUERIES


# -- helpers --------------------------------------------------------------------------------
def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ms_stats(seconds):
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2), "mean_ms": round(statistics.fmean(ms), 2),
            "n": len(ms)}


def maxrss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def load():
    return [round(x, 2) for x in os.getloadavg()]


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')} load={load()}]", *args, file=sys.stderr, flush=True)


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import faiss
    import numpy
    from importlib.metadata import version as _v

    def _version(name):
        for n in (name, name + "3", name + "-reloaded", "Whoosh"):
            try:
                return _v(n)
            except Exception:
                pass
        return "?"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "python": platform.python_version(),
            "faiss": faiss.__version__, "numpy": numpy.__version__,
            "whoosh": _version("whoosh"), "platform": platform.platform()}


# -- synthetic corpus -------------------------------------------------------------------------
_SENT_END = re.compile(r"(?<=[。！？；])")
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+[，、是])")


def corpus_pieces():
    sentences, headings, titles = [], [], []
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if _HEADING.match(line) and len(line) <= 40:
                headings.append(line)
                continue
            if len(line) <= 30 and not line.endswith(("。", "：", ":")):
                titles.append(line)
                continue
            sentences += [s.strip() for s in _SENT_END.split(line) if 4 <= len(s.strip()) <= 200]
    return sentences, headings or ["一、总体要求"], titles or ["在全县经济工作会议上的讲话"]


def make_chunks(n: int, seed: int, start: int = 0):
    """Chunks start..n-1 of the synthetic stream (chunk i depends only on seed and i)."""
    from searchkit.models import Chunk

    sentences, headings, titles = corpus_pieces()
    out = []
    for i in range(start, n):
        rng = random.Random(seed * 1_000_003 + i)
        target = rng.randint(260, 340)
        text = ""
        while len(text) < target:
            text += rng.choice(sentences)
        title = rng.choice(titles)
        heading = (rng.choice(headings),)
        out.append(Chunk(chunk_id=f"syn{i:08d}", source=f"synthetic/{i // 40:06d}.txt", title=title,
                         heading=heading, text=text, speech_index=0, position=i % 40))
    return out


# -- keyword worker -------------------------------------------------------------------------
def keyword_worker(a):
    from searchkit import analysis
    from searchkit.keyword_index import KeywordIndex

    analysis.words("预热分词器")  # load jieba outside the timed region
    path = Path(a.workdir) / f"kw_{a.size}"
    if path.exists():
        shutil.rmtree(path)
    start = 0
    if a.base:
        shutil.copytree(a.base, path)
        start = a.base_size
    chunks = make_chunks(a.size, a.seed, start)
    rows = [(start + j, c.source, c) for j, c in enumerate(chunks)]
    log(f"keyword {a.size}: indexing {len(rows)} chunks (start={start})")
    rss_before = maxrss_mb()
    t0 = time.perf_counter()
    ki = KeywordIndex(path) if a.base else KeywordIndex.create(path)
    ki.update([], rows)
    build_s = time.perf_counter() - t0
    build_load = load()
    del chunks, rows
    res = {"size": a.size, "built_chunks": a.size - start, "base_size": start,
           "build_s": round(build_s, 1), "chunks_per_s": round((a.size - start) / build_s, 1),
           "disk_mb": round(dir_size(path) / 2**20, 1), "rss_before_build_mb": rss_before, "load_build_end": build_load}
    res.update(keyword_queries(path, a.reps))
    print(json.dumps(res))


def keyword_queries(path, reps):
    from searchkit.keyword_index import KeywordIndex
    from searchkit.query import parse_query

    ki = KeywordIndex(path)
    count = ki.doc_count()
    parsed = [parse_query(q) for q in QUERIES]
    hits = [len(ki.search(p, DEPTH)) for p in parsed]  # warm-up pass (opens segments, caches)
    times = {"keyword": [], "entity": [], "sentence": []}
    kinds = ["keyword"] * len(KEYWORD_QUERIES) + ["entity"] * len(ENTITY_QUERIES) + ["sentence"] * len(SENTENCE_QUERIES)
    for _ in range(reps):
        for p, kind in zip(parsed, kinds):
            t = time.perf_counter()
            ki.search(p, DEPTH)
            times[kind].append(time.perf_counter() - t)
    all_times = [x for v in times.values() for x in v]
    return {"docs": count, "query": ms_stats(all_times), "by_kind": {k: ms_stats(v) for k, v in times.items()},
            "mean_hits": round(statistics.fmean(hits), 1), "zero_hit_queries": sum(h == 0 for h in hits),
            "maxrss_mb": maxrss_mb(), "load_end": load(), "n_queries": len(QUERIES)}


def kwquery_worker(a):
    """Query latency only, on an index left in --workdir by an earlier run (e.g. re-measured at lower load)."""
    from searchkit import analysis

    analysis.words("预热分词器")
    res = {"size": a.size, "load_start": load()}
    res.update(keyword_queries(Path(a.workdir) / f"kw_{a.size}", a.reps))
    print(json.dumps(res))


# -- vector worker --------------------------------------------------------------------------
def normalize(x):
    import numpy as np

    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def synth_vectors(n, dist, seed, block=100_000):
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    # "clustered" = noise norm CLUSTER_NOISE; "clustered2.0" = noise norm 2.0 (looser clusters, harder for IVF)
    clustered = dist.startswith("clustered")
    noise = float(dist[len("clustered"):] or CLUSTER_NOISE) if clustered else 0.0
    centers = normalize(rng.standard_normal((N_CENTERS, DIM), dtype=np.float32)) if clustered else None
    for s in range(0, n, block):
        e = min(n, s + block)
        x = rng.standard_normal((e - s, DIM), dtype=np.float32)
        if centers is not None:
            x *= noise / np.sqrt(DIM)
            x += centers[rng.integers(0, N_CENTERS, e - s)]
        out[s:e] = normalize(x)
    return out


def realmix_vectors(n, seed, bundled_index, block=100_000):
    """Stand-ins shaped like real m3e-small embeddings: each is a random blend of two real
    window vectors of the bundled index plus a little noise, renormalised. They keep the
    real vectors' anisotropy (all in a narrow cone) and topic structure, which decide how
    well IVF cells separate; "clustered" is too easy and "random" too hard for that."""
    import numpy as np
    from searchkit import store
    from searchkit.vector_index import VectorIndex

    generation = store.open_generation(Path(bundled_index))
    base_index = VectorIndex.load(generation.vectors_path, mmap=False)
    real = _all_vectors(base_index)
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, block):
        e = min(n, s + block)
        share = rng.uniform(0.5, 1.0, (e - s, 1)).astype(np.float32)
        x = share * real[rng.integers(0, len(real), e - s)] + (1 - share) * real[rng.integers(0, len(real), e - s)]
        x += rng.standard_normal((e - s, DIM), dtype=np.float32) * (REALMIX_NOISE / np.sqrt(DIM))
        out[s:e] = normalize(x)
    return out, len(real)


def _all_vectors(vector_index):
    import faiss
    import numpy as np

    ids = faiss.vector_to_array(vector_index.index.id_map)
    return vector_index.reconstruct(ids.tolist()).astype(np.float32)


def real_queries(bundled_index):
    """The benchmark's 50 queries encoded by the bundled index's ONNX m3e-small."""
    from searchkit import store
    from searchkit.onnx_encoder import OnnxEmbedder

    generation = store.open_generation(Path(bundled_index))
    encoder = OnnxEmbedder(generation.path / generation.manifest.encoder["path"], "m3e-small", threads=2)
    return encoder.encode(QUERIES)


def make_queries(x, nq, seed):
    import numpy as np

    rng = np.random.default_rng(seed + 7)
    src = rng.choice(len(x), nq, replace=False)
    q = x[src] + rng.standard_normal((nq, DIM), dtype=np.float32) * (QUERY_NOISE / np.sqrt(DIM))
    return normalize(q.astype(np.float32)), src


def time_single(index, queries, k, threads):
    import faiss

    faiss.omp_set_num_threads(threads)
    index.search(queries[:1], k)  # warm
    out = []
    for i in range(len(queries)):
        t = time.perf_counter()
        index.search(queries[i:i + 1], k)
        out.append(time.perf_counter() - t)
    return ms_stats(out)


def vector_worker(a):
    import faiss
    import numpy as np
    from searchkit.vector_index import VectorIndex

    n, dist = a.size, a.dist
    t = time.perf_counter()
    res = {"size": n, "dist": dist, "dim": DIM}
    if dist == "realmix":
        x, res["real_vectors"] = realmix_vectors(n, a.seed, a.bundled_index)
        q = real_queries(a.bundled_index)
    else:
        x = synth_vectors(n, dist, a.seed)
        q, _ = make_queries(x, a.nq, a.seed)
    res["n_queries"] = len(q)
    ids = np.arange(n, dtype=np.int64) * 256  # ids shaped like the product's doc_id*256+local
    log(f"vector {dist} {n}: generated in {time.perf_counter() - t:.1f}s")

    faiss.omp_set_num_threads(os.cpu_count())
    t = time.perf_counter()
    flat = VectorIndex.create(DIM)
    flat.add(ids, x)
    res["flat_build_s"] = round(time.perf_counter() - t, 2)
    fpath = Path(a.workdir) / f"flat_{dist}_{n}.faiss"
    flat.save(fpath)
    res["flat_disk_mb"] = round(fpath.stat().st_size / 2**20, 1)
    fpath.unlink()
    t = time.perf_counter()
    _, gt = flat.index.search(q, 10)  # batched exact ground truth
    res["gt_batch_s"] = round(time.perf_counter() - t, 2)
    nl = min(a.nq, a.flat_nq)
    res["flat"] = {}
    for k in (10, 2000):
        for th in (1, 2):
            res["flat"][f"k{k}_t{th}"] = time_single(flat.index, q[:nl], k, th)
            log(f"flat {dist} {n} k={k} t={th}: {res['flat'][f'k{k}_t{th}']}")
    res["load_after_flat"] = load()
    del flat

    faiss.omp_set_num_threads(os.cpu_count())
    t = time.perf_counter()
    ivf = VectorIndex.build_ivf(ids, x)
    res["ivf_build_s"] = round(time.perf_counter() - t, 1)
    inner = faiss.extract_index_ivf(ivf.index)
    res["nlist"] = int(inner.nlist)
    sizes = np.array([inner.invlists.list_size(i) for i in range(inner.nlist)])
    res["list_size_min_med_max"] = [int(sizes.min()), int(np.median(sizes)), int(sizes.max())]
    ipath = Path(a.workdir) / f"ivf_{dist}_{n}.faiss"
    ivf.save(ipath)
    res["ivf_disk_mb"] = round(ipath.stat().st_size / 2**20, 1)
    ipath.unlink()
    log(f"ivf {dist} {n}: built in {res['ivf_build_s']}s nlist={res['nlist']}")
    res["ivf"] = {}
    for nprobe in a.nprobes:
        inner.nprobe = nprobe
        faiss.omp_set_num_threads(os.cpu_count())
        _, got = ivf.index.search(q, 10)
        recall = float(np.mean([len(set(g) & set(r)) / 10 for g, r in zip(gt, got)]))
        _, got2k = ivf.index.search(q[:nl], 2000)
        filled = float(np.mean((got2k != -1).sum(axis=1)))
        entry = {"recall@10": round(recall, 4), "mean_returned_of_2000": round(filled, 1)}
        for th in (1, 2):
            entry[f"k10_t{th}"] = time_single(ivf.index, q, 10, th)
        entry["k2000_t1"] = time_single(ivf.index, q[:nl], 2000, 1)
        res["ivf"][str(nprobe)] = entry
        log(f"ivf {dist} {n} nprobe={nprobe}: recall={recall:.3f} p50={entry['k10_t1']['p50_ms']}ms")
    res["maxrss_mb"] = maxrss_mb()
    res["load_end"] = load()
    print(json.dumps(res))


# -- hybrid worker --------------------------------------------------------------------------
def hybrid_worker(a):
    import faiss
    import numpy as np
    from searchkit import analysis, fusion
    from searchkit.keyword_index import KeywordIndex
    from searchkit.query import parse_query
    from searchkit.vector_index import IVF_THRESHOLD, VectorIndex, passage_windows, vector_ids

    analysis.words("预热分词器")
    n = a.size
    kn = a.hybrid_keyword_size or n  # keyword index to use (a smaller one when the n-chunk one was not built)
    ki = KeywordIndex(Path(a.workdir) / f"kw_{kn}")
    assert ki.doc_count() == kn, f"keyword index kw_{kn} has {ki.doc_count()} docs"
    chunks = make_chunks(n, a.seed)
    all_ids = []
    for doc_id, c in enumerate(chunks):
        all_ids += vector_ids(doc_id, [local for local, _ in passage_windows(c.text)])
    del chunks
    ids = np.asarray(all_ids, dtype=np.int64)
    x = synth_vectors(len(ids), "clustered", a.seed)
    log(f"hybrid {n}: {len(ids)} window vectors ({len(ids) / n:.2f}/chunk)")
    q, _ = make_queries(x, len(QUERIES), a.seed)
    parsed = [parse_query(s) for s in QUERIES]
    weights = {"keyword": HYBRID_KEYWORD_WEIGHT, "vector": 1 - HYBRID_KEYWORD_WEIGHT}
    res = {"size": n, "keyword_size": kn, "vectors": len(ids), "windows_per_chunk": round(len(ids) / n, 2),
           "ivf_threshold": IVF_THRESHOLD, "n_queries": len(QUERIES), "reps": a.reps}

    def run(vi, label):
        faiss.omp_set_num_threads(os.cpu_count())
        for p, qv in zip(parsed, q):  # warm
            ki.search(p, DEPTH), vi.search_passages(qv, DEPTH)
        tk, tv, tf, tt = [], [], [], []
        for _ in range(a.reps):
            for p, qv in zip(parsed, q):
                t0 = time.perf_counter()
                kw = ki.search(p, DEPTH)
                t1 = time.perf_counter()
                vec = vi.search_passages(qv, DEPTH)
                t2 = time.perf_counter()
                fusion.convex_combination({"keyword": kw, "vector": vec}, weights,
                                          lower_bounds={"keyword": 0.0, "vector": None})
                t3 = time.perf_counter()
                tk.append(t1 - t0), tv.append(t2 - t1), tf.append(t3 - t2), tt.append(t3 - t0)
        res[label] = {"total": ms_stats(tt), "keyword": ms_stats(tk), "vector": ms_stats(tv), "fusion": ms_stats(tf),
                      "load": load()}
        log(f"hybrid {n} {label}: {res[label]['total']}")

    faiss.omp_set_num_threads(os.cpu_count())
    flat = VectorIndex.create(DIM)
    flat.add(ids, x)
    run(flat, "flat")
    del flat
    t = time.perf_counter()
    ivf = VectorIndex.build_ivf(ids, x)
    res["ivf_build_s"] = round(time.perf_counter() - t, 1)
    inner = faiss.extract_index_ivf(ivf.index)
    res["nlist"] = int(inner.nlist)
    for nprobe in a.hybrid_nprobes:
        inner.nprobe = nprobe
        run(ivf, f"ivf_nprobe{nprobe}")
    res["maxrss_mb"] = maxrss_mb()
    print(json.dumps(res))


# Synthetic speech metadata for the filter measurements: each synthetic file (40 passages)
# is one speech; speakers cycle through SPEAKERS, so one speaker holds 1 % of the speeches
# and of the passages (the "selective filter"), and years cycle over ten years.
SPEAKERS = [f"{family}{given}" for family in "王李张刘陈杨赵黄周吴" for given in
            ("建国", "志强", "海燕", "立新", "文华", "春生", "晓明", "玉兰", "国庆", "红梅")]
FILTER_SPEAKER = SPEAKERS[7]
GENERATION_FORMAT = 2  # of the assembled synthetic generation (2: speeches table + bigram index)


def synthetic_speech(source: str, number: int):
    from searchkit.metadata import SpeechMetadata

    return SpeechMetadata(title=f"在全县经济工作会议上的讲话（{number}）", speaker=SPEAKERS[number % len(SPEAKERS)],
                          role="县长", level="县", date=str(2015 + (number // len(SPEAKERS)) % 10),
                          source=source, folder="synthetic")


def assemble_generation(a, settings, source) -> None:
    """A generation as the indexer writes it, from the keyword index built above, the
    synthetic chunks (metadata store, speeches table, bigram BM25) and clustered stand-in
    window vectors in the FAISS index the indexer would choose (VectorIndex.scaled)."""
    import numpy as np
    from searchkit import analysis, bigram_index, speech_meta, store
    from searchkit.engines import manifest_blocks
    from searchkit.fileutil import link_or_copy_tree
    from searchkit.manifest import Counts, Manifest
    from searchkit.vector_index import VectorIndex, passage_windows, vector_ids

    n = a.size
    if settings.index_dir.exists():
        shutil.rmtree(settings.index_dir)  # an older format of this benchmark
    log(f"searcher {n}: assembling a generation in {settings.index_dir}")
    writer = store.GenerationWriter(settings.index_dir, None)
    link_or_copy_tree(Path(a.workdir) / f"kw_{n}", writer.tmp / store.KEYWORD_DIR)
    link_or_copy_tree(source.path / source.manifest.encoder["path"], writer.tmp / source.manifest.encoder["path"])
    chunks = make_chunks(n, a.seed)
    sources = sorted({c.source for c in chunks})
    meta = store.MetaStore(writer.tmp / store.META)
    meta.add_chunks((i, c.source, c, "") for i, c in enumerate(chunks))
    meta.replace_files((src, src, 0, 1) for src in sources)
    meta.replace_speeches((src, 0, synthetic_speech(src, number)) for number, src in enumerate(sources))
    meta.commit()
    meta.close()
    t = time.perf_counter()
    bigram_index.build(writer.tmp / store.BIGRAMS_DIR, [(i, bigram_index.passage_text(c)) for i, c in enumerate(chunks)])
    bigram_build_s = time.perf_counter() - t
    ids = np.asarray([v for i, c in enumerate(chunks)
                      for v in vector_ids(i, [local for local, _ in passage_windows(c.text)])], dtype=np.int64)
    del chunks
    x = synth_vectors(len(ids), "clustered", a.seed)
    t = time.perf_counter()
    vi = VectorIndex.create(DIM)
    vi.add(ids, x)
    vi = vi.scaled()
    vector_build_s = time.perf_counter() - t
    vi.save(writer.tmp / store.VECTORS)
    del vi, x
    analysis.write_lexicon(writer.tmp / store.LEXICON)
    manifest = Manifest(
        **manifest_blocks(settings, "m3e-small", DIM),
        counts=Counts(files=len(sources), unique_files=len(sources), speeches=len(sources), chunks=n),
        next_doc_id=n, skipped=[], corpus_dir="(synthetic)", encoder=source.manifest.encoder,
        metadata={"version": speech_meta.METADATA_VERSION, "sidecar_sha256": ""})
    writer.publish(manifest)
    (settings.index_dir / "bench.json").write_text(json.dumps(
        {"format": GENERATION_FORMAT, "vectors": int(len(ids)), "vector_build_s": round(vector_build_s, 1),
         "bigram_build_s": round(bigram_build_s, 1)}))


def time_modes(searcher, flt, reps):
    """Warm p50/p95 per mode of the 50 queries, unfiltered and with `flt`, interleaved query
    by query (alternating which goes first) so that load drift hits both alike."""
    kinds = ["keyword"] * len(KEYWORD_QUERIES) + ["entity"] * len(ENTITY_QUERIES) + ["sentence"] * len(SENTENCE_QUERIES)
    out = {}
    for mode in ("hybrid", "keyword", "vector"):
        for q in QUERIES:  # warm (the first filtered query also reads the doc id maps)
            searcher.search(q, k=10, mode=mode)
            searcher.search(q, k=10, mode=mode, filter=flt)
        times: dict[str, list[float]] = {}
        filtered, short = [], 0
        for rep in range(reps):
            for i, (q, kind) in enumerate(zip(QUERIES, kinds, strict=True)):
                for with_filter in ((False, True) if (rep + i) % 2 == 0 else (True, False)):
                    t = time.perf_counter()
                    hits = searcher.search(q, k=10, mode=mode, filter=flt if with_filter else None).hits
                    elapsed = time.perf_counter() - t
                    if with_filter:
                        filtered.append(elapsed)
                        short += len(hits) < 10
                    else:
                        times.setdefault(kind, []).append(elapsed)
        out[mode] = {"all": ms_stats([x for v in times.values() for x in v]),
                     **{kind: ms_stats(v) for kind, v in times.items()},
                     "filtered": ms_stats(filtered), "filtered_short_of_k": short}
        log(f"searcher {mode}: {out[mode]['all']}; filtered {out[mode]['filtered']}")
    return out


def filtered_vector_recall(searcher, allowed):
    """Recall@10 of the filtered vector side (passages) against exact search over the allowed
    windows alone (numpy), and how many queries got fewer than 10 passages: IVF probes only
    some cells, so a selective filter may leave few allowed windows in them."""
    import numpy as np

    from searchkit.vector_index import aggregate_windows

    vi = searcher.vectors
    window_ids = vi._window_ids_of(allowed)
    vectors = vi.reconstruct(window_ids.tolist())
    recalls, short = [], 0
    for q in QUERIES:
        qv = searcher.embedder.encode([q])[0]
        scores = vectors @ qv
        top = np.argsort(-scores)[:2000]  # what search_passages(q, 10) asks FAISS for
        exact = [d for d, _ in aggregate_windows([(int(window_ids[i]), float(scores[i])) for i in top])[:10]]
        got = [d for d, _ in vi.search_passages(qv, 10, allowed)]
        recalls.append(len(set(exact) & set(got)) / max(len(exact), 1))
        short += len(got) < min(10, len(exact))
    return {"recall@10": round(float(np.mean(recalls)), 4), "short_of_k": short, "queries": len(QUERIES)}


def searcher_worker(a):
    """The product's own query path (Searcher.search, every mode, warm) on a synthetic index
    (assemble_generation), with the real ONNX m3e-small of the bundled index encoding each
    query (one thread, as the CLI); unfiltered and with a selective speaker filter (1 %)."""
    from searchkit import store
    from searchkit.config import Settings
    from searchkit.filters import Filter
    from searchkit.searcher import Searcher

    n = a.size
    settings = Settings(index_dir=Path(a.workdir) / f"gen_{n}", model="m3e-small")
    source = store.open_generation(Path(a.bundled_index))
    info_path = settings.index_dir / "bench.json"
    if not info_path.exists() or json.loads(info_path.read_text()).get("format") != GENERATION_FORMAT:
        assemble_generation(a, settings, source)
    info = json.loads(info_path.read_text())
    res = {"size": n, "vectors": info["vectors"], "vector_build_s": info["vector_build_s"], "load_start": load(),
           "n_queries": len(QUERIES), "reps": a.reps}
    searcher = Searcher(settings)
    res["vector_index"] = "exact flat" if searcher.vectors.is_exact else "IVF"
    res["keyword_plan"] = "lean" if searcher.keyword.is_lean() else "full"
    flt = Filter.parse(speaker=[FILTER_SPEAKER])
    t = time.perf_counter()
    allowed = searcher.allowed(flt)
    res["filter"] = {"speaker": FILTER_SPEAKER, "allowed": len(allowed), "share": round(len(allowed) / n, 4),
                     "allowed_ms": round((time.perf_counter() - t) * 1000, 1)}
    res.update(time_modes(searcher, flt, a.reps))
    res["filter"]["vector_exactness"] = filtered_vector_recall(searcher, allowed)
    log(f"searcher {n} filtered vector side against exact: {res['filter']['vector_exactness']}")
    # `similar`: 150-character paragraphs cut from the bundled speeches, hybrid.
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    paragraphs = ["".join(text[i:i + 150].split()) for i in range(5000, len(text) - 150, (len(text) - 5200) // 12)][:12]
    for p in paragraphs[:2]:  # warm
        searcher.similar(p, k=10)
    times = []
    for _ in range(a.reps):
        for p in paragraphs:
            t = time.perf_counter()
            searcher.similar(p, k=10)
            times.append(time.perf_counter() - t)
    res["similar"] = ms_stats(times)
    log(f"searcher {n} similar: {res['similar']}")
    res["maxrss_mb"] = maxrss_mb()
    res["load_end"] = load()
    print(json.dumps(res))


# -- driver ---------------------------------------------------------------------------------
def sub(args_list, timeout=None):
    cmd = [sys.executable, str(Path(__file__).resolve()), *args_list]
    log("run:", " ".join(cmd[2:]))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed ({proc.returncode}): {' '.join(args_list)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_ms(s):
    return f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}"


def render(results, argv):
    m = results["machine"]
    L = ["# searchkit scale benchmark", ""]
    L += [f"Generated by `scripts/bench_scale.py`. Runs (each merged into this file):", ""]
    for r in results["runs"]:
        L.append(f"- `{r['cmd']}` — started {r['started']}, load average at start {r['load_start']}, at end {r.get('load_end')}")
    L += ["", f"Machine: {m['nproc']} cores, {m['cpu']}, {m['ram']} RAM; {m['platform']}; Python {m['python']}, "
          f"faiss {m['faiss']}, numpy {m['numpy']}, whoosh {m['whoosh']}. Other processes were running on the "
          "machine (see load averages); numbers are indicative, not lab-grade.", ""]
    L += ["Corpus: synthetic chunks of ~300 chars (260-340) made of random real sentences from corpus/*.txt "
          "(split at 。！？；), random real headings/titles, seeded. Peak memory = `ru_maxrss` (peak RSS) of a "
          "fresh subprocess per size (includes Python, jieba, the chunk list; not tracemalloc).", ""]
    kw = results.get("keyword", {})
    if kw:
        L += ["## Keyword index (Whoosh + jieba, `KeywordIndex.create(path).update([], rows)`)", "",
              f"Query latency: warm, `KeywordIndex.search(parse_query(q), {DEPTH})`, {len(QUERIES)} queries "
              f"({len(KEYWORD_QUERIES)} two-term, {len(ENTITY_QUERIES)} entity/single-term, {len(SENTENCE_QUERIES)} "
              "sentence) × reps; p50 / p95 in ms.", "",
              "| chunks | how | build s | chunks/s | disk MB | query p50 / p95 ms (all) | 2-term | entity | sentence | mean hits | peak RSS MB |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for size in sorted(kw, key=int):
            r = kw[size]
            if r.get("extrapolated"):
                L.append(f"| {int(size):,} | **extrapolated** from {r['from']:,} | ~{r['build_s']:.0f} | ~{r['chunks_per_s']:.0f} "
                         f"| ~{r['disk_mb']:.0f} | not measured | | | | | |")
                continue
            how = "fresh build" if not r["base_size"] else f"copy of {r['base_size']:,} index + {r['built_chunks']:,} added"
            b = r["by_kind"]
            L.append(f"| {int(size):,} | {how} | {r['build_s']:.0f} | {r['chunks_per_s']:.0f} | {r['disk_mb']:.0f} | "
                     f"{fmt_ms(r['query'])} | {fmt_ms(b['keyword'])} | {fmt_ms(b['entity'])} | {fmt_ms(b['sentence'])} | "
                     f"{r['mean_hits']:.0f} | {r['maxrss_mb']:.0f} |")
        L.append("")
    rq = results.get("keyword_requery", {})
    if rq:
        from searchkit.config import LEAN_ABOVE

        L += ["Query latency re-measured later on the same indexes (no rebuild; `--parts kwquery`) with the current "
              "code (Whoosh opened without mmap; the query plan `auto` picks: full up to "
              f"{LEAN_ABOVE:,} passages, lean above), p50 / p95 ms:", "",
              "| chunks | plan | load avg at start | all | 2-term | entity | sentence | mean hits |",
              "|---:|---|---|---:|---:|---:|---:|---:|"]
        for size in sorted(rq, key=int):
            r = rq[size]
            b = r["by_kind"]
            plan = "lean" if int(size) > LEAN_ABOVE else "full"
            L.append(f"| {int(size):,} | {plan} | {r['load_start']} | {fmt_ms(r['query'])} | {fmt_ms(b['keyword'])} | {fmt_ms(b['entity'])} | "
                     f"{fmt_ms(b['sentence'])} | {r['mean_hits']:.0f} |")
        L.append("")
    vec = results.get("vector", {})
    if vec:
        L += ["## Vector index (FAISS, dim 512 float32, synthetic vectors)", "",
              "Vectors are **synthetic stand-ins, not m3e embeddings**: `random` = i.i.d. normal, L2-normalised "
              "(worst case for IVF: no structure, the true neighbours 2..10 of a query are near-ties scattered over "
              f"all cells); `clustered` = mixture of Gaussians around {N_CENTERS} random unit centres (noise norm "
              f"{CLUSTER_NOISE}; `clusteredX` = noise norm X, looser clusters), L2-normalised. Queries = database vectors + noise of norm {QUERY_NOISE}, renormalised. "
              "`realmix` = each vector a random blend of two real m3e-small window vectors of the bundled index plus noise "
              f"of norm {REALMIX_NOISE} (keeps the real anisotropy and topic structure); its queries are the 50 benchmark "
              "queries encoded by the real model. "
              "Latency = one query per call, p50 / p95 ms; t1/t2 = `faiss.omp_set_num_threads(1/2)`. "
              "k=2000 is what `search_passages(q, 100)` asks for (max(limit*20, 2000) windows).", "",
              "### Exact: `IndexIDMap2(IndexFlatIP)` (VectorIndex.create + add)", "",
              "| dist | vectors | build s | disk MB | k=10 t1 | k=10 t2 | k=2000 t1 | k=2000 t2 | peak RSS MB (whole worker) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key in sorted(vec, key=lambda k: (vec[k]["dist"], vec[k]["size"])):
            r = vec[key]
            f = r["flat"]
            L.append(f"| {r['dist']} | {r['size']:,} | {r['flat_build_s']:.1f} | {r['flat_disk_mb']:.0f} | {fmt_ms(f['k10_t1'])} | "
                     f"{fmt_ms(f['k10_t2'])} | {fmt_ms(f['k2000_t1'])} | {fmt_ms(f['k2000_t2'])} | {r['maxrss_mb']:.0f} |")
        L += ["", "### IVF: `VectorIndex.build_ivf` (IVFFlat, nlist = max(64, 4·sqrt(n)), trained on nlist·64 samples, "
              "Hashtable direct map)", "",
              "Recall@10 against exact search over the same queries. Build = train + add, all cores.", "",
              "| dist | vectors | nlist | list size min/med/max | build s | disk MB | nprobe | recall@10 | k=10 t1 | k=10 t2 | k=2000 t1 | returned of 2000 |",
              "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key in sorted(vec, key=lambda k: (vec[k]["dist"], vec[k]["size"])):
            r = vec[key]
            for nprobe, e in r["ivf"].items():
                L.append(f"| {r['dist']} | {r['size']:,} | {r['nlist']} | {'/'.join(map(str, r['list_size_min_med_max']))} | "
                         f"{r['ivf_build_s']:.0f} | {r['ivf_disk_mb']:.0f} | {nprobe} | {e['recall@10']:.3f} | "
                         f"{fmt_ms(e['k10_t1'])} | {fmt_ms(e['k10_t2'])} | {fmt_ms(e['k2000_t1'])} | {e['mean_returned_of_2000']:.0f} |")
        L.append("")
    hy = results.get("hybrid", {})
    if hy:
        L += ["## Hybrid warm query (keyword depth 100 + vector `search_passages(q, 100)` + `fusion.convex_combination`)", "",
              "Excludes query embedding (the ONNX m3e-small encoder adds ~6 ms warm per query, not measured here). "
              "Window vectors: one per `passage_windows(chunk.text)` window (ids doc_id·256+local, as the indexer), "
              "synthetic `clustered` vectors; keyword side = the keyword index built above; all cores for FAISS. "
              "p50 / p95 ms.", "",
              "| chunks | window vectors | vector index | total | keyword | vector | fusion |",
              "|---:|---:|---|---:|---:|---:|---:|"]
        for size in sorted(hy, key=int):
            r = hy[size]
            for label in [k for k in r if k == "flat" or k.startswith("ivf_nprobe")]:
                e = r[label]
                name = "exact flat" if label == "flat" else f"IVF nlist={r['nlist']} nprobe={label[10:]}"
                kws = r.get("keyword_size", r["size"])
                kwnote = "" if kws == r["size"] else f" (keyword side: {kws:,}-chunk index)"
                L.append(f"| {int(size):,}{kwnote} | {r['vectors']:,} | {name} | {fmt_ms(e['total'])} | {fmt_ms(e['keyword'])} | "
                         f"{fmt_ms(e['vector'])} | {fmt_ms(e['fusion'])} |")
        L.append("")
    sr = results.get("searcher", {})
    if sr:
        L += ["## The whole query path: `Searcher.search(q, k=10, mode)`, warm", "",
              "What a long-lived process (or the eval command) sees per query: query parsing, the real ONNX "
              "m3e-small encoding the query on one thread, the keyword plan `auto` picks, FAISS (the index type "
              "`VectorIndex.scaled` picks, over clustered stand-in window vectors), fusion, near-duplicate folding, "
              "passages read from the metadata store. Same 50 queries × reps; p50 / p95 ms.", "",
              "| chunks | window vectors | vector index | keyword plan | hybrid (all) | hybrid 2-term | hybrid entity | "
              "hybrid sentence | keyword (all) | vector (all) | similar (150 chars) | peak RSS MB | load at start |",
              "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for size in sorted(sr, key=int):
            r = sr[size]
            h = r["hybrid"]
            L.append(f"| {int(size):,} | {r['vectors']:,} | {r['vector_index']} | {r['keyword_plan']} | {fmt_ms(h['all'])} | "
                     f"{fmt_ms(h['keyword'])} | {fmt_ms(h['entity'])} | {fmt_ms(h['sentence'])} | "
                     f"{fmt_ms(r['keyword']['all'])} | {fmt_ms(r['vector']['all'])} | "
                     f"{fmt_ms(r['similar']) if 'similar' in r else 'not measured'} | {r['maxrss_mb']:.0f} | {r['load_start']} |")
        L.append("")
        filtered = {size: r for size, r in sr.items() if "filter" in r}
        if filtered:
            L += ["### A selective filter (`--speaker`, 1 % of the speeches), same queries, warm", "",
                  "Each synthetic file is one speech with a synthetic speaker (100 names in turn) and year; the "
                  "filter `Filter.parse(speaker=[…])` lets through one speaker's speeches. Unfiltered and filtered "
                  "run interleaved query by query (same process, same load); the filtered time includes the "
                  "SQL that finds the allowed passages. p50 / p95 ms; ratio = filtered p50 ÷ unfiltered p50 "
                  "(target for hybrid: ≤ 1.5).", "",
                  "| chunks | allowed passages | mode | unfiltered | filtered | ratio p50 | filtered short of k |",
                  "|---:|---:|---|---:|---:|---:|---:|"]
            for size in sorted(filtered, key=int):
                r = filtered[size]
                f = r["filter"]
                for mode in ("hybrid", "keyword", "vector"):
                    m = r[mode]
                    ratio = m["filtered"]["p50_ms"] / m["all"]["p50_ms"]
                    L.append(f"| {int(size):,} | {f['allowed']:,} ({f['share'] * 100:.1f} %) | {mode} | {fmt_ms(m['all'])} | "
                             f"{fmt_ms(m['filtered'])} | {ratio:.2f} | {m['filtered_short_of_k']} of {m['filtered']['n']} |")
            L.append("")
            for size in sorted(filtered, key=int):
                e = filtered[size]["filter"].get("vector_exactness")
                if e:
                    L.append(f"- {int(size):,} passages ({filtered[size]['vector_index']}): the filtered vector side's "
                             f"recall@10 against exact search over the allowed windows {e['recall@10']:.3f}; "
                             f"{e['short_of_k']} of {e['queries']} queries got fewer than 10 passages.")
            L.append("")
    if results.get("notes"):
        L += ["## Notes", "", *results["notes"], ""]
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000,100000", help="keyword-index sizes (chunks)")
    ap.add_argument("--vector-sizes", default="100000,1000000", help="vector counts")
    ap.add_argument("--dists", default="realmix,clustered,random", help="stand-in vector distributions")
    ap.add_argument("--hybrid-size", type=int, default=100000, help="chunks for the hybrid test (needs that keyword index)")
    ap.add_argument("--hybrid-keyword-size", type=int, default=0,
                    help="use the keyword index of this many chunks (when the --hybrid-size one was not built)")
    ap.add_argument("--parts", default="keyword,vector,searcher",
                    help="keyword, kwquery, vector, searcher (the product's query path), hybrid (older raw pipeline)")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (2000 chunks, 20k vectors)")
    ap.add_argument("--out", default="docs/bench_scale.md")
    ap.add_argument("--merge", action="store_true", help="merge with results of earlier runs in <out>.json")
    ap.add_argument("--merge-from", default="", help="comma-separated result .json files of other runs to merge in")
    ap.add_argument("--notes-file", help="markdown lines to put under '## Notes' (replaces earlier notes)")
    ap.add_argument("--workdir", default="/tmp/searchkit_bench", help="where indexes are built (kept for reuse)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3, help="timed passes over the keyword queries")
    ap.add_argument("--nq", type=int, default=200, help="vector queries for recall / IVF latency")
    ap.add_argument("--flat-nq", type=int, default=30, help="queries for exact (slow) latency")
    ap.add_argument("--nprobes", default="8,16,32,64")
    ap.add_argument("--hybrid-nprobes", default="16,32")
    ap.add_argument("--keyword-budget-min", type=float, default=40.0,
                    help="skip (and extrapolate) keyword builds expected to end past this many minutes")
    ap.add_argument("--incremental-above", type=int, default=0,
                    help="build keyword sizes above this by copying the previous size's index and adding the rest")
    ap.add_argument("--searcher-sizes", default="10000,50000,100000",
                    help="sizes for --parts searcher (each needs its keyword index in --workdir)")
    ap.add_argument("--bundled-index", default="indexes/default", help="index whose ONNX encoder encodes queries")
    ap.add_argument("--_worker", choices=["keyword", "kwquery", "vector", "hybrid", "searcher"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dist", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--base-size", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.nprobes = [int(x) for x in a.nprobes.split(",")]
    a.hybrid_nprobes = [int(x) for x in a.hybrid_nprobes.split(",")]
    if a._worker:
        return {"keyword": keyword_worker, "kwquery": kwquery_worker, "vector": vector_worker, "hybrid": hybrid_worker,
                "searcher": searcher_worker}[a._worker](a)

    if a.quick:
        a.sizes, a.vector_sizes, a.hybrid_size, a.reps, a.nq, a.flat_nq = "2000", "20000", 2000, 1, 50, 10
        a.workdir = a.workdir + "_quick"
    sizes = [int(s) for s in a.sizes.split(",") if s]
    vsizes = [int(s) for s in a.vector_sizes.split(",") if s]
    parts = set(a.parts.split(","))
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    out = Path(a.out)
    jpath = out.with_suffix(".json")
    results = json.loads(jpath.read_text()) if a.merge and jpath.exists() else {}
    results.setdefault("runs", [])
    for other in filter(None, a.merge_from.split(",")):
        o = json.loads(Path(other).read_text())
        results["runs"] += o.get("runs", [])
        for part in ("keyword", "keyword_requery", "vector", "hybrid", "searcher"):
            results.setdefault(part, {}).update(o.get(part, {}))
    results["machine"] = machine()
    if a.notes_file:
        results["notes"] = Path(a.notes_file).read_text(encoding="utf-8").splitlines()
    cmd = "python " + " ".join(shlex.quote(x) for x in sys.argv)
    run = {"cmd": cmd, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_start": load()}
    results["runs"].append(run)
    print(f"machine: {results['machine']}\nload average at start: {os.getloadavg()}\ncommand: {cmd}", flush=True)
    t_start = time.time()

    def save():
        run["load_end"] = load()
        out.parent.mkdir(parents=True, exist_ok=True)
        jpath.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        out.write_text(render(results, sys.argv), encoding="utf-8")

    common = ["--workdir", a.workdir, "--seed", str(a.seed)]
    if "keyword" in parts:
        kw = results.setdefault("keyword", {})
        prev = None
        for size in sorted(sizes):
            base = []
            if a.incremental_above and size > a.incremental_above and prev is not None and not prev.get("extrapolated"):
                base = ["--base", str(Path(a.workdir) / f"kw_{prev['size']}"), "--base-size", str(prev["size"])]
            todo = size - (prev["size"] if base else 0)
            elapsed = (time.time() - t_start) / 60
            if prev is not None and prev.get("chunks_per_s"):
                est = todo / prev["chunks_per_s"] / 60 * 1.15
                if elapsed + est > a.keyword_budget_min:
                    src = prev if not prev.get("extrapolated") else prev
                    kw[str(size)] = {"size": size, "extrapolated": True, "from": src["size"] if not src.get("extrapolated") else src["from"],
                                     "chunks_per_s": src["chunks_per_s"], "build_s": size / src["chunks_per_s"],
                                     "disk_mb": src["disk_mb"] * size / src["size"]}
                    log(f"keyword {size}: extrapolated (est {est:.0f} min, budget left {a.keyword_budget_min - elapsed:.0f})")
                    prev = kw[str(size)]
                    save()
                    continue
            r = sub(["--_worker", "keyword", "--size", str(size), "--reps", str(a.reps), *common, *base])
            kw[str(size)] = r
            prev = r
            print(f"keyword {size}: {r['chunks_per_s']} chunks/s, {r['disk_mb']} MB, query {fmt_ms(r['query'])} ms, "
                  f"peak RSS {r['maxrss_mb']} MB", flush=True)
            save()
    if "kwquery" in parts:  # re-time queries on already built indexes (no rebuild)
        for size in sorted(sizes):
            if (Path(a.workdir) / f"kw_{size}").exists():
                r = sub(["--_worker", "kwquery", "--size", str(size), "--reps", str(a.reps), *common])
                results.setdefault("keyword_requery", {})[str(size)] = r
                print(f"keyword query-only {size}: {fmt_ms(r['query'])} ms", flush=True)
                save()
    if "vector" in parts:
        vec = results.setdefault("vector", {})
        for dist in a.dists.split(","):
            for n in sorted(vsizes):
                r = sub(["--_worker", "vector", "--size", str(n), "--dist", dist, "--nq", str(a.nq),
                         "--bundled-index", a.bundled_index,
                         "--flat-nq", str(a.flat_nq), "--nprobes", ",".join(map(str, a.nprobes)), *common])
                vec[f"{dist}:{n}"] = r
                print(f"vector {dist} {n}: flat k10 t1 {fmt_ms(r['flat']['k10_t1'])} ms; ivf " +
                      ", ".join(f"np{p}: R@10={e['recall@10']:.3f} {fmt_ms(e['k10_t1'])} ms" for p, e in r["ivf"].items()),
                      flush=True)
                save()
    if "hybrid" in parts:
        kn = a.hybrid_keyword_size or a.hybrid_size
        if (Path(a.workdir) / f"kw_{kn}").exists():
            r = sub(["--_worker", "hybrid", "--size", str(a.hybrid_size), "--reps", str(a.reps),
                     "--hybrid-keyword-size", str(kn),
                     "--hybrid-nprobes", ",".join(map(str, a.hybrid_nprobes)), *common])
            results.setdefault("hybrid", {})[str(a.hybrid_size)] = r
            print(f"hybrid {a.hybrid_size}: " + ", ".join(f"{k}: {fmt_ms(v['total'])} ms" for k, v in r.items()
                                                         if isinstance(v, dict) and "total" in v), flush=True)
        else:
            log(f"hybrid: no keyword index kw_{kn} in {a.workdir}; skipped")
        save()
    if "searcher" in parts:
        for size in [int(x) for x in a.searcher_sizes.split(",") if x]:
            if not (Path(a.workdir) / f"kw_{size}").exists():
                log(f"searcher {size}: no keyword index kw_{size} in {a.workdir}; skipped")
                continue
            r = sub(["--_worker", "searcher", "--size", str(size), "--reps", str(a.reps),
                     "--bundled-index", a.bundled_index, *common])
            results.setdefault("searcher", {})[str(size)] = r
            print(f"searcher {size}: " + ", ".join(f"{m} {fmt_ms(r[m]['all'])} ms" for m in ("hybrid", "keyword", "vector")),
                  flush=True)
            save()
    save()
    print()
    print(render(results, sys.argv))
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
