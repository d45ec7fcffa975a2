"""Relevance on a BEIR-style benchmark (corpus.jsonl, queries.jsonl, qrels.tsv).

Each corpus document becomes one file `<_id>.txt` of a corpus folder that is indexed like
any other; each query runs through `Searcher.search`, exactly as typed on the command line.
Passages are then folded to documents: a document takes the rank of its best passage (a
passage held by several identical files ranks all of them). nDCG@10, MRR@10 and hit@10 at
document level come from ir-measures.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .config import Settings
from .errors import InputError
from .evaluation import percentiles

FOLD_DEPTH = 100  # passages read per query to find the top documents


@dataclass(frozen=True)
class Benchmark:
    path: Path
    documents: dict[str, str]  # _id -> text (title, if any, on the first line)
    queries: dict[str, str]  # _id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {document id: relevance}


def _read_jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}; a BEIR folder holds UTF-8 corpus.jsonl, "
                         "queries.jsonl and qrels.tsv") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not JSON ({error.msg}); one object a line") from None
            if not isinstance(row, dict) or not isinstance(row.get("_id"), str) or not isinstance(row.get("text"), str):
                raise InputError(f'{path}:{number}: needs string fields "_id" and "text"')
            yield number, row


def load_benchmark(folder: Path | str) -> Benchmark:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; --beir takes a folder with corpus.jsonl, queries.jsonl, qrels.tsv")
    documents = {}
    for _, row in _read_jsonl(folder / "corpus.jsonl"):
        title = (row.get("title") or "").strip()
        documents[row["_id"]] = f"{title}\n{row['text']}" if title else row["text"]
    queries = {row["_id"]: row["text"] for _, row in _read_jsonl(folder / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    path = folder / "qrels.tsv"
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    for number, line in enumerate(lines, start=1):
        cells = line.split("\t")
        if not line.strip() or (number == 1 and not cells[-1].strip().lstrip("-").isdigit()):
            continue  # blank line, or the header
        if len(cells) != 3 or not cells[2].strip().lstrip("-").isdigit():
            raise InputError(f"{path}:{number}: expected query-id<TAB>corpus-id<TAB>score")
        qid, doc, score = cells[0].strip(), cells[1].strip(), int(cells[2])
        if qid in queries and score > 0:
            qrels.setdefault(qid, {})[doc] = score
    if not documents or not qrels:
        raise InputError(f"{folder}: no documents or no judged queries found")
    return Benchmark(folder, documents, {q: t for q, t in queries.items() if q in qrels}, qrels)


def write_corpus(benchmark: Benchmark, corpus_dir: Path) -> int:
    """Write each document as `<_id>.txt`; unchanged files are left alone (their hash stays)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for doc_id, text in benchmark.documents.items():
        if "/" in doc_id or doc_id.startswith("."):
            raise InputError(f"{benchmark.path}: document id {doc_id!r} cannot be a file name")
        target = corpus_dir / f"{doc_id}.txt"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written += 1
    return written


def document_of(source: str) -> str:
    return PurePosixPath(source).stem


def fold_to_documents(hits, depth: int = 10) -> list[str]:
    """Document ids in the order of their best passage; every file of a folded hit counts."""
    seen: dict[str, None] = {}
    for hit in hits:
        for source in hit.sources or (hit.chunk.source,):
            seen.setdefault(document_of(source))
        if len(seen) >= depth:
            break
    return list(seen)[:depth]


@dataclass
class BeirReport:
    benchmark: Path
    index_dir: Path
    k: int
    modes: tuple[str, ...]
    queries: int
    scores: dict[str, dict[str, float]]  # mode -> {"ndcg@10", "mrr@10", "hit@10"}
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> p50/p90

    def to_dict(self) -> dict:
        return {"benchmark": str(self.benchmark), "index": str(self.index_dir), "k": self.k,
                "queries": self.queries,
                "modes": {m: {"overall": self.scores[m], "latency_ms": self.latency_ms.get(m, {})}
                          for m in self.modes}}


def score_runs(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int) -> dict[str, float]:
    import ir_measures
    from ir_measures import RR, Qrel, ScoredDoc, Success, nDCG

    qrel_rows = [Qrel(q, d, r) for q, docs in qrels.items() for d, r in docs.items()]
    run_rows = [ScoredDoc(q, d, float(len(docs) - i)) for q, docs in runs.items() for i, d in enumerate(docs)]
    measures = {f"ndcg@{k}": nDCG @ k, f"mrr@{k}": RR @ k, f"hit@{k}": Success @ k}
    totals = dict.fromkeys(measures, 0.0)
    by_measure = {repr(m): name for name, m in measures.items()}
    for metric in ir_measures.iter_calc(list(measures.values()), qrel_rows, run_rows):
        totals[by_measure[repr(metric.measure)]] += metric.value
    # A query with no results is absent from trec_eval's output: it scores 0.
    return {name: total / len(qrels) for name, total in totals.items()}


def evaluate_beir(settings: Settings, folder: Path | str, modes: Iterable[str], k: int = 10,
                  searcher=None, progress=None) -> BeirReport:
    """Run every judged query of a BEIR folder against the index in `settings` and score it."""
    benchmark = load_benchmark(folder)
    modes = tuple(modes)
    own = searcher is None
    if own:
        from .searcher import Searcher

        searcher = Searcher(settings)
    scores, latency = {}, {}
    try:
        for mode in modes:
            searcher.search(next(iter(benchmark.queries.values())), k=k, mode=mode)  # warm: load once, untimed
            runs, took = {}, []
            for qid, text in benchmark.queries.items():
                started = time.perf_counter()
                response = searcher.search(text, k=max(FOLD_DEPTH, k), mode=mode)
                took.append((time.perf_counter() - started) * 1000)
                runs[qid] = fold_to_documents(response.hits, k)
                if progress:
                    progress(1)
            scores[mode] = score_runs(runs, benchmark.qrels, k)
            latency[mode] = percentiles(took)
    finally:
        if own:
            searcher.close()
    return BeirReport(Path(folder), Path(settings.index_dir), k, modes, len(benchmark.queries), scores, latency)
