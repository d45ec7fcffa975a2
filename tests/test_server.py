"""`searchkit serve`: every endpoint through FastAPI's test client (httpx), happy paths and
bad input, the request guard, the background update, and a rebuild by another process
while requests run. Real indexes built with the fake embedder; no mocks."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from conftest import SPEECH_A
from fake_embedder import FakeEmbedder
from searchkit import store
from searchkit.searcher import Searcher
from searchkit.server.app import create_app

TESTS = Path(__file__).resolve().parent
BASE = "http://127.0.0.1:8000"
NEW_SPEECH = """在全市优化营商环境大会上的讲话
同志们：
一、深化改革
要推行证照分离改革，压缩企业开办时间，打造一流营商环境。
二、强化服务
建立企业服务专员制度，做到有求必应、无事不扰。
"""


LONG = TESTS.parent / "corpus" / "002_6c3e1b456d51acac.txt"  # one real speech of ~20 passages


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A read-only index for most tests: the two small speeches and one real speech in a
    sub-folder (neighbours, outline and nested sources need a longer speech)."""
    from conftest import SPEECH_B
    from searchkit.config import Settings
    from searchkit.indexer import build_index

    base = tmp_path_factory.mktemp("served")
    corpus = base / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    (corpus / "real" / "district.txt").write_bytes(LONG.read_bytes())
    # who gave the long speech and when (the real sidecar format): hits and the context view show it
    (corpus / "metadata.csv").write_text("file,speech,speaker,role,date\nreal/district.txt,,王五,区委书记,2022-04-15\n",
                                         encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=base / "index", model=FakeEmbedder.name)
    build_index(settings, embedder=FakeEmbedder())
    application = create_app(settings, searcher_factory=lambda s: Searcher(s, embedder=FakeEmbedder()))
    yield settings, application
    application.state.engine.close()


@pytest.fixture
def client(shared):
    return TestClient(shared[1], base_url=BASE, raise_server_exceptions=False)


@pytest.fixture
def app(built):
    """An app over a fresh small index of its own, for tests that change the corpus or index."""
    settings, _ = built
    application = create_app(settings)
    yield application
    application.state.engine.close()


@pytest.fixture
def own_client(app):
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


# -- search ---------------------------------------------------------------------------------------

def test_search_returns_the_cli_json_schema_with_highlighted_snippets(client, shared):
    settings, _ = shared
    data = client.get("/api/search", params={"q": "招商引资 措施", "k": 5}).json()
    cli = Searcher(settings, embedder=FakeEmbedder()).search("招商引资 措施", k=5).to_dict()
    assert set(cli) <= set(data) and set(cli["results"][0]) <= set(data["results"][0])
    assert [r["chunk_id"] for r in data["results"]] == [r["chunk_id"] for r in cli["results"]]
    assert data["terms"] == ["招商引资", "措施"]
    top = data["results"][0]
    assert top["rank"] == 1 and top["source"] == "a.txt"
    marked = [top["snippet"]["text"][s:e] for s, e in top["snippet"]["spans"]]
    assert "招商引资" in marked


def test_search_pages_beyond_the_first_results(client):
    whole = client.get("/api/search", params={"q": "招商引资", "k": 12, "mode": "vector"}).json()["results"]
    first = client.get("/api/search", params={"q": "招商引资", "k": 10, "mode": "vector"}).json()["results"]
    second = client.get("/api/search", params={"q": "招商引资", "k": 10, "offset": 10, "mode": "vector"}).json()
    assert len(whole) == 12 and len(second["results"]) == 10
    assert [r["chunk_id"] for r in first + second["results"]][:12] == [r["chunk_id"] for r in whole]
    assert [r["rank"] for r in second["results"]] == list(range(11, 21)) and second["offset"] == 10


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "vector"])
def test_every_mode_answers(client, mode):
    data = client.get("/api/search", params={"q": "项目建设", "mode": mode}).json()
    assert data["mode"] == mode and data["results"]


@pytest.mark.parametrize("params, expected", [
    ({"q": ""}, "query is empty"),
    ({}, "query is empty"),
    ({"q": "，。"}, "no words"),
    ({"q": "招商", "mode": "fuzzy"}, "unknown mode"),
    ({"q": "招商", "k": "0"}, "k must be at least 1"),
    ({"q": "招商", "k": "ten"}, "invalid k 'ten'"),
    ({"q": "招商", "offset": "-1"}, "offset must be between"),
    ({"q": "招商", "speeker": "林"}, "unknown parameter 'speeker'"),
    ({"q": "招商", "year": "20x9"}, "--year 20x9: use a year like 2022"),
    ({"q": "招商", "level": "州"}, "--level 州: use one of"),
])
def test_bad_search_input_is_a_400_with_one_line(client, params, expected):
    assert expected in error_of(client.get("/api/search", params=params), 400)


def test_non_utf8_query_is_refused(client):
    assert "not UTF-8" in error_of(client.get("/api/search?q=%C9%CC%D5%D0"), 400)  # 商招 in GBK


# -- similar --------------------------------------------------------------------------------------

def test_similar_finds_the_paragraph_it_was_given_without_returning_itself(client):
    text = "要坚持以商招商、产业链招商，落实招商引资优惠政策，完善项目跟踪服务措施。"
    data = client.post("/api/similar", json={"text": text, "k": 3, "mode": "hybrid"}).json()
    assert data["k"] == 3 and data["results"]
    assert all(text not in r["text"] for r in data["results"])  # its own passage is not its best match


@pytest.mark.parametrize("body, expected", [
    (b'{"text": ""}', "is empty"),
    (b'{"k": 3}', "invalid text"),
    (b'{"text": "x", "mode": "exact"}', "unknown mode"),
    (b'{"text": "x", "k": "many"}', "invalid k"),
    (b'{"text": "x", "top": 3}', "unknown field 'top'"),
    (b'{"text": "x", "year": ["2022..2019"]}', "the range runs backwards"),
    (b'["x"]', "must be a JSON object"),
    (b'{"text": ', "not JSON"),
    ('{"text": "招商"}'.encode("gbk"), "not UTF-8"),
])
def test_bad_similar_bodies_are_400(client, body, expected):
    response = client.post("/api/similar", content=body, headers={"content-type": "application/json"})
    assert expected in error_of(response, 400)


def test_oversized_bodies_are_refused_with_or_without_a_length(client):
    big = b'{"text": "' + b"a" * (9 * 1024 * 1024) + b'"}'
    assert "larger than 8 MB" in error_of(client.post("/api/similar", content=big,
                                                      headers={"content-type": "application/json"}), 413)

    def chunks():  # sent chunked: no Content-Length to refuse up front
        yield b'{"text": "'
        for _ in range(9):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    assert "larger than 8 MB" in error_of(client.post("/api/similar", content=chunks(),
                                                      headers={"content-type": "application/json"}), 413)


# -- draft review ---------------------------------------------------------------------------------

def test_paragraphs_of_pasted_text_each_get_their_matches(client):
    text = "要坚持以商招商、产业链招商。\n\n农民工的工资要按时发放，不能拖欠。"
    data = client.post("/api/similar/paragraphs", json={"text": text, "k": 2}).json()
    assert [d["paragraph"] for d in data] == ["要坚持以商招商、产业链招商。", "农民工的工资要按时发放，不能拖欠。"]
    assert all(1 <= len(d["results"]) <= 2 for d in data)
    assert data[1]["results"][0]["source"] == "b.txt"
    assert data[0]["results"][0]["snippet"]["spans"]  # highlighted like search results


def test_paragraphs_of_an_uploaded_docx_and_a_gb18030_txt(client):
    from docx import Document

    document = Document()
    document.add_paragraph("要坚持以商招商、产业链招商，落实招商引资优惠政策。")
    document.add_paragraph("")
    document.add_paragraph("农民工的工资要按时发放，不能拖欠。")
    buffer = io.BytesIO()
    document.save(buffer)
    for name, data in (("draft.docx", buffer.getvalue()),
                       ("draft.txt", "要坚持以商招商、产业链招商，落实招商引资优惠政策。\n农民工的工资要按时发放，不能拖欠。\n".encode("gb18030"))):
        response = client.post("/api/similar/paragraphs", files={"file": (name, data)}, data={"k": "1"})
        assert response.status_code == 200, response.text
        review = response.json()
        assert len(review) == 2 and all(len(d["results"]) == 1 for d in review), name
        assert review[1]["results"][0]["source"] == "b.txt"


@pytest.mark.parametrize("files, data, expected", [
    ({"file": ("draft.xlsx", b"PK")}, {}, "drafts can be .docx, .htm, .html, .markdown, .md, .pdf, .shtml, .txt, .xhtml"),
    ({"file": ("draft.docx", b"not a zip")}, {}, "could not be read as a .docx file"),
    ({"file": ("draft.txt", b"   \n\n")}, {}, "has no text"),
    ({"file": ("draft.txt", bytes(range(256)) * 40)}, {}, "not a readable text file"),
    ({"other": ("draft.txt", b"x")}, {}, "no file in the form"),
    ({"file": ("draft.txt", "招商".encode())}, {"k": "x"}, "invalid k"),
])
def test_bad_drafts_are_400(client, files, data, expected):
    message = error_of(client.post("/api/similar/paragraphs", files=files, data=data), 400)
    assert expected in message and "/tmp" not in message  # names the user's file, not a temporary copy


# -- status, speeches, facets ---------------------------------------------------------------------

def test_status_says_what_is_indexed_and_what_changed(own_client, built):
    settings, _ = built
    data = own_client.get("/api/status").json()
    assert data["ready"] and data["counts"]["files"] == 2 and data["corpus_changes"]["added"] == []
    (Path(settings.corpus_dir) / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    assert own_client.get("/api/status").json()["corpus_changes"]["added"] == ["c.txt"]


def test_without_an_index_status_says_so_and_search_is_503(tmp_path, small_corpus):
    from searchkit.config import Settings

    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "none", model=FakeEmbedder.name)
    client = TestClient(create_app(settings), base_url=BASE)
    status = client.get("/api/status").json()
    assert status["ready"] is False and "no index" in status["error"]
    assert "no index" in error_of(client.get("/api/search", params={"q": "招商"}), 503)


def test_speeches_and_facets(client):
    speeches = client.get("/api/speeches").json()
    assert speeches["count"] == 3
    assert {"在全市招商引资工作会议上的讲话", "在全县经济运行分析会上的讲话"} < {s["title"] for s in speeches["speeches"]}
    assert all(s["passages"] >= 1 and s["first_chunk_id"] for s in speeches["speeches"])
    facets = client.get("/api/facets").json()
    assert facets["filters_available"] is True
    assert [v["value"] for v in facets["facets"]["source"]] == ["a.txt", "b.txt", "real/district.txt"]
    assert sum(v["count"] for v in facets["facets"]["source"]) == facets["counts"]["passages"]
    assert {"市", "县"} <= {v["value"] for v in facets["facets"]["level"]}  # 全市… / 全县… meetings
    county = client.get("/api/speeches", params={"level": "县级"}).json()  # 县级 reads as 县
    assert county["count"] >= 1 and all(s["speech"]["level"] == "县" for s in county["speeches"])
    assert client.get("/api/facets", params={"level": "县"}).json()["facets"]["level"] == [{"value": "县", "count": county["count"]}]
    assert "--level 州" in error_of(client.get("/api/speeches", params={"level": "州"}), 400)


def test_search_filters_narrow_every_hit(client):
    data = client.get("/api/search", params={"q": "项目建设", "level": "县", "k": 5}).json()
    assert data["results"] and all(r["speech"]["level"] == "县" for r in data["results"])
    none = client.get("/api/search", params={"q": "项目建设", "speaker": "无此人"}).json()
    assert none["results"] == [] and any("no speech matches" in n for n in none["notices"])


# -- passage in context ---------------------------------------------------------------------------

def test_passage_in_context_has_neighbours_outline_and_highlights(client):
    hits = client.get("/api/search", params={"q": "招商 以商招商", "mode": "keyword"}).json()["results"]
    hit = next(h for h in hits if h["source"] == "real/district.txt")
    data = client.get(f"/api/passage/{quote(hit['chunk_id'], safe='')}", params={"q": "招商", "neighbours": 1}).json()
    assert data["passage"]["chunk_id"] == hit["chunk_id"] and data["sources"] == ["real/district.txt"]
    assert len(data["before"]) == 1 and len(data["after"]) == 1
    assert data["before"][0]["position"] < data["passage"]["position"] < data["after"][0]["position"]
    text = data["passage"]["text"]
    assert data["passage"]["highlights"] and {text[s:e] for s, e in data["passage"]["highlights"]} == {"招商"}
    assert len(data["outline"]) >= 3 and [h for h in data["outline"] if h["current"]]
    assert all(h["title"] in hit["heading"] for h in data["outline"] if h["current"])
    assert 1 <= data["index_in_speech"] <= data["passages_in_speech"]
    # who spoke when and where in the speech, as on the hit (and in the CLI)
    assert data["speech"] == hit["speech"] and (hit["speech"]["speaker"], hit["speech"]["date"]) == ("王五", "2022-04-15")
    assert data["heading"] == hit["heading"] and data["heading"]


def test_passage_errors(client):
    assert "no passage" in error_of(client.get("/api/passage/nope.txt%230.99"), 404)
    hit = client.get("/api/search", params={"q": "招商"}).json()["results"][0]
    assert "neighbours must be" in error_of(client.get(f"/api/passage/{quote(hit['chunk_id'], safe='')}",
                                                       params={"neighbours": 99}), 400)


# -- files ----------------------------------------------------------------------------------------

def test_file_download_serves_corpus_files_only(client):
    response = client.get("/api/file", params={"source": "a.txt"})
    assert response.status_code == 200 and response.text == SPEECH_A
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/api/file", params={"source": "real/district.txt"}).content == LONG.read_bytes()
    assert client.get("/api/file", params={"source": "a.txt", "download": "1"}).headers[
        "content-disposition"].startswith("attachment")
    for bad in ("../index/CURRENT", "/etc/passwd", "sub/../../x.txt", "C:/x.txt"):
        assert "outside the corpus" in error_of(client.get("/api/file", params={"source": bad}), 403)
    assert "no file 'c.txt' in the index" in error_of(client.get("/api/file", params={"source": "c.txt"}), 404)
    assert "no source given" in error_of(client.get("/api/file"), 400)


def test_a_symlink_leading_out_of_the_corpus_is_not_served(tmp_path, settings, fake_embedder):
    from searchkit.indexer import build_index

    outside = tmp_path / "secret.txt"
    outside.write_text(NEW_SPEECH, encoding="utf-8")
    os.symlink(outside, Path(settings.corpus_dir) / "linked.txt")
    build_index(settings, embedder=fake_embedder)  # the corpus walk follows symlinks: it is indexed
    client = TestClient(create_app(settings), base_url=BASE)
    assert client.get("/api/search", params={"q": "证照分离", "mode": "keyword"}).json()["results"][0]["source"] == "linked.txt"
    assert "outside the corpus folder" in error_of(client.get("/api/file", params={"source": "linked.txt"}), 403)


# -- guard ----------------------------------------------------------------------------------------

def test_cross_site_posts_and_foreign_hosts_are_refused(client):
    assert "cross-site" in error_of(client.post("/api/update", headers={"origin": "http://evil.example"}), 403)
    assert "cross-site" in error_of(client.post("/api/similar", json={"text": "招商"},
                                                headers={"sec-fetch-site": "cross-site"}), 403)
    assert "cross-site" in error_of(client.post("/api/update", headers={"origin": "null"}), 403)
    same = client.post("/api/similar", json={"text": "招商"}, headers={"origin": BASE})
    assert same.status_code == 200
    # DNS rebinding: a foreign name resolved to 127.0.0.1 reaches the server with its own Host
    assert "answers only to" in error_of(client.get("/api/status", headers={"host": "evil.example:8000"}), 421)
    assert client.get("/api/status", headers={"host": "localhost:8000"}).status_code == 200


def test_a_wildcard_bind_accepts_any_host_but_still_checks_origin(shared):
    settings, _ = shared
    client = TestClient(create_app(settings, host="0.0.0.0"), base_url="http://192.0.2.7:8000")
    assert client.get("/api/status").status_code == 200
    assert client.post("/api/update", headers={"origin": "http://evil.example"}).status_code == 403


def test_wrong_methods_and_unknown_paths_are_json(client):
    assert "GET is not accepted" in error_of(client.get("/api/update"), 405)
    assert "no such address" in error_of(client.get("/api/nothing"), 404)


def test_an_unexpected_error_is_a_500_with_one_line_and_no_traceback(shared, caplog):
    settings, _ = shared

    class Broken(Searcher):
        def search(self, *args, **kwargs):
            if args and args[0] != "预热":  # the warm-up query still works
                raise RuntimeError("boom at line 12")
            return super().search(*args, **kwargs)

    client = TestClient(create_app(settings, searcher_factory=lambda s: Broken(s, embedder=FakeEmbedder())), base_url=BASE, raise_server_exceptions=False)
    message = error_of(client.get("/api/search", params={"q": "招商"}), 500)
    assert message == "internal error (RuntimeError); the details are in the server's log"
    assert "boom at line 12" in caplog.text  # logged server-side


# -- page and OpenAPI -----------------------------------------------------------------------------

def test_page_and_its_assets_are_served_by_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        assert client.get(asset).status_code == 200
    assert "http" not in page.text.replace(BASE, "")  # nothing from another site (no CDN)
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/search", "/api/similar", "/api/similar/paragraphs", "/api/status", "/api/speeches",
                 "/api/facets", "/api/passage/{chunk_id}", "/api/file", "/api/update", "/api/update/progress"):
        assert path in paths


# -- update ---------------------------------------------------------------------------------------

def wait_update(client, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get("/api/update/progress").json()
        if state["state"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError("update did not finish")


def test_update_runs_in_the_background_and_searches_see_the_new_generation(own_client, app, built):
    settings, _ = built
    (Path(settings.corpus_dir) / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    started = own_client.post("/api/update", headers={"origin": BASE})
    assert started.status_code == 202 and started.json()["state"] == "running"
    during = own_client.get("/api/search", params={"q": "招商引资"})  # answers from the previous generation
    assert during.status_code == 200
    state = wait_update(own_client)
    assert state["state"] == "done", state
    assert state["report"]["added"] == ["c.txt"] and state["report"]["generation"] == 2
    assert {p["phase"] for p in state["phases"]} >= {"chunking", "embedding"}
    assert all(p["done"] == p["total"] for p in state["phases"])
    assert app.state.engine.serving == "gen-000002"
    hits = own_client.get("/api/search", params={"q": "证照分离", "mode": "keyword"}).json()["results"]
    assert hits and hits[0]["source"] == "c.txt"
    assert own_client.get("/api/status").json()["generation"] == 2


def test_a_second_update_while_one_runs_is_409(own_client, built):
    settings, _ = built
    with store.build_lock(settings.index_dir):  # as if `searchkit index` ran in another terminal
        own_client.post("/api/update")
        state = wait_update(own_client)
    assert state["state"] == "failed" and "is being built by process" in state["error"]
    app_updater = own_client.app.state.updater
    gate = threading.Event()
    app_updater.embedder = _SlowEmbedder(gate)
    (Path(settings.corpus_dir) / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    assert own_client.post("/api/update").status_code == 202
    assert "is being built by this server's update" in error_of(own_client.post("/api/update"), 409)
    gate.set()
    assert wait_update(own_client)["state"] == "done"


class _SlowEmbedder(FakeEmbedder):
    def __init__(self, gate: threading.Event):
        super().__init__()
        self.gate = gate

    def encode(self, texts, progress=None):
        self.gate.wait(30)
        return super().encode(texts, progress)


def test_update_progress_as_server_sent_events(own_client, built):
    settings, _ = built
    (Path(settings.corpus_dir) / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    own_client.post("/api/update")
    with own_client.stream("GET", "/api/update/progress", headers={"accept": "text/event-stream"}) as stream:
        events = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1]["state"] == "done" and events[-1]["report"]["added"] == ["c.txt"]


# -- a rebuild by another process while requests run ----------------------------------------------

def test_requests_keep_answering_while_another_process_rebuilds(own_client, app, built):
    settings, _ = built
    (Path(settings.corpus_dir) / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    statuses, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            for q, mode in (("招商引资", "hybrid"), ("营商环境", "keyword"), ("项目建设", "vector")):
                statuses.append(own_client.get("/api/search", params={"q": q, "mode": mode}).status_code)

    workers = [threading.Thread(target=load) for _ in range(3)]
    for w in workers:
        w.start()
    env = {**os.environ, "SEARCHKIT_MODEL": FakeEmbedder.name, "PYTHONPATH": str(TESTS.parent)}
    for _ in range(3):  # three generations in a row: the oldest is deleted while the server may hold it
        Path(settings.corpus_dir, "c.txt").write_text(NEW_SPEECH + f"\n补充{_}。\n", encoding="utf-8")
        subprocess.run([sys.executable, str(TESTS / "fake_embedder.py"), "index", "--corpus", str(settings.corpus_dir),
                        "--index", str(settings.index_dir)], env=env, check=True, capture_output=True)
        time.sleep(0.3)
    stop.set()
    for w in workers:
        w.join()
    assert len(statuses) > 20 and set(statuses) == {200}
    own_client.get("/api/search", params={"q": "招商"})
    deadline = time.monotonic() + 10
    while app.state.engine.serving != "gen-000004" and time.monotonic() < deadline:
        time.sleep(0.05)
        own_client.get("/api/search", params={"q": "招商"})
    assert app.state.engine.serving == "gen-000004"
    hits = own_client.get("/api/search", params={"q": "证照分离", "mode": "keyword"}).json()["results"]
    assert hits[0]["source"] == "c.txt"


# -- the CLI --------------------------------------------------------------------------------------

def test_similar_each_paragraph_on_a_docx_draft(run, tmp_path, built):
    from docx import Document

    document = Document()
    document.add_paragraph("要坚持以商招商、产业链招商，落实招商引资优惠政策。")
    document.add_paragraph("农民工的工资要按时发放，不能拖欠。")
    path = tmp_path / "draft.docx"
    document.save(path)
    result = run("similar", "--file", str(path), "--each-paragraph", "--json")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    assert [set(d) for d in review] == [{"paragraph", "results"}] * 2
    assert all(len(d["results"]) <= 3 for d in review) and review[1]["results"][0]["source"] == "b.txt"
    text = run("similar", "--file", str(path), "--each-paragraph", "-k", "1")
    assert text.exit_code == 0 and "¶2" in text.stdout and text.stdout.count("score") == 2
    bad = run("similar", "--file", str(tmp_path / "missing.docx"), "--each-paragraph")
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_serve_refuses_a_busy_port_in_one_line(run):
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        result = run("serve", "--port", str(busy.getsockname()[1]))
    finally:
        busy.close()
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.output
    assert "Traceback" not in result.output


def test_serve_warns_when_listening_beyond_this_machine(built, monkeypatch, capsys):
    from rich.console import Console

    from searchkit.server import run as server_run

    settings, _ = built
    started = []

    class Stopped:  # stands in for uvicorn's loop: the test checks what happens before it
        def run(self, sockets):
            started.append(sockets)

    monkeypatch.setattr(server_run, "server_for", lambda app, sock, log_level="info": Stopped())
    sock = server_run.listen("0.0.0.0", 0)
    try:
        server_run.serve_forever(settings, sock, "0.0.0.0", Console(stderr=True, width=300))
    finally:
        sock.close()
    err = capsys.readouterr().err
    assert "anyone who can reach this machine can read the corpus" in err and started
    assert server_run.listen("127.0.0.1", 0).close() is None
