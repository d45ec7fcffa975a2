"""The command line contract: exit codes, one-line errors, JSON shapes."""
import json

import pytest


RESULT_KEYS = {"rank", "score", "chunk_id", "source", "title", "heading", "text", "keyword_rank", "vector_rank"}


def one_line_error(result):
    out = result.stderr.strip() if result.stderr else result.output.strip()
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len(out.splitlines()) == 1, out
    return out


def test_index_search_json_shape(run):
    assert run("index").exit_code == 0
    result = run("search", "招商引资 措施", "--json", "-k", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"query", "mode", "k", "took_ms", "results"}
    assert data["mode"] == "hybrid" and data["k"] == 3 and data["query"] == "招商引资 措施"
    assert data["results"] and RESULT_KEYS <= set(data["results"][0])
    assert [r["rank"] for r in data["results"]] == list(range(1, len(data["results"]) + 1))
    assert isinstance(data["results"][0]["heading"], list)


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
def test_every_mode_answers(run, mode):
    run("index")
    result = run("search", "招商引资", "--mode", mode, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == mode and data["results"]


def test_quoted_phrase_returns_only_passages_containing_it(run):
    run("index")
    data = json.loads(run("search", '"双过半"', "--mode", "keyword", "--json").stdout)
    assert data["results"] and all("双过半" in r["text"] for r in data["results"])


def test_people_output_shows_title_and_heading(run):
    run("index")
    result = run("search", "招商引资 措施")
    assert result.exit_code == 0
    assert "招商引资" in result.stdout and "讲话" in result.stdout


def test_index_reports_what_it_did(run, settings):
    first = run("index")
    assert "2 added" in first.stdout
    (settings.corpus_dir / "c.txt").write_text("关于夜间经济\n一、发展夜间经济\n繁荣夜市。\n", encoding="utf-8")
    second = run("index")
    assert "1 added" in second.stdout and "2 unchanged" in second.stdout and "embedded" in second.stdout
    assert "up to date" in run("index").stdout


def test_similar_reads_stdin_and_file(run, tmp_path):
    run("index")
    text = "按时足额发放农民工工资，解决拖欠问题"
    assert run("similar", "--json", input=text).exit_code == 0
    path = tmp_path / "p.txt"
    path.write_text(text, encoding="utf-8")
    result = run("similar", "--file", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["results"] is not None


def test_status(run):
    run("index")
    result = run("status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["counts"]["files"] == 2 and data["corpus_changes"] == {"added": [], "changed": [], "removed": []}
    assert data["keyword_plan"] == "full"  # a small index


@pytest.mark.parametrize("args", [
    ["search", ""], ["search", "   "], ["search", "招商", "-k", "0"], ["search", "招商", "-k", "-3"],
    ["search", "招商", "--mode", "fuzzy"], ["similar", ""], ["similar", "--file", "/nonexistent/x.txt"],
])
def test_bad_arguments_give_one_line(run, args):
    run("index")
    one_line_error(run(*args))


def test_missing_index_and_corpus(run, settings, tmp_path):
    out = one_line_error(run("search", "招商引资", "--index", str(tmp_path / "none")))
    assert "no index" in out and "searchkit index" in out
    out = one_line_error(run("index", "--corpus", str(tmp_path / "nothing")))
    assert "does not exist" in out


def test_huge_k_is_capped(run):
    run("index")
    result = run("search", "招商", "-k", "100000", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["k"] == 1000


def test_chunks_command(run, settings):
    result = run("chunks", str(settings.corpus_dir / "a.txt"), "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {"chunk_id", "source", "title", "heading", "text"} <= set(rows[0])
    assert run("chunks", str(settings.corpus_dir)).exit_code == 0


def test_keyword_plan_from_the_environment(run, monkeypatch):
    run("index")
    monkeypatch.setenv("SEARCHKIT_KEYWORD_PLAN", "lean")
    result = run("search", "招商引资 措施", "--mode", "keyword", "--json")
    assert result.exit_code == 0 and "招商引资" in json.loads(result.stdout)["results"][0]["text"]
    monkeypatch.setenv("SEARCHKIT_KEYWORD_PLAN", "fastest")
    assert "SEARCHKIT_KEYWORD_PLAN" in one_line_error(run("search", "招商引资"))
