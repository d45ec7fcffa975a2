"""The corpus folder: which files there are and what their content hashes are."""
from __future__ import annotations

import codecs
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .fileutil import relative_source
from .readers import SUPPORTED_SUFFIXES, is_document_name, unsupported_advice

__all__ = ["SUPPORTED_SUFFIXES", "CorpusFile", "Skipped", "scan_corpus"]


@dataclass(frozen=True)
class CorpusFile:
    source: str  # path relative to the corpus root, "/"-separated: the name users see
    path: Path
    size: int
    file_key: str  # sha256 of the bytes: same content under two names is indexed once


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


def scan_corpus(root: Path) -> tuple[list[CorpusFile], list[Skipped]]:
    """All readable files below `root` (following symlinks, never in a loop), sorted by name,
    and every other document-like file as skipped, with what it is and what to do."""
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist; create it or pass --corpus DIR")
    if not root.is_dir():
        raise CorpusError(f"corpus path {root} is not a folder; pass --corpus DIR")
    files: list[CorpusFile] = []
    skipped: list[Skipped] = []
    seen_dirs: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        skipped.append(Skipped(relative_source(Path(error.filename or root), root), f"unreadable folder ({error.strerror})"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        try:
            st = os.stat(dirpath)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink back up the tree
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not is_document_name(name):
                continue
            path = Path(dirpath) / name
            source = relative_source(path, root)
            advice = unsupported_advice(path)
            if advice is not None:  # named, never silently ignored: the user may expect it indexed
                skipped.append(Skipped(source, f"{advice}"))
                continue
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):  # opening a FIFO would block forever
                    skipped.append(Skipped(source, "not a regular file (a pipe, socket or device)"))
                    continue
                data = path.read_bytes()
            except FileNotFoundError:
                skipped.append(Skipped(source, "broken symlink or vanished file"))
                continue
            except OSError as error:
                skipped.append(Skipped(source, f"unreadable ({error.strerror})"))
                continue
            # Caught here, not after chunking, so that every such file is named (identical
            # empty files share one content hash and would otherwise be reported once).
            if not data.removeprefix(codecs.BOM_UTF8).strip():
                skipped.append(Skipped(source, "empty file, nothing to index" if not data
                                       else "only whitespace, nothing to index"))
                continue
            files.append(CorpusFile(source, path, len(data), hashlib.sha256(data).hexdigest()))
    files.sort(key=lambda f: f.source)
    return files, skipped

