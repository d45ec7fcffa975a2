"""One warm Searcher per index for the server, reopened when a new generation is published.

A Searcher keeps SQLite connections, which may only be used by the thread that opened
them, so each Searcher gets one thread of its own and every call runs there (this also
serialises queries, which on two cores costs nothing: Whoosh holds the GIL and
FAISS/onnxruntime use both cores anyway). When `CURRENT` names a new generation (built by
this server's update or by a `searchkit index` in another terminal), the new Searcher is
opened and warmed on its own thread while the old one keeps answering; then the two are
swapped and the old one is closed after the calls already queued on it.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from .. import store
from ..config import Settings
from ..errors import IndexMissingError, InputError, SearchkitError

if TYPE_CHECKING:  # the Searcher (FAISS, Whoosh…) is imported only when a generation is opened
    from ..searcher import Searcher

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_FAILED_LOAD_AFTER = 2.0  # seconds: a generation that failed to open is not retried on every request


@dataclass
class _Loaded:
    name: str
    searcher: Searcher
    thread: ThreadPoolExecutor

    def retire(self) -> None:
        self.thread.submit(self.searcher.close)  # runs after the calls already queued
        self.thread.shutdown(wait=False)


def _warm(searcher: Searcher) -> None:
    """Open everything a hybrid query needs, so the first real query is not the slow one."""
    searcher.search("预热", k=1, mode="hybrid")


class Engine:
    def __init__(self, settings: Settings, searcher_factory: Callable[[Settings], Searcher] | None = None):
        self.settings = settings
        self._factory = searcher_factory or _default_factory
        self._lock = threading.Lock()
        self._live: _Loaded | None = None
        self._loading: tuple[str, Future] | None = None
        self._failed: tuple[str, float] | None = None
        self._failed_error: BaseException | None = None

    @property
    def index_dir(self) -> Path:
        return Path(self.settings.index_dir)

    @property
    def serving(self) -> str | None:
        """The generation queries are answered from ("gen-000007"), or None before the first."""
        live = self._live
        return live.name if live else None

    def call(self, fn: Callable[[Searcher], T]) -> T:
        """Run fn(searcher) on the live Searcher's thread and return its result.

        If the call fails while a newer generation is being opened (the old generation's
        files may have been removed by a second build), it is run again on the new one.
        """
        live = self._current()
        try:
            return live.thread.submit(fn, live.searcher).result()
        except (InputError, KeyboardInterrupt):
            raise
        except Exception:
            fresh = self._current(wait=True)
            if fresh is live:
                raise
            log.info("retrying a query on %s after it failed on %s", fresh.name, live.name)
            return fresh.thread.submit(fn, fresh.searcher).result()

    def refresh(self) -> None:
        """Open the newest generation now (after this server's own update)."""
        self._current(wait=True)

    def close(self) -> None:
        with self._lock:
            if self._live:
                self._live.retire()
                self._live = None

    # -- internals -------------------------------------------------------------------------
    def _current(self, wait: bool = False) -> _Loaded:
        name = store.current_generation_name(self.index_dir)
        if name is None:
            raise IndexMissingError(self.index_dir, "build it with the Update button or `searchkit index`")
        live = self._live
        if live is not None and live.name == name:
            return live
        future = self._start_loading(name)
        if live is None or wait:
            return future.result()  # nothing to answer from yet: wait (raises the load's error)
        return live  # keep answering from the previous generation while the new one opens

    def _start_loading(self, name: str) -> Future:
        with self._lock:
            if self._loading and self._loading[0] == name:
                return self._loading[1]
            if self._failed and self._failed[0] == name and time.monotonic() - self._failed[1] < RETRY_FAILED_LOAD_AFTER:
                future: Future = Future()
                future.set_exception(self._failed_error)
                return future
            future = Future()
            self._loading = (name, future)
        threading.Thread(target=self._load, args=(name, future), name=f"searchkit-open-{name}", daemon=True).start()
        return future

    def _load(self, name: str, future: Future) -> None:
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"searchkit-{name}")
        try:
            searcher, name = thread.submit(self._open, name).result()
        except BaseException as error:  # noqa: BLE001 - handed to every waiting request
            thread.shutdown(wait=False)
            with self._lock:
                self._loading = None
                self._failed, self._failed_error = (name, time.monotonic()), error
            if not isinstance(error, SearchkitError):
                log.exception("opening generation %s failed", name)
            future.set_exception(error)
            return
        loaded = _Loaded(name, searcher, thread)
        with self._lock:
            old, self._live = self._live, loaded
            self._loading = None
            self._failed = None
        if old is not None:
            old.retire()
        log.info("serving generation %s of %s", name, self.index_dir)
        future.set_result(loaded)

    def _open(self, name: str) -> tuple[Searcher, str]:
        searcher = self._factory(self.settings)
        # CURRENT may have moved on between reading it and opening: serve what was opened
        opened = searcher.generation.path.name
        try:
            _warm(searcher)
        except InputError:
            pass
        return searcher, opened


def _default_factory(settings: Settings) -> Searcher:
    from ..searcher import Searcher

    return Searcher(settings)
