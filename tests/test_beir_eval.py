"""`searchkit eval --beir`: a BEIR folder indexed and scored per document (best passage).

Expected figures are worked out by hand: one relevant document per question, so nDCG@10
is 1/log2(rank + 1), MRR@10 is 1/rank and hit@10 is 1 when the document is in the top 10.
"""
import json
import math
from pathlib import Path

import pytest

from searchkit import beir_eval
from searchkit.errors import InputError
from searchkit.models import Chunk, Hit

DOCS = {
    "d1": "关于支持展会项目的若干措施。对因疫情影响暂停举办的展会项目，给予场租补贴和宣传推广支持。",
    "d2": "关于做好农民工工资支付工作的通知。各地要按时足额发放农民工工资，坚决解决拖欠问题。",
    "d3": "关于减免中小企业房租的通知。承租国有房屋的中小企业，免收两个月房租，减半收取三个月房租。",
    "d4": "关于减免中小企业房租的通知。承租国有房屋的中小企业，免收两个月房租，减半收取三个月房租。",  # a copy of d3
}
QUERIES = {"q1": "暂停举办的展会项目有何支持政策？", "q2": "拖欠农民工工资怎么办", "q3": "中小企业房租减免"}
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d3", 1), ("q3", "d4", 1)]


def write_beir(folder: Path, qrels=QRELS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": "", "text": t}, ensure_ascii=False) + "\n" for i, t in DOCS.items()), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in QUERIES.items()), encoding="utf-8")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t{s}\n" for q, d, s in qrels), encoding="utf-8")
    return folder


def hit(source, sources=None):
    chunk = Chunk(f"{source}#0.0", source, "t", (), "text")
    return Hit(chunk, 1.0, sources=tuple(sources or (source,)))


def test_fold_takes_each_document_at_its_best_passage():
    hits = [hit("d2.txt"), hit("d1.txt"), hit("d2.txt"), hit("d3.txt", ["d3.txt", "d4.txt"])]
    assert beir_eval.fold_to_documents(hits, 10) == ["d2", "d1", "d3", "d4"]
    assert beir_eval.fold_to_documents(hits, 2) == ["d2", "d1"]


def test_scores_by_hand():
    qrels = {"a": {"x": 1}, "b": {"y": 1}, "c": {"z": 1}}
    runs = {"a": ["x", "y"], "b": ["x", "w", "y"], "c": ["x"]}  # ranks 1, 3 and missing
    s = beir_eval.score_runs(runs, qrels, 10)
    assert s["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4) + 0) / 3)
    assert s["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert s["hit@10"] == pytest.approx(2 / 3)


def test_a_query_without_results_scores_zero_not_absent():
    s = beir_eval.score_runs({"a": ["x"], "b": []}, {"a": {"x": 1}, "b": {"y": 1}}, 10)
    assert s["hit@10"] == pytest.approx(0.5)


def test_load_skips_header_and_unjudged_queries(tmp_path):
    bench = beir_eval.load_benchmark(write_beir(tmp_path / "b", QRELS[:2]))
    assert set(bench.queries) == {"q1", "q2"} and bench.qrels["q1"] == {"d1": 1}
    assert len(bench.documents) == 4


@pytest.mark.parametrize("name,content,message", [
    ("corpus.jsonl", "{not json}\n", "corpus.jsonl:1: not JSON"),
    ("corpus.jsonl", '{"_id": 3, "text": "x"}\n', 'corpus.jsonl:1: needs string fields "_id" and "text"'),
    ("qrels.tsv", "query-id\tcorpus-id\tscore\nq1 d1 1\n", "qrels.tsv:2: expected query-id<TAB>corpus-id<TAB>score"),
])
def test_bad_files_name_file_and_line(tmp_path, name, content, message):
    folder = write_beir(tmp_path / "b")
    (folder / name).write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        beir_eval.load_benchmark(folder)


def test_cli_indexes_the_corpus_and_scores_every_mode(tmp_path, run):
    folder = write_beir(tmp_path / "bench")
    index = tmp_path / "beir-index"
    result = run("eval", "--beir", str(folder), "--index", str(index), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["queries"] == 3
    assert set(report["modes"]) == {"hybrid", "keyword", "vector"}
    for mode in report["modes"].values():
        assert set(mode["overall"]) == {"ndcg@10", "mrr@10", "hit@10"}
        assert set(mode["latency_ms"]) == {"p50", "p90"}
    # Three easy questions, each sharing its words with its document only.
    assert report["modes"]["keyword"]["overall"]["hit@10"] == 1.0
    assert report["modes"]["hybrid"]["overall"]["mrr@10"] == 1.0
    assert sorted(p.name for p in Path(f"{index}-corpus").iterdir()) == ["d1.txt", "d2.txt", "d3.txt", "d4.txt"]
    again = run("eval", "--beir", str(folder), "--index", str(index), "--mode", "keyword")
    assert again.exit_code == 0 and "keyword" in again.output and "nDCG@10" in again.output


def test_cli_bad_folder_is_one_line_exit_2(tmp_path, run):
    result = run("eval", "--beir", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "is not a folder; --beir takes a folder with corpus.jsonl" in result.output
