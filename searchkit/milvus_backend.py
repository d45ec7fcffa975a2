"""Milvus as the storage engine of both sides (backends.py), for archives that outgrow one machine.

One index = two Milvus collections, named in the generation's pointer files:
- `<prefix>_passages`: one row per passage (primary key = doc id) with its text cut by
  jieba (the project's domain dictionary) and as character bigrams, each with a Milvus BM25
  function; its squashed text for verbatim checks (`LIKE`); its speech's metadata as scalar
  fields, so filters run inside Milvus;
- `<prefix>_windows`: one row per sentence-window vector (primary key = window id, as in
  vector_index.vector_ids) with its doc id and the same metadata fields.
meta.sqlite, the manifest and the query-time term statistics stay in the generation
folder, as with the embedded engine; searchkit ranks and fuses exactly as it does there.

Crash safety without copying collections: doc ids only grow (a changed passage gets a new
id), and each generation records the highest doc id it holds. An update inserts its new
rows first (invisible to the live generation: they are above its highest id) and
publishes; the rows it removed stay in Milvus, left out of its searches by id, until no
older generation (kept for a reader that still holds it) names the collection, and are
deleted then (cleanup()). An interrupted update leaves rows above the live generation's
highest id; the next build deletes them before it starts. A full rebuild writes new
collections; collections no generation names any more are dropped by the next build.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, Callable, Collection

import numpy as np

from . import analysis, bigram_index, store
from .errors import EngineError, IndexCorruptError
from .fileutil import write_atomic
from .keyword_index import KeywordWeights
from .manifest import EngineBlock
from .query import ParsedQuery

ENGINE = "milvus"
SCHEMA_VERSION = 2  # 2: title and headings in their own BM25 field
URI_ENV = "SEARCHKIT_MILVUS_URI"  # http://host:19530 for a server or cluster, a file path for milvus-lite
INDEX_ENV = "SEARCHKIT_MILVUS_INDEX"  # vector index type: FLAT (exact, default), HNSW, IVF_FLAT, ...
LITE_FILE = "milvus.db"  # the default: a milvus-lite database inside the index folder
POINTER = "milvus.json"
KEYWORD_POINTER = f"keyword/{POINTER}"  # relative to a generation folder
VECTOR_POINTER = "vectors.milvus.json"
BATCH = 500  # rows per insert call (a 512-dim window row is ~2 KB)
MAX_BYTES = 65_535  # Milvus VARCHAR limit, in bytes
MAX_WINDOWS = 16_384  # Milvus's largest top-k
_SCORE_REPEATS = 4  # weighted terms: a word's weight in quarters, as repetitions (query tf counts linearly)
WINDOW_SPAN = 256  # window id = doc id * 256 + window (vector_index.vector_ids)
METADATA_FIELDS = ("speaker", "level", "role", "place", "meeting", "source")


def resolve_uri(index_dir: Path) -> str:
    return os.environ.get(URI_ENV) or str(Path(index_dir).resolve() / LITE_FILE)


def is_lite(uri: str) -> bool:
    """Whether `uri` is a milvus-lite database file (opened in this process)."""
    return not uri.startswith(("http://", "https://", "tcp://", "grpc://", "unix:"))


def runs_lite(uri: str) -> bool:
    """Whether the engine behind `uri` is milvus-lite, in this process or behind
    `milvus-lite server` (it says so in its version): its BM25 differs (see _search)."""
    if is_lite(uri):
        return True
    with _clients_lock:
        if uri not in _engine_versions:
            _engine_versions[uri] = str(_call("ask the version", client(uri).get_server_version))
        return _engine_versions[uri].startswith("milvus_lite")


def dictionary_words() -> list[str]:
    """The domain words jieba must keep whole (searchkit/data/userdict.txt)."""
    lines = analysis.USER_DICT.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip()]


def dictionary_hash() -> str:
    return hashlib.sha256("\n".join(dictionary_words()).encode()).hexdigest()[:16]


def analyzer_params() -> dict:
    # Milvus Lite refuses the "chinese" analyzer; jieba with our dictionary works on both.
    return {"tokenizer": {"type": "jieba", "mode": "search", "dict": ["_default_", *dictionary_words()]}}


def settings() -> dict:
    """What an index must have been built with to be searched by this code. The vector
    index type is not among them: it is the collection's own (recorded in its pointer file),
    and searches use whatever the collection has."""
    weights = KeywordWeights()
    return {"schema_version": SCHEMA_VERSION, "dictionary": dictionary_hash(),
            "words_bm25": {"k1": weights.k1, "b": weights.b},
            "bigrams": {**bigram_index.settings(), "encoding": "hex"}}


def vector_index_type() -> str:
    """The vector index type new collections get (SEARCHKIT_MILVUS_INDEX)."""
    return os.environ.get(INDEX_ENV, "FLAT").upper()


def _version() -> str:
    from importlib.metadata import version

    return f"pymilvus {version('pymilvus')}"


# -- connections -------------------------------------------------------------------------------

_clients: dict[str, Any] = {}
_lite_dictionaries: dict[str, str] = {}  # lite URI -> the dictionary hash of what it serves
_engine_versions: dict[str, str] = {}  # URI -> what the engine says it is
_clients_lock = threading.RLock()


def client(uri: str):
    """One MilvusClient per URI per process (milvus-lite lets one process open a database file)."""
    with _clients_lock:
        if uri not in _clients:
            _clients[uri] = _connect(uri)
        return _clients[uri]


def close_all() -> None:
    """Close every client this process opened (milvus-lite then stops its database server)."""
    with _clients_lock:
        for c in _clients.values():
            try:
                c.close()
            except Exception:  # closing is best effort  # noqa: S110
                pass
        _clients.clear()
        _lite_dictionaries.clear()
        _engine_versions.clear()


def _connect(uri: str):
    env = os.environ
    # gRPC's C core logs keep-alive chatter (GOAWAY "too_many_pings" from milvus-lite's
    # server) to stderr, into the CLI's output; read once, when gRPC starts. A user's own
    # GRPC_VERBOSITY wins.
    env.setdefault("GRPC_VERBOSITY", "NONE")
    from pymilvus import MilvusClient

    kwargs = {k: v for k, v in (("token", env.get("SEARCHKIT_MILVUS_TOKEN")), ("user", env.get("SEARCHKIT_MILVUS_USER")),
                                ("password", env.get("SEARCHKIT_MILVUS_PASSWORD")),
                                ("db_name", env.get("SEARCHKIT_MILVUS_DB"))) if v}
    if is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        # milvus-lite runs in this process and loads jieba, whose logger would print its
        # dictionary-loading chatter into the CLI's output.
        import logging

        logging.getLogger("jieba").setLevel(logging.WARNING)
    try:
        return MilvusClient(uri, **kwargs)
    except Exception as error:  # pymilvus raises several types; all mean "cannot use this Milvus"
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if is_lite(uri) and _lite_locked(Path(uri)):
            raise EngineError(f"the milvus-lite database {uri} is open in another process; stop it, or run "
                              f"`milvus-lite server --data-dir DIR` and set {URI_ENV}=http://127.0.0.1:19530") from error
        raise EngineError(f"cannot connect to Milvus at {uri} ({text}); check {URI_ENV} and that the server runs") from error


def _lite_locked(data_dir: Path) -> bool:
    """Whether another process holds milvus-lite's lock on a database folder (its LOCK file)."""
    import fcntl

    try:
        fd = os.open(data_dir / "LOCK", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _call(what: str, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`run(*args, **kwargs)`, with Milvus's errors turned into one-line EngineErrors."""
    try:
        return run(*args, **kwargs)
    except EngineError:
        raise
    except Exception as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise EngineError(f"Milvus refused to {what}: {first}") from error


# -- expressions -------------------------------------------------------------------------------

def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def like_pattern(text: str) -> str:
    """`text` anywhere, as a LIKE pattern (its own % and _ escaped)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filter_expression(flt) -> str | None:
    """A filters.Filter as a Milvus boolean expression over the metadata fields; None when
    some part has no Milvus form (a source glob with [classes]): the caller then filters by id."""
    clauses: list[str] = []

    def any_of(parts: list[str]) -> None:
        clauses.append("(" + " or ".join(parts) + ")")

    for values, name in ((flt.speakers, "speaker"), (flt.levels, "level")):
        if values:
            clauses.append(f"{name} in [{', '.join(quote(v) for v in values)}]")
    for values, name in ((flt.roles, "role"), (flt.places, "place"), (flt.meetings, "meeting")):
        if values:
            any_of([f"{name} like {quote(like_pattern(v))}" for v in values])
    if flt.years:
        any_of([f"(year >= {lo} and year <= {hi})" for lo, hi in flt.years])
    if flt.sources:
        if any(c in p for p in flt.sources for c in "[]"):
            return None
        patterns = []
        for p in flt.sources:  # the path itself or a folder above it (filters.source_matches)
            glob = p.rstrip("/") or "*"
            base = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%").replace("?", "_")
            patterns += [f"source like {quote(base)}", f"source like {quote(base + '/%')}"]
        any_of(patterns)
    if flt.tags:
        clauses.append(f"array_contains_any(tags, [{', '.join(quote(t) for t in flt.tags)}])")
    return " and ".join(clauses) or None


def metadata_fields(meta) -> dict[str, Any]:
    """A passage's scalar fields from its speech's metadata.SpeechMetadata ("" and -1 for unknown)."""
    row: dict[str, Any] = {name: _clip(str(getattr(meta, name, None) or ""), 1024) for name in METADATA_FIELDS}
    year = getattr(meta, "year", None)
    row["year"] = int(year) if year is not None else -1
    row["tags"] = [_clip(str(t), 256) for t in (getattr(meta, "tags", None) or ())][:64]
    return row


def _clip(text: str, limit: int = MAX_BYTES) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def squashed(text: str) -> str:
    """What verbatim checks compare: lowercased, without spaces (as Searcher._require_phrases)."""
    return "".join(text.split()).lower()


def hex_bigrams(text: str) -> str:
    """bigram_index.tokens as ASCII words for Milvus's standard tokenizer (one token each)."""
    return " ".join("g" + token.encode("utf-8").hex() for token in bigram_index.tokens(text))


# -- the pointer file: which collections a generation uses ---------------------------------------

class _Pointer:
    """`milvus.json` in a generation: URI, collection, highest doc id held, rows still to delete."""

    def __init__(self, collection: str, max_doc_id: int = 0, pending: Iterable[int] = (),
                 rows: int = 0, uri: str = ""):
        self.collection, self.max_doc_id, self.rows, self.uri = collection, max_doc_id, rows, uri
        self.pending = sorted(set(pending))

    @classmethod
    def read(cls, path: Path) -> _Pointer:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(data["collection"], data["max_doc_id"], data.get("pending_delete", ()),
                       data.get("rows", 0), data.get("uri", ""))
        except (OSError, ValueError, KeyError) as error:
            raise IndexCorruptError(Path(path).parent, f"the Milvus pointer {path} is missing or damaged") from error

    def write(self, path: Path) -> None:
        write_atomic(Path(path), json.dumps({
            "engine": ENGINE, "collection": self.collection, "max_doc_id": self.max_doc_id,
            "rows": self.rows, "pending_delete": self.pending, "uri": self.uri}, indent=1) + "\n")

    def visible(self, allowed_expression: str | None) -> str:
        """This generation's rows: not above its highest id, not deleted by it."""
        parts = [f"doc_id <= {self.max_doc_id}"]
        if self.pending:
            parts.append(f"doc_id not in [{', '.join(map(str, self.pending))}]")
        if allowed_expression:
            parts.append(f"({allowed_expression})")
        return " and ".join(parts)


def _index_dir_of(path: Path) -> Path:
    """The index folder above a generation file: <index>/<gen-…|tmp-…>/…/<file> -> <index>."""
    path = Path(path).resolve()
    for folder in path.parents:
        if folder.name.startswith(("gen-", "tmp-")):
            return folder.parent
    return path.parent.parent


def _allowed_expression(allowed: AbstractSet[int] | None) -> str | None:
    """Milvus's part of a filter: its metadata expression when the Searcher attached one
    (filters.AllowedDocs), else the ids themselves."""
    if allowed is None:
        return None
    flt = getattr(allowed, "filter", None)
    expression = filter_expression(flt) if flt is not None else None
    return expression or f"doc_id in [{', '.join(map(str, sorted(allowed)))}]"


class _Collection:
    """What both sides share: a client, a collection, a pointer, one manifest block."""

    ENGINE = ENGINE

    @staticmethod
    def engine_settings() -> dict:
        return settings()

    @classmethod
    def manifest_block(cls) -> EngineBlock:
        return EngineBlock(cls.ENGINE, _version(), cls.engine_settings())

    POINTER_NAME = POINTER

    def __init__(self, pointer_path: Path, pointer: _Pointer | None = None, uri: str | None = None):
        self.pointer_path = Path(pointer_path)
        self.uri = uri or resolve_uri(_index_dir_of(self.pointer_path))
        self.pointer = pointer or _Pointer.read(self.pointer_path)
        self._loaded = False
        self._writing = False

    def _start_writing(self) -> None:
        """A build's first write: of the previous generation's pending deletions, keep the
        ids Milvus still holds (cleanup() deletes them once no older generation sees them)."""
        if not self._writing:
            self._writing = True
            self.pointer.pending = sorted(self._still_held(self.pointer.pending))

    def _still_held(self, doc_ids: Sequence[int]) -> set[int]:
        held: set[int] = set()
        for start in range(0, len(doc_ids), 5000):
            part = doc_ids[start:start + 5000]
            rows = _call("query", self.ready().query, self.name, filter=f"doc_id in [{', '.join(map(str, part))}]",
                         output_fields=["doc_id"], consistency_level="Strong")
            held |= {int(r["doc_id"]) for r in rows}
        return held

    @property
    def client(self):
        return client(self.uri)

    @property
    def name(self) -> str:
        return self.pointer.collection

    def ready(self):
        """The client, with the collection loaded (a restarted Milvus keeps it released)."""
        c = self.client
        if not self._loaded:
            if not _call("list collections", lambda: c.has_collection(self.name)):
                raise IndexCorruptError(_index_dir_of(self.pointer_path),
                                        f"Milvus at {self.uri} has no collection {self.name} (set {URI_ENV} to "
                                        "the Milvus that holds this index)")
            self._check_dictionary(c)
            _call(f"load {self.name}", lambda: c.load_collection(self.name))
            self._loaded = True
        return c

    def _check_dictionary(self, c) -> None:
        """milvus-lite's jieba dictionary is one per process: refuse a collection made with
        another dictionary than the collections this process already serves."""
        properties = _call("describe", c.describe_collection, self.name).get("properties") or {}
        made_with = properties.get("searchkit.dictionary")
        if made_with is None or not runs_lite(self.uri):
            return
        with _clients_lock:
            serving = _lite_dictionaries.setdefault(self.uri, made_with)
        if made_with != serving:
            raise EngineError(f"the collection {self.name} was made with another jieba dictionary ({made_with}) than "
                              f"the collections this milvus-lite process serves ({serving}); run `searchkit index "
                              "--rebuild` for that index, or give it its own SEARCHKIT_MILVUS_URI")

    def _delete(self, ids: Collection[int]) -> None:
        ids = sorted(set(ids))
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            _call("delete", self.ready().delete, self.name, filter=f"doc_id in [{', '.join(map(str, part))}]")

    def count_rows(self) -> int:
        rows = _call("count rows", lambda: self.ready().query(
            self.name, filter=self.pointer.visible(None), output_fields=["count(*)"], consistency_level="Strong"))
        return int(rows[0]["count(*)"]) if rows else 0

    def finish(self) -> None:
        """After publishing: delete the rows this generation removed (idempotent)."""
        if self.pointer.pending:
            self._delete(self.pointer.pending)


def _create(c, name: str, schema, index_params) -> None:
    # Indexes made without pymilvus's wait (it polls each index every 0.5 s: 3 s per
    # collection); on an empty collection they are ready at once, and loading waits anyway.
    _call(f"create {name}", c.create_collection, name, schema=schema, consistency_level="Strong",
          properties={"searchkit.dictionary": dictionary_hash()})
    _call(f"index {name}", c.create_index, name, index_params, sync=False)
    _call(f"load {name}", c.load_collection, name)


def _metadata_schema(schema, DataType) -> None:
    for name in METADATA_FIELDS:
        schema.add_field(name, DataType.VARCHAR, max_length=1024)
    schema.add_field("year", DataType.INT64)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=64, max_length=256)


def _metadata_indexes(index_params) -> None:
    for name in ("speaker", "level", "source", "year"):
        index_params.add_index(name, index_type="INVERTED")


def _scores(hits, key: str) -> list[tuple[int, float]]:
    """(primary key, distance) of search hits; BM25 comes back as -score from milvus-lite
    and as +score from a server, cosine as is."""
    return [(int(h["entity"][key]), float(h["distance"])) for h in hits]


class MilvusKeywordIndex(_Collection):
    """The keyword backend (backends.KeywordBackend) on Milvus BM25."""

    def __init__(self, path: Path, weights: KeywordWeights | None = None, plan: str = "auto", uri: str | None = None):
        super().__init__(Path(path) / POINTER, uri=uri)
        self.weights = weights or KeywordWeights()
        self._lite = runs_lite(self.uri)
        self._stats: TermStats | None = None

    @classmethod
    def create(cls, path: Path, prefix: str | None = None, uri: str | None = None) -> MilvusKeywordIndex:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        uri = uri or resolve_uri(_index_dir_of(path / POINTER))
        name = f"{prefix or collection_prefix(_index_dir_of(path / POINTER), 0)}_passages"
        weights = KeywordWeights()
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("doc_id", DataType.INT64, is_primary=True)
        for field in ("text", "context"):  # the passage; its title and headings (as Whoosh's two fields)
            schema.add_field(field, DataType.VARCHAR, max_length=MAX_BYTES, enable_analyzer=True,
                             analyzer_params=analyzer_params())
        schema.add_field("grams", DataType.VARCHAR, max_length=MAX_BYTES, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("plain", DataType.VARCHAR, max_length=MAX_BYTES)
        schema.add_field("file_key", DataType.VARCHAR, max_length=128)
        _metadata_schema(schema, DataType)
        schema.add_field("words_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("context_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("grams_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="words_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["words_sparse"]))
        schema.add_function(Function(name="context_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["context"], output_field_names=["context_sparse"]))
        schema.add_function(Function(name="grams_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["grams"], output_field_names=["grams_sparse"]))
        index_params = MilvusClient.prepare_index_params()
        for field in ("words_sparse", "context_sparse"):
            index_params.add_index(field, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                                   params={"bm25_k1": weights.k1, "bm25_b": weights.b})
        index_params.add_index("grams_sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                               params={"bm25_k1": bigram_index.K1, "bm25_b": bigram_index.B})
        _metadata_indexes(index_params)
        _create(client(uri), name, schema, index_params)
        pointer = _Pointer(name, uri=uri)
        pointer.write(path / POINTER)
        return cls(path, uri=uri)

    # -- writing -----------------------------------------------------------------------------
    def update(self, remove: Collection[int], add: Sequence[tuple[int, str, Any]],
               progress: Callable[[int], None] | None = None,
               metadata: Mapping[int, Any] | None = None) -> None:
        """Add rows now; the removed ones are deleted after publishing (see the module doc)."""
        c = self.ready()
        self._start_writing()
        rows = [self._row(doc_id, key, chunk, (metadata or {}).get(doc_id)) for doc_id, key, chunk in add]
        for start in range(0, len(rows), BATCH):
            part = rows[start:start + BATCH]
            _call("insert passages", c.upsert, self.name, part)
            if progress:
                progress(len(part))
        self.stats.update([(r["text"], f"{r['context']}\n{r['text']}") for r in rows], self._texts(remove))
        self.stats.save()
        p = self.pointer
        p.pending = sorted((set(p.pending) | set(remove)) - {d for d, _, _ in add})
        p.max_doc_id = max([p.max_doc_id, *(d for d, _, _ in add)])
        p.rows = p.rows + len(add) - len(set(remove))
        p.write(self.pointer_path)

    def _texts(self, doc_ids: Collection[int]) -> list[tuple[str, str]]:
        """(text, title + headings + text) of stored passages, as TermStats counts them."""
        ids = sorted(set(doc_ids))
        texts: list[tuple[str, str]] = []
        for start in range(0, len(ids), 2000):
            part = ids[start:start + 2000]
            texts += [(r["text"], f"{r['context']}\n{r['text']}") for r in _call(
                "read passages", self.ready().query, self.name, filter=f"doc_id in [{', '.join(map(str, part))}]",
                output_fields=["text", "context"], consistency_level="Strong")]
        return texts

    @staticmethod
    def _row(doc_id: int, file_key: str, chunk, meta) -> dict:
        text = bigram_index.passage_text(chunk)
        return {"doc_id": doc_id, "text": _clip(chunk.text), "context": _clip("\n".join((chunk.title, *chunk.heading))),
                "grams": _clip(hex_bigrams(text)),
                "plain": _clip(squashed(chunk.text)), "file_key": file_key[:128], **metadata_fields(meta)}

    def update_metadata(self, metadata: Mapping[int, Any]) -> None:
        _partial_upsert(self, "doc_id", {d: metadata_fields(m) for d, m in metadata.items()})

    # -- reading -----------------------------------------------------------------------------
    def doc_count(self) -> int:
        return self.pointer.rows

    def _search(self, field: str, text: str, limit: int, allowed, phrases: Sequence[str] = ()) -> list[tuple[int, float]]:
        """BM25 hits of `text` in `field` among `allowed`, holding every (squashed) phrase.

        A Milvus server scores BM25 with the whole collection's statistics whatever the
        filter, so filters and phrases run inside it. milvus-lite computes them over the
        rows the filter lets through, which would change the scores (measured); there the
        search is the generation's own unfiltered one, read deeper until `limit` hits pass.
        """
        if not text.strip() or limit <= 0 or allowed is not None and not allowed:
            return []
        if not self._lite:
            required = [f"plain like {quote(like_pattern(p))}" for p in phrases]
            user = [e for e in [_allowed_expression(allowed)] if e]
            ranked = self._bm25(field, text, limit, self.pointer.visible(" and ".join(user + required) or None))
            return [(d, s) for d, s, _ in ranked if allowed is None or d in allowed]
        depth = max(limit, 1) if allowed is None and not phrases else max(limit * 4, 200)
        while True:
            ranked = self._bm25(field, text, depth, self.pointer.visible(None), with_plain=bool(phrases))
            kept = [(d, s) for d, s, plain in ranked
                    if (allowed is None or d in allowed) and all(p in plain for p in phrases)]
            if len(kept) >= limit or len(ranked) < depth or depth >= MAX_WINDOWS:
                return kept[:limit]
            depth = min(depth * 4, MAX_WINDOWS)

    def _bm25(self, field: str, text: str, limit: int, expression: str, with_plain: bool = False):
        hits = _call("search", lambda: self.ready().search(
            self.name, data=[text], anns_field=field, limit=min(limit, MAX_WINDOWS), filter=expression,
            output_fields=["doc_id", "plain"] if with_plain else ["doc_id"], search_params={"metric_type": "BM25"},
            consistency_level="Strong"))[0]
        ranked = [(int(h["entity"]["doc_id"]), abs(float(h["distance"])), h["entity"].get("plain", "")) for h in hits]
        return sorted(ranked, key=lambda x: (-x[1], x[0]))

    def search(self, parsed: ParsedQuery, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """Terms are scored by BM25 over jieba words; quoted phrases are required verbatim."""
        words = [w for piece in parsed.terms + parsed.phrases for w, _, _ in analysis.words(piece)]
        content = [w for w in words if w not in analysis.QUERY_STOPWORDS] or words
        phrases = [squashed(p) for p in parsed.phrases if squashed(p)]
        return self._words(" ".join(content), limit, allowed, phrases)

    def _words(self, text: str, limit: int, allowed, phrases: Sequence[str] = ()) -> list[tuple[int, float]]:
        """BM25 in the passage plus `weights.context` times BM25 in its title and headings
        (Whoosh's `words` and `context` fields)."""
        depth = max(limit * 3, 300)  # both lists deeper than `limit`: the sum reorders them
        words = self._search("words_sparse", text, depth, allowed, phrases)
        if not words or self.weights.context <= 0:
            return words[:limit]
        context = self._search("context_sparse", text, depth, allowed, phrases)
        total = dict(words)
        for doc_id, score in context:
            total[doc_id] = total.get(doc_id, 0.0) + self.weights.context * score
        return sorted(total.items(), key=lambda x: (-x[1], x[0]))[:limit]

    def search_weighted_terms(self, weighted: Sequence[tuple[str, float]], limit: int,
                              allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        # Milvus BM25 counts a query word as often as it is repeated: weights become repeats.
        repeated = [w for w, weight in weighted for _ in range(max(1, round(weight * _SCORE_REPEATS)))]
        return self._words(" ".join(repeated), limit, allowed)

    def search_bigrams(self, text: str, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        """bigram_index.BigramIndex.search, on Milvus (each distinct bigram once)."""
        grams = " ".join(dict.fromkeys(hex_bigrams(text).split()))
        return self._search("grams_sparse", grams, limit, allowed)

    def contains_exact(self, text: str, allowed: AbstractSet[int] | None = None) -> bool:
        if not squashed(text) or allowed is not None and not allowed:
            return False
        expression = self.pointer.visible(" and ".join(
            e for e in (_allowed_expression(allowed), f"plain like {quote(like_pattern(squashed(text)))}") if e))
        rows = _call("query", lambda: self.ready().query(self.name, filter=expression, output_fields=["doc_id"],
                                                         limit=50, consistency_level="Strong"))
        return any(allowed is None or r["doc_id"] in allowed for r in rows)

    @property
    def stats(self) -> TermStats:
        if self._stats is None:
            self._stats = TermStats(self.pointer_path.parent / TermStats.FILE)
        return self._stats

    def idf(self, words: Iterable[str]) -> dict[str, float]:
        return self.stats.idf("words", words)

    def bigram_idf(self, grams: Iterable[str]) -> dict[str, float]:
        return self.stats.idf("grams", grams)


class MilvusBigrams:
    """What the Searcher asks of bigram_index.BigramIndex, answered by the Milvus collection."""

    def __init__(self, keyword: MilvusKeywordIndex):
        self.keyword = keyword

    def search(self, text: str, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        return self.keyword.search_bigrams(text, limit, allowed)

    def idf(self, grams: Iterable[str]) -> dict[str, float]:
        return self.keyword.bigram_idf(grams)

    def doc_count(self) -> int:
        return self.keyword.doc_count()


class MilvusVectorIndex(_Collection):
    """The vector backend (backends.VectorBackend) on a Milvus collection of window vectors."""

    def __init__(self, pointer_path: Path, dimension: int, pointer: _Pointer | None = None, uri: str | None = None,
                 index_type: str = "FLAT"):
        super().__init__(pointer_path, pointer, uri)
        self.dimension = dimension
        self.index_type = index_type
        self._pending_metadata: Mapping[int, Any] = {}

    @staticmethod
    def pointer_of(path: Path) -> Path:
        """Where a generation's vector pointer lives (beside FAISS's file name)."""
        return Path(path).with_name(VECTOR_POINTER)

    @classmethod
    def create(cls, dimension: int, path: Path | None = None, prefix: str | None = None,
               uri: str | None = None) -> MilvusVectorIndex:
        from pymilvus import DataType, MilvusClient

        if path is None:
            raise EngineError("a Milvus vector index needs the generation folder it belongs to")
        pointer_path = cls.pointer_of(path)
        uri = uri or resolve_uri(_index_dir_of(pointer_path))
        name = f"{prefix or collection_prefix(_index_dir_of(pointer_path), 0)}_windows"
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        _metadata_schema(schema, DataType)
        index_params = MilvusClient.prepare_index_params()
        index_type = vector_index_type()
        index_params.add_index("vector", index_type=index_type, metric_type="IP", params=_index_build_params(index_type))
        index_params.add_index("doc_id", index_type="INVERTED")
        _metadata_indexes(index_params)
        _create(client(uri), name, schema, index_params)
        index = cls(pointer_path, dimension, _Pointer(name, uri=uri), uri, index_type)
        index.save(pointer_path)
        return index

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> MilvusVectorIndex:
        pointer_path = cls.pointer_of(path)
        data = json.loads(pointer_path.read_text(encoding="utf-8")) if pointer_path.exists() else {}
        return cls(pointer_path, int(data.get("dimension", 0)), index_type=str(data.get("index_type", "FLAT")))

    @property
    def count(self) -> int:
        return self.pointer.rows

    def with_metadata(self, metadata: Mapping[int, Any]) -> MilvusVectorIndex:
        """The speech metadata (by doc id) that `add` stores with each window."""
        self._pending_metadata = metadata
        return self

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        c = self.ready()
        self._start_writing()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), BATCH):
            rows = [{"id": int(vid), "doc_id": int(vid) // WINDOW_SPAN, "vector": vectors[start + i].tolist(),
                     **metadata_fields(self._pending_metadata.get(int(vid) // WINDOW_SPAN))}
                    for i, vid in enumerate(ids[start:start + BATCH])]
            _call("insert vectors", c.upsert, self.name, rows)
        p = self.pointer
        added_docs = {int(v) // WINDOW_SPAN for v in ids}
        p.pending = sorted(set(p.pending) - added_docs)
        p.max_doc_id = max([p.max_doc_id, *added_docs])
        p.rows += len(ids)

    def remove(self, ids: Sequence[int]) -> int:
        """Marks the windows' passages as removed; their rows go after publishing (finish())."""
        self._start_writing()
        docs = {int(v) // WINDOW_SPAN for v in ids}
        self.pointer.pending = sorted(set(self.pointer.pending) | docs)
        self.pointer.rows -= len(ids)
        return len(ids)

    def reconstruct(self, ids: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        position = {int(v): i for i, v in enumerate(ids)}
        wanted = list(position)
        for start in range(0, len(wanted), 2000):
            part = wanted[start:start + 2000]
            rows = _call("read vectors", self.ready().query, self.name,
                         filter=f"id in [{', '.join(map(str, part))}]", output_fields=["id", "vector"],
                         consistency_level="Strong")
            for row in rows:
                out[position[int(row["id"])]] = np.asarray(row["vector"], dtype=np.float32)
        return out

    def scaled(self) -> MilvusVectorIndex:
        return self  # the index type is chosen when the collection is made (SEARCHKIT_MILVUS_INDEX)

    def save(self, path: Path) -> None:
        self.pointer_path = self.pointer_of(path)
        data = {"engine": ENGINE, "collection": self.name, "max_doc_id": self.pointer.max_doc_id,
                "rows": self.pointer.rows, "pending_delete": self.pointer.pending, "uri": self.pointer.uri,
                "dimension": self.dimension, "index_type": self.index_type}
        write_atomic(self.pointer_path, json.dumps(data, indent=1) + "\n")

    def search(self, query_vector: np.ndarray, limit: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        if limit <= 0 or self.count == 0 or allowed is not None and not allowed:
            return []
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        hits = _call("search", lambda: self.ready().search(
            self.name, data=[q], anns_field="vector", limit=min(limit, MAX_WINDOWS),
            filter=self.pointer.visible(_allowed_expression(allowed)), output_fields=["id"],
            search_params={"metric_type": "IP", "params": _index_search_params(self.index_type, limit)},
            consistency_level="Strong"))[0]
        ranked = _scores(hits, "id")
        if allowed is not None:
            ranked = [(v, s) for v, s in ranked if v // WINDOW_SPAN in allowed]
        return sorted(ranked, key=lambda x: (-x[1], x[0]))

    def search_passages(self, query_vector: np.ndarray, limit: int,
                        allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
        from .vector_index import aggregate_windows

        return aggregate_windows(self.search(query_vector, min(max(limit * 20, 2000), MAX_WINDOWS), allowed))[:limit]

    def update_metadata(self, metadata: Mapping[int, Any]) -> None:
        if not metadata:
            return
        rows = _call("query", lambda: self.ready().query(
            self.name, filter=f"doc_id in [{', '.join(map(str, sorted(metadata)))}]",
            output_fields=["id", "doc_id"], consistency_level="Strong"))
        _partial_upsert(self, "id", {int(r["id"]): metadata_fields(metadata[int(r["doc_id"])]) for r in rows})


def _partial_upsert(collection: _Collection, key: str, rows: Mapping[int, Any]) -> None:
    items = [{key: k, **v} for k, v in rows.items()]
    for start in range(0, len(items), BATCH):
        part = items[start:start + BATCH]
        _call("update metadata", collection.ready().upsert, collection.name, part, partial_update=True)


def _index_build_params(index_type: str) -> dict:
    return {"HNSW": {"M": 16, "efConstruction": 200}, "IVF_FLAT": {"nlist": 1024}}.get(index_type, {})


def _index_search_params(index_type: str, limit: int) -> dict:
    # A Milvus server refuses an HNSW ef below the number of hits asked for (lite does not check).
    return {"HNSW": {"ef": max(256, min(limit, MAX_WINDOWS))}, "IVF_FLAT": {"nprobe": 32}}.get(index_type, {})


# -- term statistics kept beside the collections -------------------------------------------------

class TermStats:
    """Document frequencies of jieba words and bigrams over a generation's passages, for
    what Milvus does not expose: a pasted paragraph's key words and a question's coverage
    are weighted by idf. Kept as one small JSON (vocabulary-sized, not corpus-sized) and
    updated by difference: added passages count in, removed ones out."""

    FILE = "termstats.json"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._data: dict | None = None

    def _load(self) -> dict:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                self._data = {"passages": 0, "words": {}, "grams": {}}
        return self._data

    @staticmethod
    def terms_of(text: str, full_text: str) -> dict[str, set[str]]:
        return {"words": {w for w, _, _ in analysis.words(text)}, "grams": set(bigram_index.tokens(full_text))}

    def update(self, added: Iterable[tuple[str, str]], removed: Iterable[tuple[str, str]]) -> None:
        """Count passages in and out: (text, title + headings + text) each, the words of the
        text (as Whoosh's idf) and the bigrams of all (as bigram_index's)."""
        data = self._load()
        for texts, sign in ((added, 1), (removed, -1)):
            for text, full_text in texts:
                data["passages"] += sign
                for kind, terms in self.terms_of(text, full_text).items():
                    table = data[kind]
                    for term in terms:
                        table[term] = table.get(term, 0) + sign
                        if table[term] <= 0:
                            del table[term]

    def save(self, path: Path | None = None) -> None:
        write_atomic(Path(path or self.path), json.dumps(self._load(), ensure_ascii=False, separators=(",", ":")))

    def idf(self, kind: str, terms: Iterable[str]) -> dict[str, float]:
        data = self._load()
        n, table = max(data["passages"], 1), data[kind]
        return {t: math.log(1 + (n - table[t] + 0.5) / (table[t] + 0.5)) if table.get(t) else 0.0 for t in terms}


# -- status --------------------------------------------------------------------------------------

def describe(generation_path: Path, count: bool = True) -> dict:
    """What `searchkit status` shows of a Milvus generation: where, which collections, how
    many rows each should hold (pointer) and holds (Milvus; `count=False` skips asking)."""
    generation_path = Path(generation_path)
    uri = resolve_uri(generation_path.parent)
    collections = []
    for side, pointer_path in (("keyword", generation_path / KEYWORD_POINTER), ("vectors", generation_path / VECTOR_POINTER)):
        entry = _Collection(pointer_path, uri=uri)
        found = entry.count_rows() if count else None
        collections.append({"side": side, "name": entry.name, "rows": entry.pointer.rows, "found": found,
                            "matches": None if found is None else found == entry.pointer.rows})
    collections[1]["index_type"] = MilvusVectorIndex.load(generation_path / store.VECTORS).index_type
    return {"name": ENGINE, "uri": uri if is_lite(uri) else uri.split("@")[-1], "lite": runs_lite(uri),
            "collections": collections}


# -- keeping Milvus tidy -------------------------------------------------------------------------

LINEAGE = "milvus-lineage"  # this index folder's collection-name prefix, made once


def collection_prefix(index_dir: Path, generation_number: int) -> str:
    """`searchkit_<lineage>_g<N>`: the lineage is recorded before any collection is made, so
    the collections of an interrupted build are recognised as this index's own."""
    path = Path(index_dir) / LINEAGE
    try:
        lineage = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        lineage = ""
    if not lineage:
        lineage = secrets.token_hex(4)
        write_atomic(path, lineage + "\n")
    return f"searchkit_{lineage}_g{generation_number}"


def collections_in_use(index_dir: Path) -> dict[str, int]:
    """Collection -> the highest doc id any generation folder holds in it."""
    return {name: max(highest for _, highest in users) for name, users in _users(index_dir).items()}


def _users(index_dir: Path) -> dict[str, list[tuple[str, int]]]:
    """Collection -> (generation folder, its highest doc id) for every generation naming it."""
    users: dict[str, list[tuple[str, int]]] = {}
    for pointer in [*Path(index_dir).glob(f"gen-*/{KEYWORD_POINTER}"), *Path(index_dir).glob(f"gen-*/{VECTOR_POINTER}")]:
        try:
            p = _Pointer.read(pointer)
        except IndexCorruptError:
            continue
        generation = pointer.relative_to(index_dir).parts[0]
        users.setdefault(p.collection, []).append((generation, p.max_doc_id))
    return users


def cleanup(index_dir: Path) -> list[str]:
    """Under the build lock, with no build under way: drop this index's collections that no
    generation names (an interrupted rebuild, generations removed since); delete rows above
    the highest id any generation holds (an interrupted update); redo the live
    generation's deletions. Returns the dropped collections."""
    index_dir = Path(index_dir)
    if not (index_dir / LINEAGE).exists():
        return []  # this index never used Milvus
    lineage = (index_dir / LINEAGE).read_text(encoding="utf-8").strip()
    c = client(resolve_uri(index_dir))
    users = _users(index_dir)  # read once: no build runs under the lock meanwhile
    used = {name: max(highest for _, highest in named) for name, named in users.items()}
    dropped = []
    for name in _call("list collections", c.list_collections):
        if name.startswith(f"searchkit_{lineage}_") and name not in used:
            _call(f"drop {name}", c.drop_collection, name)
            dropped.append(name)
    for name, highest in used.items():
        if _call("list collections", c.has_collection, name):
            _call("delete", c.delete, name, filter=f"doc_id > {highest}")
    live_name = _live_name(index_dir) or "-"
    _point_aliases(c, lineage, index_dir / live_name)
    # The live generation's deletions wait until no older generation (kept for a reader
    # that still holds it) names the collection: such a reader must keep seeing its rows.
    for pointer_path in (index_dir / live_name / KEYWORD_POINTER, index_dir / live_name / VECTOR_POINTER):
        if pointer_path.exists():
            entry = _Collection(pointer_path)
            if all(generation == live_name for generation, _ in users.get(entry.name, [])):
                entry.finish()
    return dropped


def _point_aliases(c, lineage: str, live: Path) -> None:
    """`searchkit_<lineage>_passages` / `_windows`: aliases of the live collections, for
    tools outside searchkit (Attu, scripts). searchkit itself goes by the pointer files:
    an alias switch cannot be one atomic step with CURRENT and meta.sqlite."""
    for side, pointer_path in (("passages", live / KEYWORD_POINTER), ("windows", live / VECTOR_POINTER)):
        if not pointer_path.exists():
            continue
        alias, target = f"searchkit_{lineage}_{side}", _Pointer.read(pointer_path).collection
        if alias in _call("list aliases", c.list_aliases, target).get("aliases", []):
            continue
        # Asked first rather than tried: a failed alter_alias is logged by pymilvus as an
        # ERROR with a traceback, which would land in the output of every first build.
        if alias in _call("list aliases", c.list_aliases).get("aliases", []):
            _call("move alias", c.alter_alias, target, alias)
        else:
            _call("create alias", c.create_alias, target, alias)


def _live_name(index_dir: Path) -> str | None:
    try:
        return (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
