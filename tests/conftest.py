"""Shared fixtures: the fake embedder registered by name, a tiny corpus, a built index."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from searchkit.config import Settings

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CORPUS = ROOT / "corpus"


from fake_embedder import BrokenEmbedder, FakeEmbedder  # noqa: E402  (tests/ is on sys.path under pytest)

SPEECH_A = """在全市招商引资工作会议上的讲话
同志们：
今天召开会议，主要是总结去年招商引资工作，部署今年任务。
一、充分肯定招商引资取得的成绩
去年全市新签约项目一百二十个，到位资金大幅增长，招商引资工作取得明显成效。
二、精准施策，强化招商引资措施
（一）创新招商方式。要坚持以商招商、产业链招商，落实招商引资优惠政策，完善项目跟踪服务措施。
（二）优化营商环境。深化放管服改革，推行一企一策，让企业办事更便利。
三、加强组织领导
各级各部门要压实责任，确保各项任务落到实处。
"""

SPEECH_B = """在全县经济运行分析会上的讲话
同志们：
一、上半年经济运行总体平稳
上半年全县地区生产总值增长百分之六，实现“双过半”目标，固定资产投资稳步增长。
二、下半年重点工作
一是抓好项目建设。重点项目要加快进度，确保早日投产达效。
二是抓好安全生产。要全面排查隐患，坚决遏制重大事故发生。
三是抓好民生保障。按时足额发放农民工工资，解决拖欠问题。
"""


@pytest.fixture(autouse=True)
def _register_fake_embedder(monkeypatch):
    """SEARCHKIT_MODEL=fake-bigram-64 (and fake-broken) work in every test, through the
    same public registry a plug-in would use; nothing else of the user's environment leaks in."""
    from searchkit import embedding

    for fake in (FakeEmbedder, BrokenEmbedder):
        embedding.register_embedder(fake.name, fake)
    for name in ("SEARCHKIT_INDEX", "SEARCHKIT_CORPUS", "SEARCHKIT_MODEL", "SEARCHKIT_PRECISION",
                 "SEARCHKIT_KEYWORD_PLAN", "SEARCHKIT_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    yield
    for fake in (FakeEmbedder, BrokenEmbedder):
        embedding.unregister_embedder(fake.name)


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory):
    """One milvus-lite database for the whole session (started once); each index names its
    own collections, so tests never see each other's. With SEARCHKIT_MILVUS_URI pointing at
    a Milvus server (http://…) every Milvus test runs against that server instead, and the
    `milvus_server` tests (server-only behaviour) run too."""
    given = os.environ.get("SEARCHKIT_MILVUS_URI", "")
    if given.startswith(("http://", "https://", "tcp://")):
        yield given
        return
    yield str(tmp_path_factory.mktemp("milvus") / "tests.db")
    if "searchkit.milvus_backend" in sys.modules:
        sys.modules["searchkit.milvus_backend"].close_all()


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    return corpus


@pytest.fixture
def settings(tmp_path, small_corpus) -> Settings:
    return Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", model=FakeEmbedder.name)


@pytest.fixture
def built(settings, fake_embedder):
    from searchkit.indexer import build_index

    report = build_index(settings, embedder=fake_embedder)
    return settings, report


@pytest.fixture
def run(settings):
    """The CLI on the `settings` corpus and index, with the fake embedder: run("search", "…")."""
    from typer.testing import CliRunner

    from searchkit.cli import app

    runner = CliRunner()
    base_env = {"SEARCHKIT_CORPUS": str(settings.corpus_dir), "SEARCHKIT_INDEX": str(settings.index_dir),
                "SEARCHKIT_MODEL": settings.model, "SEARCHKIT_DEBUG": None,
                "SEARCHKIT_BACKEND": settings.backend or None}

    def invoke(*args, input=None, env=None):
        return runner.invoke(app, list(args), env={**base_env, **(env or {})}, input=input)

    return invoke


def cli_error(result, exit_code: int, *fragments: str) -> str:
    """Assert that a CliRunner result is a handled error: the exact exit code, exactly one
    line on stderr that starts with `error:` and holds every fragment, and no exception
    escaping the CLI (CliRunner keeps an escaped one in result.exception, not in the output)."""
    assert isinstance(result.exception, SystemExit), f"not a handled error: {result.exception!r}"
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
