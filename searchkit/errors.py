"""Typed errors: the library raises these, the CLI turns them into one-line messages.

Each error carries its facts as attributes (which index, which setting, what it holds):
code that must react to an error reads those, never the message text, which is for people.
Exit codes (README): 1 for an index or corpus problem, 2 for bad input; the CLI gives
anything else, a bug, its own code (UNEXPECTED_EXIT_CODE).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

UNEXPECTED_EXIT_CODE = 3
INTERRUPTED_EXIT_CODE = 130  # the shell's convention for SIGINT


class SearchkitError(Exception):
    """Base class; str(error) is a complete one-line message for a person (what, where, what to do)."""

    exit_code = 1


class InputError(SearchkitError):
    """Bad user input: a query, an argument, a setting, a file given on the command line."""

    exit_code = 2


class CorpusError(SearchkitError):
    """The corpus folder or one of its files cannot be used."""


class IndexMissingError(SearchkitError):
    """There is no usable index where one was expected."""

    def __init__(self, index_dir: Path, how: str = "run `searchkit index` to build it"):
        self.index_dir = Path(index_dir)
        super().__init__(f"no index at {index_dir}; {how}")


class IndexMismatchError(SearchkitError):
    """The index was built with settings that differ from the running configuration.

    `block` names the manifest block ("model", "keyword", "vectors", "chunking", or
    "format" for the on-disk format itself), `field` the first differing setting in it.
    """

    def __init__(self, index_dir: Path, block: str, field: str, have: Any, wanted: Any):
        self.index_dir, self.block, self.field, self.have, self.wanted = Path(index_dir), block, field, have, wanted
        if block == "format":
            message = (f"the index at {index_dir} has format {have}, this searchkit reads format {wanted}; "
                       "run `searchkit index --rebuild`")
        else:
            message = (f"the index at {index_dir} was built with other {block} settings ({field}: index has "
                       f"{have!r}, configuration has {wanted!r}); run `searchkit index` to rebuild it")
        super().__init__(message)

    @property
    def rebuild_reason(self) -> str:
        return "the index format changed" if self.block == "format" else f"the {self.block} settings changed"


class IndexCorruptError(SearchkitError):
    """An index file is missing, truncated, altered or unreadable. `problem` says which,
    e.g. "the index at X is damaged (vectors.faiss was truncated or altered)"."""

    def __init__(self, index_dir: Path, problem: str):
        self.index_dir, self.problem = Path(index_dir), problem
        super().__init__(f"{problem}; run `searchkit index --rebuild`")

    @property
    def rebuild_reason(self) -> str:
        return self.problem


class IndexLockedError(SearchkitError):
    """Another process is building the same index; `holder` says which (pid and since when)."""

    def __init__(self, index_dir: Path, holder: str):
        self.index_dir, self.holder = Path(index_dir), holder
        super().__init__(f"the index at {index_dir} is being built by {holder}; wait for it to finish and try again")


class IndexWriteError(SearchkitError):
    """The index folder cannot be written (disk full, permissions, read-only file system)."""

    def __init__(self, index_dir: Path, errno_: int | None, reason: str):
        self.index_dir, self.errno, self.reason = Path(index_dir), errno_, reason
        super().__init__(reason)


class ModelError(SearchkitError):
    """The embedding model is not installed, not found, or cannot be exported or loaded."""


class EngineError(SearchkitError):
    """The storage engine (a Milvus server or milvus-lite database) cannot be reached or refused a request."""
