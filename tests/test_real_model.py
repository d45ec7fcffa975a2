"""End to end with the real m3e-small model (slow: loads sentence-transformers, exports ONNX)."""
import json

import pytest
from typer.testing import CliRunner

from searchkit.cli import app

from conftest import SPEECH_A, SPEECH_B

pytestmark = pytest.mark.model


def test_build_search_similar_and_update_with_the_real_model(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    env = {"SEARCHKIT_CORPUS": str(corpus), "SEARCHKIT_INDEX": str(tmp_path / "index"), "SEARCHKIT_MODEL": "m3e-small"}
    runner = CliRunner()
    built = runner.invoke(app, ["index", "--json"], env=env)
    assert built.exit_code == 0, built.output
    status = json.loads(runner.invoke(app, ["status", "--json"], env=env).stdout)
    assert status["model"]["name"] == "m3e-small" and status["model"]["dimension"] == 512
    assert status["query_encoder"]  # the ONNX copy was exported

    # A paraphrase with no shared key word still finds the wage-arrears passage by meaning.
    result = runner.invoke(app, ["search", "工人的报酬被拖着不给怎么办", "--mode", "vector", "--json", "-k", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "农民工工资" in json.loads(result.stdout)["results"][0]["text"]

    paragraph = "要坚持以商招商、产业链招商，落实招商引资优惠政策，完善项目跟踪服务措施。"
    similar = json.loads(runner.invoke(app, ["similar", paragraph, "--json"], env=env).stdout)
    assert all(paragraph not in r["text"] for r in similar["results"])  # not itself

    (corpus / "c.txt").write_text("关于夜间经济的讲话\n一、大力发展夜间经济\n繁荣夜市消费，打造特色步行街区。\n", encoding="utf-8")
    update = json.loads(runner.invoke(app, ["index", "--json"], env=env).stdout)
    assert update["added"] == ["c.txt"] and update["chunks_reused"] == 0 and update["chunks_embedded"] >= 1
    top = json.loads(runner.invoke(app, ["search", "特色步行街区", "--json", "-k", "1"], env=env).stdout)
    assert top["results"][0]["source"] == "c.txt"


def test_int8_precision_builds_updates_and_searches(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    env = {"SEARCHKIT_CORPUS": str(corpus), "SEARCHKIT_INDEX": str(tmp_path / "index"), "SEARCHKIT_MODEL": "m3e-small",
           "SEARCHKIT_PRECISION": "int8"}
    runner = CliRunner()
    built = runner.invoke(app, ["index", "--json"], env=env)
    assert built.exit_code == 0, built.output
    status = json.loads(runner.invoke(app, ["status", "--json"], env=env).stdout)
    assert status["model"]["precision"] == "int8" and status["query_encoder"]
    assert not [p for p in (tmp_path / "index").iterdir() if p.name.startswith("tmp-")]  # the work folder is gone
    result = runner.invoke(app, ["search", "工人的报酬被拖着不给怎么办", "--mode", "vector", "--json", "-k", "1"], env=env)
    assert "农民工工资" in json.loads(result.stdout)["results"][0]["text"]

    (corpus / "c.txt").write_text("关于夜间经济的讲话\n一、大力发展夜间经济\n繁荣夜市消费，打造特色步行街区。\n", encoding="utf-8")
    update = json.loads(runner.invoke(app, ["index", "--json"], env=env).stdout)
    assert update["added"] == ["c.txt"] and not update["rebuilt"]
    top = json.loads(runner.invoke(app, ["search", "特色步行街区", "--json", "-k", "1"], env=env).stdout)
    assert top["results"][0]["source"] == "c.txt"
