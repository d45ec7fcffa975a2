"""`searchkit search`/`similar` forwarded to a running `searchkit serve` (server/forward.py).

A real server process (`serve` through tests/fake_embedder.py) and real CLI processes: the
forwarded output must be the in-process output (human and --json), the forwarding process
must not load the engine, a stale server file must be ignored, and an index rebuilt by
another process must be answered from the new generation."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SPEECH_A, SPEECH_B
from fake_embedder import FakeEmbedder
from searchkit.server import discovery

TESTS = Path(__file__).resolve().parent
# Runs the CLI with the fake embedder and writes to $PROBE whether the engine was imported.
PROBE = ("import atexit, os, sys\n"
         "atexit.register(lambda: open(os.environ['PROBE'], 'w').write(str('searchkit.searcher' in sys.modules)))\n"
         f"sys.path.insert(0, {str(TESTS)!r})\n"
         "import fake_embedder\n"
         "sys.argv = ['searchkit', *sys.argv[1:]]\n"
         "fake_embedder.main()\n")
PARAGRAPH = "要坚持以商招商、产业链招商，落实招商引资优惠政策，完善项目跟踪服务措施。"
LATER = """在全市优化营商环境大会上的讲话
同志们：
一、深化改革
要推行证照分离改革，压缩企业开办时间，打造一流营商环境。
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A corpus, its index and a `searchkit serve` process for it (stopped with SIGTERM at the end)."""
    base = tmp_path_factory.mktemp("forward")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    (corpus / "metadata.csv").write_text("file,speech,speaker,role,date\na.txt,,张三,市长,2023-04-12\n", encoding="utf-8")
    index = base / "index"
    env = {**os.environ, "SEARCHKIT_MODEL": FakeEmbedder.name, "SEARCHKIT_CORPUS": str(corpus),
           "SEARCHKIT_INDEX": str(index), "PYTHONPATH": str(TESTS.parent)}
    env.pop("SEARCHKIT_NO_SERVER", None)
    subprocess.run([sys.executable, str(TESTS / "fake_embedder.py"), "index"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, str(TESTS / "fake_embedder.py"), "serve", "--port", "0"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    advert = index / discovery.FILE_NAME
    deadline = time.monotonic() + 30
    while not advert.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert advert.exists(), server.stderr.read().decode() if server.poll() is not None else "no server.json"
    yield {"env": env, "index": index, "corpus": corpus, "base": base, "server": server, "advert": advert}
    server.send_signal(signal.SIGTERM)  # what `kill` sends (Ctrl-C's SIGINT is an exception inside, simpler)
    assert server.wait(20) == 128 + signal.SIGTERM
    server.stderr.close()
    assert not advert.exists(), "a clean stop removes the server file"


def cli(served, *args, **env_extra):
    """(exit code, stdout, stderr, engine imported?) of one CLI process."""
    probe = served["base"] / f"probe-{time.monotonic_ns()}"
    env = {**served["env"], "PROBE": str(probe), **env_extra}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr, probe.read_text() == "True"


def timeless(output: str) -> str:
    """The output without the query's own time (`took_ms`, `· 12 ms`), which differs per run."""
    output = re.sub(r'"took_ms": [0-9.]+', '"took_ms": 0', output)
    return re.sub(r" · [0-9]+ ms", " · 0 ms", output)


QUERIES = [
    ("search", "招商引资 措施"),
    ("search", "招商引资 措施", "--mode", "keyword", "-k", "3"),
    ("search", "项目建设", "--level", "县"),
    ("search", "无此词语"),
    ("similar", PARAGRAPH),
    ("similar", PARAGRAPH, "--mode", "vector", "-k", "2"),
]


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("query", QUERIES, ids=["search", "search-keyword-k3", "search-filter", "search-nothing",
                                                  "similar", "similar-vector-k2"])
def test_forwarded_output_is_the_in_process_output(served, query, as_json):
    args = [*query, *(["--json"] if as_json else [])]
    code, out, err, engine = cli(served, *args)
    assert code == 0 and not engine, ("forwarded without loading the engine", err)
    local_code, local_out, local_err, local_engine = cli(served, *args, "--no-server")
    assert local_code == 0 and local_engine
    assert timeless(out) == timeless(local_out) and err == local_err
    if as_json and query[0] == "search" and query[1] == "招商引资 措施":
        data = json.loads(out)
        assert data["results"][0]["speech"]["speaker"] == "张三" and "snippet" not in data["results"][0]


def test_the_opt_out_variable_answers_in_process(served):
    code, out, _err, engine = cli(served, "search", "招商引资", "-k", "1", SEARCHKIT_NO_SERVER="1")
    assert code == 0 and engine and "招商引资" in out


def test_bad_input_gets_the_in_process_error(served):
    code, _out, err, engine = cli(served, "search", "招商", "-k", "0")
    assert code == 2 and "-k must be at least 1" in err and engine  # the server refused; answered here
    code, _out, err, _engine = cli(served, "search", "招商", "--mode", "fuzzy")
    assert code == 2 and "unknown mode 'fuzzy'" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stale(served):
    """Put a stale server file in place of the live one (and the live one back afterwards)."""
    live = served["advert"].read_text(encoding="utf-8")

    def write(**changes):
        data = {**json.loads(live), **changes}
        served["advert"].write_text(json.dumps(data), encoding="utf-8")
        served["advert"].chmod(0o600)

    yield write
    served["advert"].write_text(live, encoding="utf-8")
    served["advert"].chmod(0o600)


def test_a_stale_file_falls_back_in_process(served, stale):
    expected = cli(served, "search", "招商引资 措施", "--no-server")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cases = [
        {"pid": dead.pid},  # the server was killed: its pid is gone
        {"port": _free_port(), "pid": os.getpid()},  # a live pid, but nothing listens on the port
        {"token": "not-the-servers-token"},  # someone else answers there (the server refuses it)
        {"index": str(served["base"] / "elsewhere")},  # a copied index folder: the file is not about this one
    ]
    for changes in cases:
        stale(**changes)
        code, out, err, engine = cli(served, "search", "招商引资 措施")
        assert (code, timeless(out), err, engine) == (0, timeless(expected[1]), expected[2], True), changes


def test_a_file_readable_by_others_is_ignored(served, stale):
    stale()
    assert discovery.read(_settings(served)) is not None
    served["advert"].chmod(0o644)
    assert discovery.read(_settings(served)) is None


def _settings(served):
    from searchkit.config import Settings

    return Settings(corpus_dir=served["corpus"], index_dir=served["index"], model=FakeEmbedder.name)


def test_forwarding_after_another_process_rebuilds(served):
    before = cli(served, "search", "证照分离", "--mode", "keyword", "--json")
    assert not before[3] and all(r["source"] != "c.txt" for r in json.loads(before[1])["results"])
    (served["corpus"] / "c.txt").write_text(LATER, encoding="utf-8")
    subprocess.run([sys.executable, str(TESTS / "fake_embedder.py"), "index"], env=served["env"], check=True,
                   capture_output=True)
    code, out, _err, engine = cli(served, "search", "证照分离", "--mode", "keyword", "--json")
    assert code == 0 and not engine
    assert json.loads(out)["results"][0]["source"] == "c.txt"  # the new generation answered
    local = cli(served, "search", "证照分离", "--mode", "keyword", "--json", "--no-server")
    assert timeless(out) == timeless(local[1])
