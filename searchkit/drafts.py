"""Draft review: cut a draft into paragraphs and find the best matches of each.

Shared by `searchkit similar --file DRAFT --each-paragraph` and the server's
`POST /api/similar/paragraphs`, so both answer with the same list of
`{"paragraph", "results"}` objects.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from .errors import InputError

MAX_PARAGRAPHS = 300  # a draft is reviewed paragraph by paragraph: bound the work one request asks for
MAX_DRAFT_CHARS = 200_000  # about a 100-page draft; the request body limit is above this


def _draft_text(path: Path) -> str:
    """The text of a draft in any format the corpus may hold (searchkit.readers), one
    paragraph a line for formats that know paragraphs."""
    from .readers import read_document

    return read_document(path).text()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a draft, read the way corpus files are read: invisible characters and
    page numbers dropped, lines cut mid-sentence joined again (documents.reflow), so a
    hard-wrapped .txt draft gives the same paragraphs as its .docx."""
    from .documents import clean_lines, reflow

    return [p for p in reflow(clean_lines(text)) if p.strip()]


def _draft_suffixes() -> tuple[str, ...]:
    from .readers import SUPPORTED_SUFFIXES

    return tuple(sorted(SUPPORTED_SUFFIXES))


def read_draft(path: Path) -> list[str]:
    """The paragraphs of a draft file; InputError (one line) if it cannot be used."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a draft file (.txt, .docx, .pdf, .html or .md)")
    if not path.exists():
        raise InputError(f"file {path} does not exist; check the path given to --file")
    if path.suffix.lower() not in _draft_suffixes():
        raise InputError(f"{path.name}: drafts can be {', '.join(_draft_suffixes())} files; "
                         "save it in one of those formats")
    from .errors import CorpusError

    try:
        text = _draft_text(path)
    except CorpusError as error:  # read_text's "not a readable text file" is bad input here
        raise InputError(str(error)) from None
    return _checked(split_paragraphs(text), path.name)


def draft_from_bytes(filename: str, data: bytes) -> list[str]:
    """The paragraphs of an uploaded draft (the server receives bytes, the readers read paths)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in _draft_suffixes():
        raise InputError(f"{filename or 'the uploaded file'}: drafts can be {', '.join(_draft_suffixes())} "
                         "files; save it in one of those formats")
    with tempfile.TemporaryDirectory(prefix="searchkit-draft-") as tmp:
        path = Path(tmp) / f"draft{suffix}"
        path.write_bytes(data)
        try:
            return read_draft(path)
        except InputError as error:  # name the user's file, not the temporary copy
            raise InputError(str(error).replace(str(path), filename).replace(path.name, filename)) from None


def _checked(paragraphs: list[str], where: str) -> list[str]:
    if not paragraphs:
        raise InputError(f"{where} has no text; give a draft with at least one paragraph")
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise InputError(f"{where} has {len(paragraphs)} paragraphs; review at most {MAX_PARAGRAPHS} "
                         "at a time (split the draft)")
    if sum(map(len, paragraphs)) > MAX_DRAFT_CHARS:
        raise InputError(f"{where} has more than {MAX_DRAFT_CHARS:,} characters; review it in parts")
    return paragraphs


def text_paragraphs(text: str, where: str = "the text") -> list[str]:
    """Pasted text cut into paragraphs, checked like a file."""
    return _checked(split_paragraphs(text or ""), where)


def review(searcher, paragraphs: list[str], k: int = 3, mode: str = "hybrid", flt=None) -> list:
    """(paragraph, SearchResponse) for each paragraph, in order; `flt` a filters.Filter."""
    return [(p, searcher.similar(p, k=k, mode=mode, filter=flt)) for p in paragraphs]


def review_to_dicts(reviewed: list) -> list[dict]:
    return [{"paragraph": p, "results": response.to_dict()["results"]} for p, response in reviewed]
