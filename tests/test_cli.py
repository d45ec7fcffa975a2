"""The command line contract: exit codes, one-line errors, JSON shapes."""
import json
from pathlib import Path

import click
import pytest
from conftest import cli_error

from searchkit.config import Settings


@pytest.fixture(params=["embedded", "milvus"])
def settings(request, tmp_path, small_corpus, milvus_uri, monkeypatch) -> Settings:
    """Every CLI test runs on both storage backends (Milvus: the session's milvus-lite)."""
    from fake_embedder import FakeEmbedder

    monkeypatch.setenv("SEARCHKIT_MILVUS_URI", milvus_uri)
    return Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", model=FakeEmbedder.name,
                    backend=request.param)


RESULT_KEYS = {"rank", "score", "chunk_id", "source", "title", "heading", "text", "keyword_rank", "vector_rank",
               "keyword_score", "vector_score", "sources"}


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


def test_people_output_shows_rank_title_heading_sources_sides_and_highlights(run):
    import re

    run("index")
    result = run("search", "招商引资 措施", "-k", "2")
    assert result.exit_code == 0
    data = json.loads(run("search", "招商引资 措施", "-k", "2", "--json").stdout)["results"]
    lines = result.stdout.splitlines()
    first = data[0]
    assert lines[0] == f" 1. {first['title']}"
    assert lines[1] == "    " + (" › ".join(first["heading"]) or "（开头）")
    sides = ", ".join(f"{side} #{first[side + '_rank']}" for side in ("keyword", "vector") if first[side + "_rank"])
    assert re.fullmatch(rf"    {re.escape(', '.join(first['sources']))} · score [0-9.]+ · {re.escape(sides)}", lines[2])
    assert lines[3].startswith("    ") and "招商引资" in lines[3]
    assert lines[-1].startswith("2 passages · hybrid · ")
    colored = run("search", "招商引资 措施", "-k", "1", env={"FORCE_COLOR": "1", "TERM": "xterm"}).stdout
    assert re.search(r"\x1b\[[0-9;]*m招商引资\x1b\[0m", colored)  # the query's words are highlighted


def test_full_width_quotes_mark_a_phrase(run):
    run("index")
    data = json.loads(run("search", "“双过半”", "--mode", "keyword", "--json").stdout)
    assert data["results"] and all("双过半" in r["text"] for r in data["results"])


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
    from_stdin = run("similar", "--json", input=text)
    assert from_stdin.exit_code == 0
    path = tmp_path / "p.txt"
    path.write_text(text, encoding="utf-8")
    from_file = run("similar", "--file", str(path), "--json")
    assert from_file.exit_code == 0
    hits = [r["chunk_id"] for r in json.loads(from_file.stdout)["results"]]
    assert hits and hits == [r["chunk_id"] for r in json.loads(from_stdin.stdout)["results"]]


def test_similar_leaves_out_the_paragraph_s_own_passage(run, settings):
    from searchkit.searcher import Searcher

    run("index")
    own = next(h.chunk for h in Searcher(settings).search('"双过半"', mode="keyword").hits)
    data = json.loads(run("similar", own.text, "--json").stdout)
    assert data["results"] and own.chunk_id not in [r["chunk_id"] for r in data["results"]]


def test_near_identical_passages_fold_into_one_hit_with_both_sources(run, settings):
    text = (settings.corpus_dir / "b.txt").read_text(encoding="utf-8")
    (settings.corpus_dir / "b-draft.txt").write_text(text.replace("稳步增长", "稳定增长"), encoding="utf-8")
    run("index")
    data = json.loads(run("search", '"双过半"', "--mode", "keyword", "--json").stdout)["results"]
    assert len(data) == 1 and sorted(data[0]["sources"]) == ["b-draft.txt", "b.txt"]


def test_status_reports_corpus_changes_and_verify(run, settings):
    run("index")
    (settings.corpus_dir / "c.txt").write_text("关于夜间经济\n一、发展夜间经济\n繁荣夜市。\n", encoding="utf-8")
    (settings.corpus_dir / "b.txt").write_text("关于安全生产\n一、排查隐患\n坚决遏制重大事故。\n", encoding="utf-8")
    (settings.corpus_dir / "a.txt").unlink()
    data = json.loads(run("status", "--json").stdout)
    assert data["corpus_changes"] == {"added": ["c.txt"], "changed": ["b.txt"], "removed": ["a.txt"]}
    people = run("status", "--verify")
    assert people.exit_code == 0
    assert "changed since the build: 1 added, 1 changed, 1 removed; run `searchkit index`" in people.stdout
    assert "Files    all checksums match" in people.stdout


def test_status(run):
    run("index")
    result = run("status", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["counts"]["files"] == 2 and data["corpus_changes"] == {"added": [], "changed": [], "removed": []}
    assert data["keyword_plan"] == "full"  # a small index


@pytest.mark.parametrize("args, message", [
    (["search", ""], "the query is empty"),
    (["search", "   "], "the query is empty"),
    (["search", "招商", "-k", "0"], "-k must be at least 1 (got 0)"),
    (["search", "招商", "-k", "-3"], "-k must be at least 1 (got -3)"),
    (["search", "招商", "--mode", "fuzzy"], "unknown mode 'fuzzy'; use one of: hybrid, keyword, vector"),
    (["similar", ""], "the pasted paragraph is empty"),
    (["similar", "--file", "/nonexistent/x.txt"], "file /nonexistent/x.txt does not exist; check the path given to --file"),
])
def test_bad_arguments_give_one_line_and_exit_2(run, args, message):
    run("index")
    cli_error(run(*args), 2, message)


def test_missing_index_and_corpus_exit_1(run, settings, tmp_path):
    cli_error(run("search", "招商引资", "--index", str(tmp_path / "none")), 1,
              f"no index at {tmp_path / 'none'}; run `searchkit index` to build it")
    cli_error(run("index", "--corpus", str(tmp_path / "nothing")), 1,
              f"corpus folder {tmp_path / 'nothing'} does not exist; create it or pass --corpus DIR")


def test_a_bug_has_its_own_exit_code_and_points_at_searchkit_debug(run, monkeypatch):
    # The "fake-broken" embedder (conftest) fails the way a bug would: a plain RuntimeError.
    cli_error(run("index", env={"SEARCHKIT_MODEL": "fake-broken"}), 3,
              "unexpected RuntimeError: model exploded", "SEARCHKIT_DEBUG=1")
    debug = run("index", env={"SEARCHKIT_MODEL": "fake-broken", "SEARCHKIT_DEBUG": "1"})
    assert isinstance(debug.exception, RuntimeError) and str(debug.exception) == "model exploded"


def test_a_locked_index_is_exit_1_naming_the_holder(run, settings):
    from searchkit import store

    run("index")
    with store.build_lock(settings.index_dir):
        cli_error(run("index"), 1, f"the index at {settings.index_dir} is being built by process ",
                  "wait for it to finish and try again")


def test_huge_k_is_capped_with_a_notice(run):
    run("index")
    result = run("search", "招商", "-k", "100000", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["k"] == 1000
    assert result.stderr.splitlines() == ["note: -k 100000 is more than 1000; showing the top 1000"]


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
    cli_error(run("search", "招商引资"), 2, "unknown keyword plan 'fastest' (SEARCHKIT_KEYWORD_PLAN)")


def test_every_command_has_help_text_and_is_in_the_readme(run):
    import typer.main

    from searchkit.cli import app

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    commands = typer.main.get_command(app).commands
    assert {"index", "search", "similar", "status", "chunks", "eval"} <= set(commands)
    for name, command in commands.items():
        assert command.help and command.help.strip(), f"{name} has no help text"
        assert f"searchkit {name}" in readme, f"README does not show `searchkit {name}`"
        result = run(name, "--help")
        assert result.exit_code == 0 and command.help.split("\n")[0].split()[0] in result.stdout
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts[0]} has no help text"
