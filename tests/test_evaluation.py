"""Relevance evaluation: the README's scoring rules via ir-measures, the qrels reader, the CLI.

Expected numbers are worked out by hand from the README's formulas, never with the adapter:
DCG = sum over ranks i of (2**gain - 1) / log2(i + 1).
"""
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from searchkit.cli import app
from searchkit.errors import InputError
from searchkit.evaluation import (EvalReport, Judged, evaluate, judge, load_qrels, parse_modes,
                                  score_judgements)

ROOT = Path(__file__).resolve().parent.parent

A, B, C = "招商引资优惠政策", "项目跟踪服务措施", "推行一企一策"
OTHER = "确保各项任务落到实处。"


def d(i: int) -> float:
    """The discount at rank i."""
    return 1 / math.log2(i + 1)


def score(results, relevant, k=10):
    judged = [Judged(text, grade) for text, grade in relevant]
    return score_judgements({"q": (judge(results, judged, k), [j.grade for j in judged])}, k)["q"]


# -- the adapter ---------------------------------------------------------------------------

def test_perfect_ranking():
    s = score([f"落实{A}。", f"完善{B}。"], [(A, 2), (B, 1)])
    assert s.ndcg == pytest.approx(1.0)
    assert s.recall == pytest.approx(1.0) and s.mrr == pytest.approx(1.0)


def test_grade_two_before_grade_one_scores_higher():
    right = score([A, B], [(A, 2), (B, 1)])
    wrong = score([B, A], [(A, 2), (B, 1)])
    ideal = 3 * d(1) + 1 * d(2)
    assert right.ndcg == pytest.approx(1.0)
    assert wrong.ndcg == pytest.approx((1 * d(1) + 3 * d(2)) / ideal)  # about 0.797
    assert wrong.recall == pytest.approx(1.0) and wrong.mrr == pytest.approx(1.0)


def test_duplicate_result_earns_nothing():
    s = score([f"一、{A}", f"二、{A}（重复）", B], [(A, 2), (B, 2)])
    assert s.ndcg == pytest.approx((3 * d(1) + 0 * d(2) + 3 * d(3)) / (3 * d(1) + 3 * d(2)))
    assert s.recall == pytest.approx(1.0) and s.mrr == pytest.approx(1.0)


def test_result_covering_two_passages():
    # rank 1 misses, rank 2 covers A (2) and B (1) at once: gain 2, B earns nothing but counts for recall
    s = score([OTHER, A + "，" + B, C], [(A, 2), (B, 1), (C, 2)])
    assert s.ndcg == pytest.approx((3 * d(2) + 3 * d(3)) / (3 * d(1) + 3 * d(2) + 1 * d(3)))
    assert s.recall == pytest.approx(3 / 3)
    assert s.mrr == pytest.approx(1 / 2)


def test_one_result_covering_more_passages_than_k_still_counts_each():
    s = score([A + B + C, OTHER], [(A, 1), (B, 1), (C, 1), ("没有出现的句子", 1)], k=1)
    assert s.recall == pytest.approx(3 / 4)
    assert s.ndcg == pytest.approx((1 * d(1)) / (1 * d(1)))  # the ideal list is cut at k = 1 too
    assert s.mrr == pytest.approx(1.0)


def test_later_result_gains_only_from_passages_new_to_it():
    # rank 1 covers B (1); rank 2 covers B again and A (2) for the first time: gain 2
    s = score([B, B + A], [(A, 2), (B, 1)])
    assert s.ndcg == pytest.approx((1 * d(1) + 3 * d(2)) / (3 * d(1) + 1 * d(2)))


def test_no_hits_and_no_coverage_score_zero():
    empty = score([], [(A, 2)])
    assert (empty.ndcg, empty.recall, empty.mrr) == (0.0, 0.0, 0.0)
    misses = score([OTHER, OTHER], [(A, 2)])
    assert (misses.ndcg, misses.recall, misses.mrr) == (0.0, 0.0, 0.0)


def test_whitespace_is_ignored_on_both_sides():
    s = score(["招商 引资\n优惠　政策"], [("招商引资 优惠政策", 2)])
    assert s.ndcg == pytest.approx(1.0) and s.recall == 1.0


def test_only_top_k_counts():
    results = [OTHER] * 10 + [A]
    s = score(results, [(A, 2)], k=10)
    assert (s.ndcg, s.recall, s.mrr) == (0.0, 0.0, 0.0)
    s = score(results, [(A, 2)], k=11)
    assert s.ndcg == pytest.approx(3 * d(11) / (3 * d(1))) and s.mrr == pytest.approx(1 / 11)


def test_ideal_uses_at_most_k_judged_grades():
    relevant = [(f"第{i}句判定文字", 1) for i in range(12)] + [("最高等级的一句", 2)]
    s = score(["第0句判定文字"], relevant)
    ideal = 3 * d(1) + sum(1 * d(i) for i in range(2, 11))  # grades sorted: one 2, then nine 1s
    assert s.ndcg == pytest.approx(1 * d(1) / ideal)
    assert s.recall == pytest.approx(1 / 13)


def test_queries_are_scored_independently():
    judged = [Judged(A, 2)]
    out = score_judgements({"hit": (judge([A], judged, 10), [2]), "miss": (judge([], judged, 10), [2])}, 10)
    assert out["hit"].ndcg == pytest.approx(1.0) and out["miss"].ndcg == 0.0


# -- reading judged queries ---------------------------------------------------------------------

def write(tmp_path, rows, name="q.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


GOOD = {"id": "q1", "kind": "keyword", "query": "招商引资", "relevant": [{"text": A, "grade": 2}]}


def test_reads_the_shipped_dev_set():
    queries = load_qrels(ROOT / "eval" / "dev.jsonl")
    assert len(queries) == 40 and {q.kind for q in queries} == {"keyword", "semantic", "paragraph", "entity"}


@pytest.mark.parametrize("line, expected", [
    ("{not json", ":2: invalid JSON"),
    (json.dumps({"id": "q2", "kind": "keyword", "query": "x"}), ":2: missing field relevant"),
    (json.dumps({**GOOD, "id": "q2", "kind": "fuzzy"}), ":2: \"kind\" must be one of"),
    (json.dumps({**GOOD, "id": "q2", "relevant": []}), ":2: \"relevant\" must be"),
    (json.dumps({**GOOD, "id": "q2", "relevant": [{"text": A, "grade": 0}]}), ":2: relevant[0].grade"),
    (json.dumps({**GOOD, "id": "q2", "relevant": [{"text": "  "}]}), ":2: relevant[0] must be"),
    (json.dumps(GOOD), ":2: duplicate id 'q1'"),
    ("[1, 2]", ":2: expected a JSON object"),
])
def test_bad_qrels_name_file_and_line(tmp_path, line, expected):
    path = write(tmp_path, [GOOD, line])
    with pytest.raises(InputError) as error:
        load_qrels(path)
    message = str(error.value)
    assert message.startswith(f"{path}:2:") and expected in message and "\n" not in message


def test_missing_qrels_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_qrels(tmp_path / "none.jsonl")


def test_modes():
    assert parse_modes("all") == ("hybrid", "keyword", "vector")
    assert parse_modes("keyword") == ("keyword",)
    with pytest.raises(InputError):
        parse_modes("fuzzy")


# -- end to end on the small corpus ------------------------------------------------------------

QRELS = [
    {"id": "k1", "kind": "keyword", "query": "招商引资 措施",
     "relevant": [{"text": "落实招商引资优惠政策", "grade": 2}, {"text": "新签约项目一百二十个", "grade": 1}]},
    {"id": "k2", "kind": "entity", "query": "双过半", "relevant": [{"text": "实现“双过半”目标", "grade": 2}]},
    {"id": "s1", "kind": "semantic", "query": "怎样让企业办事更方便",
     "relevant": [{"text": "让企业办事更便利", "grade": 2}]},
    {"id": "p1", "kind": "paragraph", "query": "要切实保障农民工的合法权益，按时足额发放工资，坚决解决拖欠问题，不让农民工流汗又流泪。",
     "relevant": [{"text": "按时足额发放农民工工资", "grade": 2}]},
]


@pytest.fixture
def qrels_file(tmp_path):
    return write(tmp_path, QRELS, "dev.jsonl")


class CountingSearcher:
    """Wraps a real Searcher and records which entry point each query took."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def search(self, query, k=10, mode="hybrid"):
        self.calls.append(("search", query[:4], mode))
        return self.inner.search(query, k=k, mode=mode)

    def similar(self, text, k=10, mode="hybrid"):
        self.calls.append(("similar", text[:4], mode))
        return self.inner.similar(text, k=k, mode=mode)


def test_evaluate_end_to_end(built, qrels_file, fake_embedder):
    from searchkit.searcher import Searcher

    settings, _ = built
    searcher = CountingSearcher(Searcher(settings, embedder=fake_embedder))
    report = evaluate(settings, qrels_file, modes="all", k=10, searcher=searcher)
    assert isinstance(report, EvalReport)
    # each mode: one untimed warm-up query (the first judged one), then every query once, timed
    assert len(searcher.calls) == 3 * (len(QRELS) + 1)
    assert [c[0] for c in searcher.calls if c[1] == "要切实保"] == ["similar"] * 3
    assert all(set(m["latency_ms"]) == {"p50", "p90"} for m in report.to_dict()["modes"].values())
    assert {c[2] for c in searcher.calls} == {"hybrid", "keyword", "vector"}

    data = report.to_dict(per_query=True)
    assert data["queries"] == 4 and data["k"] == 10
    assert set(data["modes"]) == {"hybrid", "keyword", "vector"}
    for mode in data["modes"].values():
        assert set(mode["overall"]) == {"ndcg@10", "recall@10", "mrr@10"}
        assert set(mode["by_kind"]) == {"keyword", "semantic", "paragraph", "entity"}
        assert all(0.0 <= v <= 1.0 for kind in mode["by_kind"].values() for v in kind.values())
    # The tiny corpus answers the keyword and the quoted-entity queries perfectly by keyword
    keyword = report.scores["keyword"]
    assert keyword["k2"].ndcg == pytest.approx(1.0) and keyword["k1"].recall == pytest.approx(1.0)
    assert data["modes"]["keyword"]["by_kind"]["entity"]["mrr@10"] == pytest.approx(1.0)
    overall = data["modes"]["hybrid"]["overall"]["ndcg@10"]
    assert overall == pytest.approx(sum(report.scores["hybrid"][q].ndcg for q in ("k1", "k2", "s1", "p1")) / 4)

    rows = data["per_query"]
    assert [r["id"] for r in rows] and {r["id"] for r in rows} == {"k1", "k2", "s1", "p1"}
    assert {"id", "kind", "query", "ndcg@10", "gap", "best_mode"} <= set(rows[0])
    gaps = [r["gap"] for r in rows]
    assert gaps == sorted(gaps, reverse=True) and all(g >= 0 for g in gaps)
    assert all(r["gap"] == pytest.approx(max(r["ndcg@10"].values()) - r["ndcg@10"]["hybrid"]) for r in rows)


def test_evaluate_opens_its_own_searcher(built, qrels_file):
    settings, _ = built
    report = evaluate(settings, qrels_file, modes="keyword", k=5)
    assert report.modes == ("keyword",)
    assert set(report.to_dict()["modes"]["keyword"]["overall"]) == {"ndcg@5", "recall@5", "mrr@5"}


# -- the command line ------------------------------------------------------------------------

@pytest.fixture
def run(settings):
    runner = CliRunner()
    env = {"SEARCHKIT_CORPUS": str(settings.corpus_dir), "SEARCHKIT_INDEX": str(settings.index_dir),
           "SEARCHKIT_MODEL": settings.model}

    def invoke(*args):
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_cli_eval_json(run, qrels_file):
    assert run("index").exit_code == 0
    result = run("eval", str(qrels_file), "--json", "--per-query")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["queries"] == 4 and set(data["modes"]) == {"hybrid", "keyword", "vector"}
    hybrid = data["modes"]["hybrid"]
    assert set(hybrid["overall"]) == {"ndcg@10", "recall@10", "mrr@10"}
    assert set(hybrid["by_kind"]) == {"keyword", "semantic", "paragraph", "entity"}
    assert len(data["per_query"]) == 4


def test_cli_eval_table_and_mode(run, qrels_file):
    run("index")
    result = run("eval", str(qrels_file), "--mode", "keyword", "--per-query")
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.stdout and "keyword" in result.stdout and "k2" in result.stdout
    assert "vector" not in result.stdout


def test_cli_eval_errors(run, tmp_path, qrels_file, monkeypatch):
    from conftest import cli_error

    run("index")
    monkeypatch.chdir(tmp_path)  # no eval/dev.jsonl here
    cli_error(run("eval"), 2, "eval/dev.jsonl does not exist")
    bad = write(tmp_path, [GOOD, "{oops"], "bad.jsonl")
    cli_error(run("eval", str(bad)), 2, f"{bad}:2: invalid JSON")
    cli_error(run("eval", str(qrels_file), "--mode", "fuzzy"), 2, "unknown mode")
    cli_error(run("eval", str(qrels_file), "-k", "0"), 2, "-k must be between 1 and 1000 (got 0)")
    cli_error(run("eval", str(qrels_file), "--index", str(tmp_path / "none")), 1, "no index")
