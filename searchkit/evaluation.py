"""Relevance evaluation against judged queries (format and scoring rules: eval/README.md).

Each judged query runs through the same code path as the command line: `Searcher.search`
for keyword, semantic and entity queries, `Searcher.similar` for paragraph queries. A
ranked list is scored by which judged passages its results *cover* (the result's text,
whitespace removed, contains the judged text, whitespace removed); the numbers themselves
come from ir-measures, fed by a thin adapter (`score_judgements`):

- nDCG: a synthetic run r1..rn (the results in rank order); result ri is a qrel with
  relevance 2**gain - 1, where gain is the best grade among the passages it covers for the
  first time. Judged passages that no result was credited with become never-retrieved
  phantom qrels with relevance 2**grade - 1, so the ideal DCG is over all judged grades.
  trec_eval's linear gain on those relevances is then the README's exponential gain.
- Recall: a passage-level run (the covered passages, ordered by the rank of the result that
  first covers them) against one binary qrel per judged passage; a result covering two
  passages counts for both.
- MRR: RR@k on the r1..rn run with binary relevance (covers any judged passage).
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .errors import InputError

KINDS = ("keyword", "semantic", "paragraph", "entity")
MODES = ("hybrid", "keyword", "vector")
DEFAULT_QRELS = Path("eval/dev.jsonl")
MAX_K = 1000


# -- judged queries ------------------------------------------------------------------------

@dataclass(frozen=True)
class Judged:
    text: str
    grade: int


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    kind: str
    query: str
    relevant: tuple[Judged, ...]
    note: str = ""
    line: int = 0

    @property
    def grades(self) -> tuple[int, ...]:
        return tuple(j.grade for j in self.relevant)


def load_qrels(path: Path | str) -> list[JudgedQuery]:
    """Read judged queries, one JSON object a line; any problem is an InputError naming file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"judged-queries file {path} does not exist; give the path to a .jsonl file "
                         f"(format in eval/README.md)") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; give the path to a judged-queries .jsonl file") from None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad_line = raw[: error.start].count(b"\n") + 1
        raise InputError(f"{path}:{bad_line}: not UTF-8 text") from None

    queries: list[JudgedQuery] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        query = _parse_line(line, f"{path}:{number}", number)
        if query.id in seen:
            raise InputError(f"{path}:{number}: duplicate id {query.id!r} (first on line {seen[query.id]})")
        seen[query.id] = number
        queries.append(query)
    if not queries:
        raise InputError(f"{path} has no judged queries")
    return queries


def _parse_line(line: str, where: str, number: int) -> JudgedQuery:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: invalid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object with id, kind, query and relevant")
    missing = [key for key in ("id", "kind", "query", "relevant") if key not in data]
    if missing:
        raise InputError(f"{where}: missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    qid, kind, query, relevant = data["id"], data["kind"], data["query"], data["relevant"]
    if not isinstance(qid, str) or not qid.strip():
        raise InputError(f"{where}: \"id\" must be a non-empty string")
    if kind not in KINDS:
        raise InputError(f"{where}: \"kind\" must be one of {', '.join(KINDS)} (got {kind!r})")
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"{where}: \"query\" must be a non-empty string")
    if not isinstance(relevant, list) or not relevant:
        raise InputError(f"{where}: \"relevant\" must be a non-empty list of {{\"text\", \"grade\"}} objects")
    judged = []
    for i, item in enumerate(relevant):
        if not isinstance(item, dict) or "text" not in item or "grade" not in item:
            raise InputError(f"{where}: relevant[{i}] must be an object with \"text\" and \"grade\"")
        passage, grade = item["text"], item["grade"]
        if not isinstance(passage, str) or not _squash(passage):
            raise InputError(f"{where}: relevant[{i}].text must be a non-empty string")
        if isinstance(grade, bool) or not isinstance(grade, int) or grade < 1:
            raise InputError(f"{where}: relevant[{i}].grade must be a whole number of at least 1 (got {grade!r})")
        judged.append(Judged(passage, grade))
    note = data.get("note", "")
    return JudgedQuery(qid, kind, query, tuple(judged), note if isinstance(note, str) else "", number)


# -- judging one ranked list (README rules) --------------------------------------------------

def _squash(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Judgement:
    """How one ranked list meets a query's judged passages."""

    covers: tuple[tuple[int, ...], ...]  # per result: indices of the judged passages it contains
    gains: tuple[int, ...]  # per result: best grade among passages it covers first, else 0
    credited: tuple[int | None, ...]  # per result: the passage whose grade is its gain
    first_rank: Mapping[int, int]  # passage index -> rank (1-based) of the first result covering it

    @property
    def results(self) -> int:
        return len(self.gains)


def judge(result_texts: Sequence[str], relevant: Sequence[Judged], k: int) -> Judgement:
    """Apply the README's coverage rules to the top k results."""
    targets = [_squash(j.text) for j in relevant]
    covers, gains, credited = [], [], []
    first_rank: dict[int, int] = {}
    for rank, text in enumerate(result_texts[:k], start=1):
        flat = _squash(text)
        covered = tuple(j for j, t in enumerate(targets) if t in flat)
        new = [j for j in covered if j not in first_rank]
        for j in new:
            first_rank[j] = rank
        best = max(new, key=lambda j: (relevant[j].grade, -j), default=None)
        covers.append(covered)
        gains.append(relevant[best].grade if best is not None else 0)
        credited.append(best)
    return Judgement(tuple(covers), tuple(gains), tuple(credited), first_rank)


# -- the ir-measures adapter -----------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    ndcg: float
    recall: float
    mrr: float

    def to_dict(self, k: int) -> dict:
        return {f"ndcg@{k}": self.ndcg, f"recall@{k}": self.recall, f"mrr@{k}": self.mrr}


def score_judgements(items: Mapping[str, tuple[Judgement, Sequence[int]]], k: int) -> dict[str, Scores]:
    """nDCG@k, Recall@k and MRR@k per query id, computed by ir-measures.

    items: query id -> (its Judgement, the grades of all its judged passages, in order).
    """
    import ir_measures
    from ir_measures import RR, Qrel, R, ScoredDoc, nDCG

    gain_qrels, binary_qrels, passage_qrels, result_run, passage_run = [], [], [], [], []
    widest = 1
    for qid, (judgement, grades) in items.items():
        n = judgement.results
        widest = max(widest, len(grades))
        result_run += [ScoredDoc(qid, f"r{rank}", float(n - rank + 1)) for rank in range(1, n + 1)]
        credited = set()
        for rank, (gain, passage) in enumerate(zip(judgement.gains, judgement.credited, strict=True), start=1):
            if gain:
                gain_qrels.append(Qrel(qid, f"r{rank}", 2 ** gain - 1))
                credited.add(passage)
            if judgement.covers[rank - 1]:
                binary_qrels.append(Qrel(qid, f"r{rank}", 1))
        for j, grade in enumerate(grades):
            if j not in credited:  # phantom: keeps the ideal DCG over every judged grade
                gain_qrels.append(Qrel(qid, f"p{j}", 2 ** grade - 1))
            passage_qrels.append(Qrel(qid, f"p{j}", 1))
        binary_qrels.append(Qrel(qid, "p-any", 1))  # never retrieved; keeps the query in the qrels
        order = sorted(judgement.first_rank.items(), key=lambda item: (item[1], item[0]))
        passage_run += [ScoredDoc(qid, f"p{j}", float(len(order) - i)) for i, (j, _) in enumerate(order)]

    values: dict[str, dict[str, float]] = {qid: {} for qid in items}

    def collect(measure, qrels, run, name):
        for metric in ir_measures.iter_calc([measure], qrels, run):
            if metric.query_id in values:
                values[metric.query_id][name] = float(metric.value)

    collect(nDCG @ k, gain_qrels, result_run, "ndcg")
    collect(RR @ k, binary_qrels, result_run, "mrr")
    # The passage run only holds passages covered by the top k results, but can be longer than
    # k (one result may cover several passages): cut it at the number of judged passages.
    collect(R @ widest, passage_qrels, passage_run, "recall")
    # A query with no results at all is absent from trec_eval's output: it scores 0.
    return {qid: Scores(v.get("ndcg", 0.0), v.get("recall", 0.0), v.get("mrr", 0.0)) for qid, v in values.items()}


# -- running an evaluation -----------------------------------------------------------------

def parse_modes(mode: str | Iterable[str]) -> tuple[str, ...]:
    names = [mode] if isinstance(mode, str) else list(mode)
    out: list[str] = []
    for name in names:
        if name == "all":
            out += MODES
        elif name in MODES:
            out.append(name)
        else:
            raise InputError(f"unknown mode {name!r}; use hybrid, keyword, vector or all")
    return tuple(dict.fromkeys(out))


@dataclass
class EvalReport:
    qrels_path: Path
    index_dir: Path
    k: int
    modes: tuple[str, ...]
    queries: list[JudgedQuery]
    scores: dict[str, dict[str, Scores]]  # mode -> query id -> scores
    seconds: dict[str, float] = field(default_factory=dict)  # mode -> wall time
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> warm p50/p90 per query

    @property
    def kinds(self) -> list[str]:
        present = {q.kind for q in self.queries}
        return [kind for kind in KINDS if kind in present]

    def mean(self, mode: str, kind: str | None = None) -> Scores:
        rows = [self.scores[mode][q.id] for q in self.queries if kind is None or q.kind == kind]
        if not rows:
            return Scores(0.0, 0.0, 0.0)
        n = len(rows)
        return Scores(sum(r.ndcg for r in rows) / n, sum(r.recall for r in rows) / n, sum(r.mrr for r in rows) / n)

    @property
    def reference_mode(self) -> str:
        """The mode whose losses --per-query lists: hybrid (the product's default) when evaluated."""
        return "hybrid" if "hybrid" in self.modes else self.modes[0]

    def per_query(self) -> list[dict]:
        """Every query, worst first: the gap between its best mode and the reference mode (nDCG),
        then the reference mode's nDCG, lowest first."""
        ref = self.reference_mode
        rows: list[dict] = []
        for q in self.queries:
            ndcg = {m: self.scores[m][q.id].ndcg for m in self.modes}
            best = max(self.modes, key=lambda m: (ndcg[m], m == ref))
            rows.append({
                "id": q.id, "kind": q.kind, "query": q.query,
                f"ndcg@{self.k}": ndcg,
                f"recall@{self.k}": {m: self.scores[m][q.id].recall for m in self.modes},
                f"mrr@{self.k}": {m: self.scores[m][q.id].mrr for m in self.modes},
                "reference_mode": ref, "best_mode": best, "gap": ndcg[best] - ndcg[ref],
            })
        rows.sort(key=lambda r: (-r["gap"], r[f"ndcg@{self.k}"][ref], r["id"]))
        return rows

    def to_dict(self, per_query: bool = False) -> dict:
        out = {
            "qrels": str(self.qrels_path), "index": str(self.index_dir), "k": self.k,
            "queries": len(self.queries),
            "kinds": {kind: sum(q.kind == kind for q in self.queries) for kind in self.kinds},
            "modes": {
                mode: {
                    "overall": self.mean(mode).to_dict(self.k),
                    "by_kind": {kind: self.mean(mode, kind).to_dict(self.k) for kind in self.kinds},
                    "seconds": round(self.seconds.get(mode, 0.0), 3),
                    "latency_ms": self.latency_ms.get(mode, {}),
                }
                for mode in self.modes
            },
        }
        if per_query:
            out["per_query"] = self.per_query()
        return out


def evaluate(settings: Settings, qrels_path: Path | str = DEFAULT_QRELS, modes: str | Iterable[str] = "all",
             k: int = 10, searcher=None, filter=None) -> EvalReport:  # noqa: A002
    """Run every judged query in every mode and score the results.

    One Searcher answers everything (it caches the indexes and the model); pass your own to
    reuse one that is already open, e.g. with a test embedder. `filter` (filters.Filter)
    narrows every query, as `searchkit eval --speaker …` does.
    """
    if k < 1 or k > MAX_K:
        raise InputError(f"-k must be between 1 and {MAX_K} (got {k})")
    modes = parse_modes(modes)
    queries = load_qrels(qrels_path)
    own = searcher is None
    if own:
        from .searcher import Searcher

        searcher = Searcher(settings)
    scores: dict[str, dict[str, Scores]] = {}
    seconds: dict[str, float] = {}
    latency: dict[str, dict[str, float]] = {}
    try:
        for mode in modes:
            if queries:  # warm: the first query of a mode loads its side; not timed per query
                _ask(searcher, queries[0], mode, k, qrels_path, filter)
            started = time.perf_counter()
            items, took = {}, []
            for q in queries:
                asked = time.perf_counter()
                texts = [hit.chunk.text for hit in _ask(searcher, q, mode, k, qrels_path, filter)]
                took.append((time.perf_counter() - asked) * 1000)
                items[q.id] = (judge(texts, q.relevant, k), q.grades)
            scores[mode] = score_judgements(items, k)
            seconds[mode] = time.perf_counter() - started
            latency[mode] = percentiles(took)
    finally:
        if own:
            searcher.close()
    return EvalReport(Path(qrels_path), Path(settings.index_dir), k, modes, queries, scores, seconds, latency)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 and p90 of per-query times in ms (nearest rank)."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))], 1)

    return {"p50": at(0.5), "p90": at(0.9)}


def _ask(searcher, q: JudgedQuery, mode: str, k: int, qrels_path, flt=None):
    narrowed = {"filter": flt} if flt is not None else {}  # a caller's own searcher may not take filters
    try:
        if q.kind == "paragraph":
            return searcher.similar(q.query, k=k, mode=mode, **narrowed).hits
        return searcher.search(q.query, k=k, mode=mode, **narrowed).hits
    except InputError as error:
        raise InputError(f"{qrels_path}:{q.line}: query {q.id}: {error}") from None


# -- people output -----------------------------------------------------------------------------

def print_report(report: EvalReport, console, per_query: bool = False, limit: int = 15) -> None:
    """Rich tables: metrics by scope (all queries, then each kind) and mode; optionally the
    queries where the reference mode loses most against the best mode."""
    from rich.markup import escape
    from rich.table import Table

    k = report.k
    table = Table(title=f"{report.qrels_path} · {len(report.queries)} queries · top {k} · index {report.index_dir}")
    table.add_column("queries")
    table.add_column("n", justify="right")
    table.add_column("mode")
    for name in (f"nDCG@{k}", f"Recall@{k}", f"MRR@{k}"):
        table.add_column(name, justify="right")
    scopes = [("all", None)] + [(kind, kind) for kind in report.kinds]
    for s, (label, kind) in enumerate(scopes):
        means = {m: report.mean(m, kind) for m in report.modes}
        best = {attr: max(getattr(v, attr) for v in means.values()) for attr in ("ndcg", "recall", "mrr")}
        n = sum(1 for q in report.queries if kind is None or q.kind == kind)
        for i, mode in enumerate(report.modes):
            cells = []
            for attr in ("ndcg", "recall", "mrr"):
                value = getattr(means[mode], attr)
                text = f"{value:.3f}"
                cells.append(f"[bold]{text}[/]" if len(report.modes) > 1 and value == best[attr] else text)
            table.add_row(label if i == 0 else "", str(n) if i == 0 else "", mode, *cells,
                          end_section=i == len(report.modes) - 1 and s < len(scopes) - 1)
    console.print(table)
    console.print("[dim]" + " · ".join(
        f"{m} {report.seconds.get(m, 0.0):.1f} s (warm p50 {report.latency_ms.get(m, {}).get('p50', 0):.0f} ms, "
        f"p90 {report.latency_ms.get(m, {}).get('p90', 0):.0f} ms)" for m in report.modes) + "[/]")
    if not per_query:
        return
    ref = report.reference_mode
    rows = report.per_query()[:limit]
    losses = Table(title=f"Queries where {ref} loses most against the best mode (nDCG@{k}; {len(rows)} of {len(report.queries)})")
    for name in ("id", "kind", "query"):
        losses.add_column(name, overflow="ellipsis", no_wrap=True, max_width=40 if name == "query" else None)
    for mode in report.modes:
        losses.add_column(mode, justify="right")
    losses.add_column("best", justify="left")
    losses.add_column("gap", justify="right")
    for row in rows:
        ndcg = row[f"ndcg@{k}"]
        query = row["query"] if len(row["query"]) <= 18 else row["query"][:17] + "…"
        losses.add_row(row["id"], row["kind"], escape(query), *(f"{ndcg[m]:.3f}" for m in report.modes),
                       row["best_mode"], f"{row['gap']:.3f}")
    console.print(losses)
