"""Plain text (.txt): UTF-8 (BOM optional), UTF-16 (with or without BOM), GB18030 or Big5.

Encodings other than UTF-8/UTF-16 are told apart by charset-normalizer. One block per
physical line; a blank line is Block("") — the heading and paragraph rules downstream
decide what the lines are.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import CorpusError
from .base import Block, Document

_FALLBACK_ENCODINGS = ["gb18030", "big5", "utf_16_le", "utf_16_be"]


def _plausible_text(text: str) -> bool:
    """Most characters are letters, CJK, digits, punctuation or whitespace."""
    if not text:
        return True
    odd = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0xE000 <= ord(ch) <= 0xF8FF)
    return odd / len(text) < 0.01


def _decode_utf16_without_bom(data: bytes) -> str | None:
    for encoding in ("utf_16_le", "utf_16_be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible_text(text):
            return text
    return None


def decode_bytes(data: bytes) -> str | None:
    """The text of bytes in one of the encodings above, or None if none fits."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:  # only UTF-16 explains NUL bytes in a text file
        return _decode_utf16_without_bom(data)
    from charset_normalizer import from_bytes  # imported lazily: rarely needed

    best = from_bytes(data, cp_isolation=_FALLBACK_ENCODINGS).best()
    if best is None:
        return None
    text = str(best)
    return text if _plausible_text(text) else None


def read_text(path: Path) -> str:
    """The text of a .txt corpus file: UTF-8 (BOM optional), UTF-16, GB18030 or Big5."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}; "
                          "check that the file exists and is readable") from error
    try:
        text = decode_bytes(data)
    except UnicodeDecodeError:
        text = None
    if text is None or (b"\x00" in data and "\x00" in text):
        raise CorpusError(f"{path} is not a readable text file (not UTF-8, UTF-16, GB18030 "
                          "or Big5, or binary); save it as UTF-8 text or remove it from the corpus")
    return text


class TextReader:
    suffixes = (".txt",)

    def read(self, path: Path) -> Document:
        text = read_text(path)
        # Split on "\n" only, so that text() gives back exactly the decoded text (a "\r"
        # is dropped by the cleaning downstream, as it always was).
        return Document(tuple(Block(line) for line in text.split("\n")))
