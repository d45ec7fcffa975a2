"""Ctrl-C during a build, and a build that cannot write, leave the index as it was."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import cli_error

from searchkit import store
from searchkit.searcher import Searcher

TESTS = Path(__file__).resolve().parent
NEW = "在全区夜间经济工作推进会上的讲话\n一、大力发展夜间经济\n制定出台政策，繁荣夜市消费，打造特色步行街区。\n"


def test_ctrl_c_during_a_build_exits_130_and_keeps_the_index(built, tmp_path):
    settings, first = built
    (settings.corpus_dir / "c.txt").write_text(NEW, encoding="utf-8")
    started = tmp_path / "embedding-started"
    proc = subprocess.Popen(
        [sys.executable, str(TESTS / "fake_embedder.py"), "index", "--corpus", str(settings.corpus_dir),
         "--index", str(settings.index_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SEARCHKIT_MODEL": "fake-slow", "SEARCHKIT_TEST_STARTED": str(started),
             "PYTHONPATH": str(TESTS.parent)})
    deadline = time.monotonic() + 60
    while not started.exists():  # waits for a state, not for a time
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.splitlines() == ["interrupted"], (proc.returncode, err)
    assert store.open_generation(settings.index_dir).number == first.generation
    assert not list(settings.index_dir.glob("tmp-*"))
    assert [h.chunk.source for h in Searcher(settings).search('"双过半"', mode="keyword").hits] == ["b.txt"]


def test_an_index_folder_that_cannot_be_written_is_exit_1_and_keeps_the_index(run, settings, monkeypatch):
    # As root, chmod cannot make a folder read-only; the build's first write is made to
    # fail the way a read-only folder fails it instead (EROFS).
    import errno

    assert run("index").exit_code == 0
    before = store.open_generation(settings.index_dir).number
    (settings.corpus_dir / "c.txt").write_text(NEW, encoding="utf-8")
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name.startswith("tmp-"):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    cli_error(run("index"), 1, f"cannot write the index at {settings.index_dir} (permission denied or read-only)")
    monkeypatch.undo()
    assert store.open_generation(settings.index_dir).number == before
    assert [h.chunk.source for h in Searcher(settings).search('"双过半"', mode="keyword").hits] == ["b.txt"]
