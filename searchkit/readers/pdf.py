"""PDF files, read with pypdfium2 (Apache-2.0 or BSD-3-Clause; PDFium itself is BSD-3/Apache-2.0).

Chosen by measurement on Chinese PDFs made with a real CJK font (scripts/bench_readers.py):
pypdf, pdfminer.six and pypdfium2 all got every character and the order right on plainly
set text, but pypdfium2 read ~190 pages/s against ~10 (pypdf) and ~5 (pdfminer.six); on
characters placed one by one (justified or letter-spaced text) pypdf put every character on
its own line and pdfminer.six put a space between all characters on every line, while
pypdfium2 did so only on the letter-spaced line. What extraction still breaks is repaired:

- spaces between CJK characters (`反 对 “ 以 党 治 国 ”`) are removed; spaces between
  Latin words and numbers stay;
- runs of lines holding one or two characters each (one token per line) are joined;
- lines repeated at the top or bottom of most pages (running headers and footers) and
  page numbers (`— 3 —`, `第3页`, `3/18`, `- 3 -`) are dropped and counted in `removed`.

Bookmarks (the PDF outline, written from heading styles by Word and WPS) give the level
of a line that is exactly a bookmark's title. Lines cut at line and page ends are emitted
as they are, one block per physical line: the paragraph reflow downstream joins them.
A PDF without a text layer (scanned) gives an empty document with a warning (no OCR); an
encrypted or damaged PDF is a CorpusError.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..errors import CorpusError
from .base import Block, Document, clean_properties

_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·、]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK})[ \u00a0]+(?={_CJK})|(?<={_CJK})[ \u00a0]+(?=[\dA-Za-z%(（])"
                                rf"|(?<=[\dA-Za-z%)）.,])[ \u00a0]+(?={_CJK})")
_PAGE_NUMBER = re.compile(r"^[-—－–\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*[/共]\s*\d{1,4}\s*页?)?[-—－–\s]*$"
                          r"|^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff\u00ad]")
_EDGE = 3  # lines at the top and at the bottom of a page that may be a running header/footer
_TOKEN_LINE = 2  # a "line" this short in a run of such lines is one token of a broken line
_TOKEN_RUN = 3


def _spaced_out(line: str) -> bool:
    """Most gaps between characters are spaces: the extractor spaced the line out."""
    chars = line.replace(" ", "")
    return len(chars) >= 4 and line.count(" ") >= 0.5 * (len(chars) - 1)


def repair_line(line: str) -> str:
    """Remove the spaces an extractor put between Chinese characters (and the control
    characters PDFium uses for soft hyphens and unmapped glyphs)."""
    line = _CONTROL.sub("", line).strip()
    if _spaced_out(line):  # "2 0 2 3 年": also the spaces between digits of a spaced-out line
        line = re.sub(r"(?<=\S) (?=\S)", "", line) if re.search(_CJK, line) else line
    return _SPACE_BETWEEN_CJK.sub("", line)


def _join_token_lines(lines: list[str]) -> list[str]:
    """Runs of ≥3 lines of ≤2 characters each are one line cut into tokens."""
    out: list[str] = []
    run: list[str] = []
    for line in lines + [None]:
        if line is not None and 0 < len(line) <= _TOKEN_LINE:
            run.append(line)
            continue
        if len(run) >= _TOKEN_RUN:
            out.append("".join(run))
        else:
            out += run
        run = []
        if line is not None:
            out.append(line)
    return out


def _edge_key(line: str) -> str:
    """Header/footer lines differ from page to page only in their numbers."""
    return re.sub(r"\d+", "#", line.replace(" ", ""))


def _strip_chrome(pages: list[list[str]]) -> tuple[list[list[str]], Counter]:
    """Drop page numbers and lines repeated at the top or bottom of most pages."""
    removed: Counter = Counter()
    repeated: set[str] = set()
    if len(pages) >= 3:
        seen: Counter = Counter()
        for page in pages:
            seen.update({_edge_key(line) for line in page[:_EDGE] + page[-_EDGE:]})
        # On at least half of the pages, and on 3 or more: a running header or footer.
        repeated = {key for key, n in seen.items() if n >= max(3, len(pages) / 2)}
    kept_pages = []
    for page in pages:
        edge = set(range(min(_EDGE, len(page)))) | set(range(max(0, len(page) - _EDGE), len(page)))
        kept = []
        for i, line in enumerate(page):
            if i in edge and _PAGE_NUMBER.match(line):
                removed["page_number"] += 1
            elif i in edge and _edge_key(line) in repeated:
                removed["running_header" if i < len(page) / 2 else "running_footer"] += 1
            else:
                kept.append(line)
        kept_pages.append(kept)
    return kept_pages, removed


def _iso_date(value: str) -> str | None:
    """PDF dates look like D:20230112093000+08'00'."""
    match = re.match(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?", value or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return f"{year}-{month}-{day}"


def _properties(pdf) -> dict[str, str]:
    try:
        meta = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # noqa: BLE001 - metadata is optional; a broken info dict must not lose the text
        return {}
    # Word's PDF export often titles a file "Microsoft Word - 报告.docx": the name, not a title.
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - |\.(?:docx?|wps|pptx?)$", "", meta.get("Title") or "")
    found = {"title": title, "author": meta.get("Author"), "subject": meta.get("Subject"),
             "keywords": meta.get("Keywords"), "created": _iso_date(meta.get("CreationDate", ""))}
    return clean_properties(found)


def _open(path: Path):
    import pypdfium2 as pdfium  # imported on first use

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
            raise CorpusError(f"{path} is an encrypted PDF (it needs a password); "
                              "save an unprotected copy (print to PDF) or export its text") from error
        raise CorpusError(f"{path} is not a readable PDF (damaged or truncated: {error}); "
                          "download or export it again") from error


def _bookmark_levels(pdf) -> dict[str, int]:
    """Bookmark titles (the outline Word writes from heading styles) → outline level 1, 2, …"""
    levels: dict[str, int] = {}
    try:
        for bookmark in pdf.get_toc(max_depth=6):
            title = re.sub(r"\s", "", bookmark.get_title() or "")
            if title:
                levels.setdefault(title, bookmark.level + 1)
    except Exception:  # noqa: BLE001 - a broken outline must not lose the text
        return {}
    return levels


def _page_texts(pdf) -> list[str]:
    texts = []
    for page in pdf:
        textpage = page.get_textpage()
        try:
            texts.append(textpage.get_text_range())
        finally:
            textpage.close()
            page.close()
    return texts


class PdfReader:
    suffixes = (".pdf",)

    def read(self, path: Path) -> Document:
        pdf = _open(path)
        try:
            texts = _page_texts(pdf)
            properties = _properties(pdf)
            levels = _bookmark_levels(pdf)
        finally:
            pdf.close()
        pages = []
        for text in texts:
            lines = [repair_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
            pages.append(_join_token_lines([line for line in lines if line]))
        empty = [i + 1 for i, page in enumerate(pages) if not page]
        warnings: list[str] = []
        if len(empty) == len(pages):
            return Document((), properties, {}, (
                f"{path} has no text layer (a scanned PDF?); searchkit does no OCR: "
                "run OCR on it (e.g. ocrmypdf) or add its text as .txt or .docx",))
        if empty:
            shown = ", ".join(map(str, empty[:10])) + (" …" if len(empty) > 10 else "")
            warnings.append(f"{path}: page(s) {shown} of {len(pages)} have no text layer (scanned?) and were not read")
        pages, removed = _strip_chrome(pages)
        # A line that is exactly a bookmark's title is that heading (bookmarks give no title
        # of the document itself, so level 0 is never set here).
        blocks = tuple(Block(line, levels.get(re.sub(r"\s", "", line))) for page in pages for line in page)
        return Document(blocks, properties, dict(removed), tuple(warnings))
