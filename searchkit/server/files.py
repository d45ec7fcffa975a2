"""Serving a corpus file: only a file the index lists, only from inside the corpus folder."""
from __future__ import annotations

import mimetypes
import re
from pathlib import Path, PurePosixPath

from fastapi.responses import FileResponse

from ..errors import InputError
from .context import NotFound


class Forbidden(InputError):
    """The path names something outside the corpus folder (answered with 403)."""


_DRIVE = re.compile(r"^[A-Za-z]:")


def corpus_path(corpus_dir: Path, source: str, indexed: set[str]) -> Path:
    """The file of `source` inside the corpus folder, after every check; raises otherwise."""
    if not source or not source.strip():
        raise InputError("no source given; ask for a file by its source, e.g. /api/file?source=a.txt")
    if "\x00" in source or "\\" in source:
        raise InputError(f"source {source!r} is not a corpus path; use the `source` of a search result")
    pure = PurePosixPath(source)
    if pure.is_absolute() or _DRIVE.match(source) or ".." in pure.parts:
        raise Forbidden(f"source {source!r} points outside the corpus folder; only files inside it are served")
    if source not in indexed:
        raise NotFound(f"no file {source!r} in the index; use the `source` of a search result")
    root = Path(corpus_dir).resolve()
    path = (root / pure).resolve()
    # A symlink inside the corpus may point anywhere; the server reads only what lies inside.
    if not path.is_relative_to(root):
        raise Forbidden(f"{source!r} is a link to a file outside the corpus folder; the server serves only "
                        "files inside it (open it from the file system)")
    if not path.is_file():
        raise NotFound(f"{source!r} is no longer in the corpus folder {corpus_dir}; run the update")
    return path


def _text_charset(path: Path) -> str:
    """The encoding to declare for a .txt file, so GB18030 files show as Chinese too."""
    data = path.read_bytes()[:1 << 16]
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start > len(data) - 4:  # cut inside a character by the 64 KB sample
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16_le", "utf_16_be"]).best()
    return best.encoding if best else "utf-8"


def file_response(corpus_dir: Path, source: str, indexed: set[str], download: bool) -> FileResponse:
    path = corpus_path(corpus_dir, source, indexed)
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".txt":
        media = f"text/plain; charset={_text_charset(path)}"
    return FileResponse(path, media_type=media, filename=PurePosixPath(source).name,
                        content_disposition_type="attachment" if download else "inline",
                        headers={"X-Content-Type-Options": "nosniff"})
