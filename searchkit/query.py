"""What a user typed, understood: terms (any order, "about all of them") and quoted phrases.

The query is never handed to Whoosh's query parser, so AND/OR/NOT, *, ?, ~, ^, : and
unbalanced quotes or brackets are ordinary text; the keyword index builds its Whoosh
query from this structure (keyword_index.build_query).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError

# "…", “…” and 「…」 delimit exact phrases; an unbalanced quote is just a character.
_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')
_SEPARATORS = re.compile(r"[\s,，、;；。!！?？()（）\[\]【】{}<>《》:：+*~^|/\\'\"“”「」]+")
# A typed term longer than this is a sentence in the user's own words, not a key word.
SENTENCE_TERM_CHARS = 8
_CLAUSE_PUNCTUATION = re.compile(r"[，。！？,!?]")


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query as typed, stripped
    terms: tuple[str, ...]  # unquoted pieces, in order
    phrases: tuple[str, ...]  # quoted pieces: must occur verbatim (ignoring spaces)

    @property
    def all_pieces(self) -> tuple[str, ...]:
        return self.phrases + self.terms

    @property
    def is_sentence(self) -> bool:
        """Typed as a sentence (机关单位赖账，企业要不回钱怎么办) rather than as key words:
        a term longer than SENTENCE_TERM_CHARS, or clauses separated by punctuation."""
        if self.phrases:
            return False
        return any(len(t) > SENTENCE_TERM_CHARS for t in self.terms) or bool(
            len(self.terms) > 1 and _CLAUSE_PUNCTUATION.search(self.text))

    @property
    def semantic_text(self) -> str:
        """What the embedder sees: the query without quote marks."""
        return " ".join(self.all_pieces)


def require_text(text: str | None, what: str = "query") -> str:
    if text is None or not text.strip():
        raise InputError(f"the {what} is empty; type some words to search for, e.g. searchkit search \"招商引资 措施\"")
    return text.strip()


def parse_query(text: str | None) -> ParsedQuery:
    text = require_text(text)
    phrases = []

    def take(match: re.Match) -> str:
        phrase = next(g for g in match.groups() if g is not None)
        phrase = re.sub(r"\s+", "", phrase)
        if phrase:
            phrases.append(phrase)
        return " "

    rest = _PHRASE.sub(take, text)
    terms = tuple(t for t in _SEPARATORS.split(rest) if t)
    if not terms and not phrases:
        raise InputError(f"the query {text!r} has no words to search for (only punctuation); type some words")
    return ParsedQuery(text=text, terms=terms, phrases=tuple(phrases))
