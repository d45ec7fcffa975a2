"""Chinese text analysis for the keyword index: jieba tokens for Whoosh.

Three token streams, one per index field (see keyword_index.py):
- words: jieba's precise segmentation with *sequential* positions, so phrase queries work
  (jieba.analyse.ChineseAnalyzer stores character offsets as positions and mixes in
  overlapping search-mode tokens, which breaks phrases);
- subwords: jieba search mode, i.e. every word plus the shorter dictionary words inside
  each compound (招商, 引资 in 招商引资), a recall aid so a compound query term never has
  to match in full;
- bigrams: overlapping Han character bigrams with positions, which make quoted phrases
  exact substring matches whatever jieba does with the surrounding context.
The jieba tokenizer is a private instance with the domain dictionary in data/userdict.txt;
it loads on first use (about a second), never at import time.
"""
from __future__ import annotations

import hashlib
import re
import threading
from contextvars import ContextVar
from contextvars import Token as ContextToken
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from whoosh.analysis import Token, Tokenizer

USER_DICT = Path(__file__).parent / "data" / "userdict.txt"
HMM = False  # HMM guesses new words differently in different contexts; off keeps query and index cuts alike

# A token is kept if it holds a letter, digit or Han character; punctuation and spaces are dropped.
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_TEXT_RUN = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]+")

# Function words that carry no topic; removed from *queries* (not from the index, so phrases still line up).
QUERY_STOPWORDS = frozenset(
    "的 了 和 与 及 以及 或 是 在 对 把 被 为 等 中 上 下 要 也 都 就 而 并 又 着 啊 吗 呢 吧 个 之 其 "
    "我们 你们 他们 这 那 这个 那个 一个 什么 怎么 如何 哪些 哪里 有 没有 关于 方面 进行 通过".split()
)

_lock = threading.Lock()


def user_dict_hash() -> str:
    return hashlib.sha256(USER_DICT.read_bytes()).hexdigest()[:16]


def analyzer_settings() -> dict:
    """What the manifest records: an index cut with other settings must be rebuilt."""
    return {"tokenizer": "jieba", "jieba_version": _jieba_version(), "hmm": HMM,
            "user_dict_sha256": user_dict_hash(), "analysis_version": 3, "bigrams": bigram_settings()}


def bigram_settings() -> dict:
    from .bigram_index import settings

    return settings()


def _jieba_version() -> str:
    import jieba

    return jieba.__version__


class LexiconFreq:
    """jieba's word-frequency table read on demand from SQLite instead of loaded whole.

    jieba needs ~1 s to load its 350k-word table; cutting a short query touches a few dozen
    entries. Same table, same algorithm, so the same words as the full load (tested).
    """

    def __init__(self, path: Path):
        import sqlite3

        # Shared by the threads of a long-lived reader: one connection, one lock.
        self.db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._db_lock = threading.Lock()
        self.total = self.db.execute("SELECT value FROM meta WHERE key='total'").fetchone()[0]
        self._cache: dict[str, int | None] = {}

    def get(self, word: str, default=None):
        if word not in self._cache:
            with self._db_lock:
                row = self.db.execute("SELECT freq FROM freq WHERE word=?", (word,)).fetchone()
            self._cache[word] = row[0] if row else None
        value = self._cache[word]
        return default if value is None else value

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        value = self.get(word)
        if value is None:
            raise KeyError(word)
        return value


def write_lexicon(path: Path) -> None:
    """Dump the loaded jieba table (with the domain dictionary) for LexiconFreq."""
    import sqlite3

    tok = Lexicon.full().tokenizer
    tmp = Path(f"{path}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, freq INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value)")
    db.executemany("INSERT INTO freq VALUES (?, ?)", tok.FREQ.items())
    db.execute("INSERT INTO meta VALUES ('total', ?)", (tok.total,))
    db.commit()
    db.close()
    tmp.replace(path)


class Lexicon:
    """One jieba word table and the tokenizer that cuts with it.

    A generation owns its lexicon (`open(path)`: its lexicon.sqlite read on demand); a
    full build uses `full()`, the whole table with the domain dictionary, loaded once per
    process. The cutting functions below take a lexicon, or else the one made active in
    the calling thread's context (`activate`), or else the full table: no process-wide
    "first caller wins" state.
    """

    def __init__(self, tokenizer, source: str):
        self.tokenizer = tokenizer
        self.source = source

    @classmethod
    def open(cls, path: Path) -> Lexicon:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        freq = LexiconFreq(path)
        tok.FREQ, tok.total, tok.initialized = freq, freq.total, True
        return cls(tok, str(path))

    @classmethod
    def full(cls) -> Lexicon:
        global _full
        if _full is None:
            with _lock:
                if _full is None:
                    _full = cls(_load_full_tokenizer(), "jieba + " + USER_DICT.name)
        return _full


_full: Lexicon | None = None  # the whole table: the same for every caller, so loaded once
_active: ContextVar[Lexicon | None] = ContextVar("searchkit_lexicon", default=None)


def activate(lexicon: Lexicon | None) -> ContextToken:
    """Make `lexicon` the one this thread's context cuts with; returns a token for `deactivate`."""
    return _active.set(lexicon)


def deactivate(token: ContextToken) -> None:
    _active.reset(token)


def current_lexicon() -> Lexicon:
    return _active.get() or Lexicon.full()


def jieba_tokenizer():
    """The jieba.Tokenizer of the current lexicon (see Lexicon)."""
    return current_lexicon().tokenizer


def _load_full_tokenizer():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    tok.load_userdict(str(USER_DICT))
    return tok


def words(text: str, lexicon: Lexicon | None = None) -> tuple[tuple[str, int, int], ...]:
    """Precise-mode words as (word, start, end), punctuation and spaces dropped, lowercased."""
    return _words(text, lexicon or current_lexicon())


def subwords_of(word: str, lexicon: Lexicon | None = None) -> tuple[str, ...]:
    """Dictionary words of 2+ characters strictly inside `word` (jieba's search-mode pieces)."""
    return _subwords_of(word, lexicon or current_lexicon())


@lru_cache(maxsize=4096)  # each passage is cut for three fields in a row: cut it once
def _words(text: str, lexicon: Lexicon) -> tuple[tuple[str, int, int], ...]:
    out = []
    for word, start, end in lexicon.tokenizer.tokenize(text, mode="default", HMM=HMM):
        if _WORDLIKE.search(word):
            out.append((word.strip().lower(), start, end))
    return tuple(out)


@lru_cache(maxsize=65536)
def _subwords_of(word: str, lexicon: Lexicon) -> tuple[str, ...]:
    if len(word) <= 2:
        return ()
    freq = lexicon.tokenizer.FREQ
    pieces = []
    for n in (2, 3):
        for i in range(len(word) - n + 1):
            piece = word[i:i + n]
            if piece != word and freq.get(piece):
                pieces.append(piece)
    return tuple(pieces)


def bigrams(text: str) -> Iterator[tuple[str, int, int, int]]:
    """Character bigrams of each run of Han characters, digits and latin letters, as
    (gram, position, start, end); a one-character run yields itself.

    Positions continue within a run (编号乙007号 → 编号 号乙 乙0 00 07 7号) and jump by two
    between runs, so a quoted phrase matches exactly the text's substrings and never
    across punctuation or spaces.
    """
    pos = 0
    for match in _TEXT_RUN.finditer(text.lower()):
        run, base = match.group(0), match.start()
        if len(run) == 1:
            yield run, pos, base, base + 1
            pos += 1
        for i in range(len(run) - 1):
            yield run[i:i + 2], pos, base + i, base + i + 2
            pos += 1
        pos += 2


class _StreamTokenizer(Tokenizer):
    """Base for our tokenizers: turns (text, pos, start, end) tuples into Whoosh tokens."""

    def _tuples(self, value: str):
        raise NotImplementedError

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:  # Whoosh asks for the raw value as one token (e.g. for ID-like use)
            token.original = token.text = value  # type: ignore[attr-defined]  # whoosh3's Token leaves `original` undeclared
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for text, pos, start, end in self._tuples(value):
            token.original = token.text = text  # type: ignore[attr-defined]  # as above
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class WordTokenizer(_StreamTokenizer):
    """jieba precise mode, positions 0, 1, 2, ... (one per kept word)."""

    def _tuples(self, value):
        for pos, (word, start, end) in enumerate(words(value)):
            yield word, pos, start, end


class SubwordTokenizer(_StreamTokenizer):
    """jieba search mode: every word plus the pieces inside compounds, at the word's position.

    Queried with a compound's pieces, this field matches passages that use the pieces on
    their own (招商 for 招商引资), so a compound query term is never mandatory in full.
    """

    def _tuples(self, value):
        for pos, (word, start, end) in enumerate(words(value)):
            yield word, pos, start, end
            for piece in subwords_of(word):
                offset = word.find(piece)
                yield piece, pos, start + offset, start + offset + len(piece)


class BigramTokenizer(_StreamTokenizer):
    def _tuples(self, value):
        return bigrams(value)


def word_analyzer():
    return WordTokenizer()


def subword_analyzer():
    return SubwordTokenizer()


def bigram_analyzer():
    return BigramTokenizer()
