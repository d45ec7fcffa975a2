"""The incremental update, run by the server in a background thread with observable progress.

`build_index` writes a new generation under the build lock while the engine keeps
answering from the previous one; when the build publishes, the engine opens the new
generation. One update at a time: a second request (or a `searchkit index` running in
another terminal, which holds the lock) gets a 409 with the lock's one-line message.
"""
from __future__ import annotations

import logging
import threading
import time

from ..errors import IndexLockedError, SearchkitError
from ..store import now_iso

log = logging.getLogger(__name__)


class Updater:
    def __init__(self, settings, engine, embedder=None):
        self.settings = settings
        self.engine = engine
        self.embedder = embedder  # None: the configured model (tests pass the fake one)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._version = 0  # bumped on every change, for the event stream
        self._state: dict = {"state": "idle"}
        self._thread: threading.Thread | None = None

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._state, phases=[dict(p) for p in self._state.get("phases", [])])

    def wait_change(self, version: int, timeout: float) -> tuple[int, dict]:
        """Block until the state changes after `version` (or timeout); (new version, state)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != version, timeout)
            return self._version, dict(self._state, phases=[dict(p) for p in self._state.get("phases", [])])

    def start(self) -> dict:
        with self._lock:
            if self._state.get("state") == "running":
                raise IndexLockedError(self.settings.index_dir,
                                       f"this server's update (running since {self._state['started_at']})")
            self._set(state="running", started_at=now_iso(), phases=[], phase=None, report=None, error=None,
                      finished_at=None, seconds=None)
            self._thread = threading.Thread(target=self._run, name="searchkit-update", daemon=True)
            self._thread.start()
            return dict(self._state)

    def join(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    # -- internals -------------------------------------------------------------------------
    def _set(self, **changes) -> None:  # called with the lock held
        self._state.update(changes)
        self._version += 1
        self._changed.notify_all()

    def _progress(self, phase: str, total: int):
        with self._lock:
            entry: dict = {"phase": phase, "total": total, "done": 0}
            self._state["phases"].append(entry)
            self._set(phase=phase)

        def advance(n: int = 1) -> None:
            with self._lock:
                entry["done"] = min(entry["total"], entry["done"] + n)
                self._set()

        return advance

    def _run(self) -> None:
        from ..indexer import build_index

        started = time.perf_counter()
        try:
            report = build_index(self.settings, embedder=self.embedder, progress=self._progress)
            self.engine.refresh()  # answer from the new generation from the next request on
        except SearchkitError as error:
            self._finish(state="failed", error=str(error), started=started)
            return
        except Exception as error:  # noqa: BLE001 - a bug: logged with its traceback, one line to the page
            log.exception("update failed")
            self._finish(state="failed", error=f"unexpected {type(error).__name__}: {error}", started=started)
            return
        self._finish(state="done", report=report.to_dict(), started=started)

    def _finish(self, started: float, **fields) -> None:
        with self._lock:
            self._set(finished_at=now_iso(), seconds=round(time.perf_counter() - started, 2), phase=None, **fields)
