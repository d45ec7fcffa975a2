"""One reader per file type, chosen by the file's suffix.

Each reader turns a file into a `Document` of blocks (see base.py). To add a format:
write a module with a class that has `suffixes` and `read(path) -> Document`, and list it
in `_READERS`. Readers import their parsing library on first use, so a search or a corpus
of .txt files never loads python-docx, pypdfium2 or trafilatura.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path, PurePath

from ..errors import CorpusError
from .base import Block, Document, Reader

__all__ = ["Block", "Document", "Reader", "SUPPORTED_SUFFIXES", "read_document", "unsupported_advice",
           "is_document_name"]

log = logging.getLogger(__name__)

# suffix -> (module, class); a module is imported only when a file of its type is read.
_READERS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "TextReader"),
    ".docx": ("docx", "DocxReader"),
    ".pdf": ("pdf", "PdfReader"),
    ".html": ("html", "HtmlReader"),
    ".htm": ("html", "HtmlReader"),
    ".shtml": ("html", "HtmlReader"),
    ".xhtml": ("html", "HtmlReader"),
    ".md": ("markdown", "MarkdownReader"),
    ".markdown": ("markdown", "MarkdownReader"),
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS)
_FORMAT_LIST = ".txt, .docx, .pdf, .html, .md"

# What a user can do with a file searchkit cannot read, by suffix.
_SAVE_AS_DOCX = "open it in Word or WPS and save it as .docx (or as .txt)"
_ADVICE: dict[str, str] = {
    ".doc": f"a Word 97-2003 file; {_SAVE_AS_DOCX}",
    ".dot": f"a Word 97-2003 template; {_SAVE_AS_DOCX}",
    ".docm": f"a macro-enabled Word file; {_SAVE_AS_DOCX}",
    ".dotx": f"a Word template; {_SAVE_AS_DOCX}",
    ".wps": f"a WPS Writer file; {_SAVE_AS_DOCX}",
    ".wpt": f"a WPS Writer template; {_SAVE_AS_DOCX}",
    ".rtf": f"a Rich Text file; {_SAVE_AS_DOCX}",
    ".odt": f"an OpenDocument text; {_SAVE_AS_DOCX}",
    ".pages": "an Apple Pages file; export it as .docx or .pdf",
    ".ofd": "an OFD document; export it as .pdf (with a text layer) or .docx",
    ".caj": "a CAJ file; save it as .pdf with CAJViewer",
    ".xps": "an XPS document; print it to .pdf or save it as .docx",
    ".mht": "a single-file web archive; save the page as .html",
    ".mhtml": "a single-file web archive; save the page as .html",
    ".epub": "an e-book; convert it to .docx, .html or .txt",
}
for _suffix in (".xls", ".xlsx", ".xlsm", ".et", ".ods", ".csv", ".tsv", ".numbers"):
    _ADVICE[_suffix] = "a spreadsheet; searchkit indexes speeches, so save the text as .docx or .txt"
for _suffix in (".ppt", ".pptx", ".pps", ".ppsx", ".dps", ".odp", ".key"):
    _ADVICE[_suffix] = "a presentation; save its text as .docx or .pdf"
for _suffix in (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic"):
    _ADVICE[_suffix] = ("an image; searchkit does no OCR, so put the text in a .txt or .docx "
                        "(or a PDF with a text layer)")
for _suffix in (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"):
    _ADVICE[_suffix] = "an archive; unpack it into the corpus folder"
for _suffix in (".mp3", ".wav", ".m4a", ".mp4", ".avi", ".mov", ".wmv", ".flv"):
    _ADVICE[_suffix] = "audio or video; searchkit indexes text, so add a transcript as .txt or .docx"

# Files that are not documents at all and are never reported: sidecars and what operating
# systems and office programs leave beside documents.
_NOT_DOCUMENTS = {"metadata.csv", "thumbs.db", "desktop.ini"}


def is_document_name(name: str) -> bool:
    """Whether a file name in the corpus folder is meant as a document (read or reported).
    Hidden files, `metadata.csv` (the metadata sidecar), and Office lock files (`~$…`,
    written while a document is open) are not."""
    return not (name.startswith((".", "~$")) or name.lower() in _NOT_DOCUMENTS)


def unsupported_advice(path: Path) -> str | None:
    """For a file searchkit cannot read: what it is and what to do; None if it can be read."""
    suffix = PurePath(path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    if suffix in _ADVICE:
        return _ADVICE[suffix]
    kind = f"a {suffix} file" if suffix else "a file without a suffix"
    return f"{kind}, not a format searchkit reads ({_FORMAT_LIST}); convert it or move it out of the corpus folder"


def _reader_for(suffix: str) -> Reader:
    module_name, class_name = _READERS[suffix]
    module = importlib.import_module(f".{module_name}", __name__)
    return getattr(module, class_name)()


def read_document(path: Path) -> Document:
    """The document in a file, read by the reader for its suffix.

    Raises CorpusError (one line: what, where, what to do) for an unsupported, damaged or
    encrypted file. A parsing library's own exception on a damaged file becomes such an
    error too, with its name kept, so that one bad file is skipped and named, never a crash.
    """
    path = Path(path)
    advice = unsupported_advice(path)
    if advice is not None:
        raise CorpusError(f"{path} is {advice}")
    reader = _reader_for(path.suffix.lower())
    try:
        return reader.read(path)
    except CorpusError:
        raise
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}; "
                          "check that the file exists and is readable") from error
    except Exception as error:  # noqa: BLE001 - any parser failure on a damaged file
        log.debug("reading %s failed", path, exc_info=True)
        detail = " ".join(str(error).split())[:120]
        raise CorpusError(f"{path} could not be read as a {path.suffix.lower()} file "
                          f"({type(error).__name__}: {detail}); it may be damaged: "
                          "open it and save it again") from error
