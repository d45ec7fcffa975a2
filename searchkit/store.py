"""The on-disk index: generations, the manifest, the metadata database, and the build lock.

Layout of an index folder:
    CURRENT           names the live generation ("gen-000007"); replaced atomically
    .lock             held (flock) by the one process building; records its pid
    gen-000007/       one complete, consistent index:
        manifest.json   settings, counts, and size + sha256 of every file below
        keyword/        Whoosh index
        vectors.faiss   FAISS index (ids = doc ids of the keyword index and meta.sqlite)
        meta.sqlite     passages and the corpus files they came from
    encoder/<key>/    the query-time ONNX encoder for a model (shared by generations)
    tmp-*/            a generation being written; removed if its builder died

A build writes a whole new generation into tmp-*, fsyncs it, renames it to gen-N and only
then points CURRENT at it, so readers always see one complete generation and a killed
build leaves the previous one untouched. The previous generation is kept one build longer
so that searches which opened it just before the switch can finish.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, IndexWriteError
from .fileutil import fsync_dir, fsync_tree, link_or_copy_tree, sha256_file, write_atomic
from .filters import SPEECHES_DDL, Filter, metadata_from_row, register_functions, speech_row
from .manifest import FORMAT_VERSION, Manifest, flatten, now_iso
from .metadata import SpeechMetadata
from .models import Chunk

CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
KEYWORD_DIR = "keyword"
VECTORS = "vectors.faiss"
META = "meta.sqlite"
BIGRAMS_DIR = "bigrams"  # the keyword side's bigram BM25 matrix (bigram_index.py)
LEXICON = "lexicon.sqlite"  # jieba's word table for fast query-time cutting (analysis.LexiconFreq)
# On load, files up to this size are sha256-checked and larger ones by size: hashing the
# 10 MB vector file and the 95 MB model on every query would cost more than the query.
# `searchkit status --verify` and every build check the hash of every file.
FULL_HASH_LIMIT = 4 * 1024 * 1024






def write_error(error: OSError, where: Path) -> IndexWriteError:
    """The typed error for an OSError met while writing the index at `where`."""
    if error.errno == errno.ENOSPC:
        reason = f"the disk is full while writing the index at {where}; free some space and run `searchkit index` again"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = f"cannot write the index at {where} (permission denied or read-only); choose another folder with --index"
    else:
        reason = f"cannot write the index at {where}: {error.strerror or error}; fix that and run `searchkit index` again"
    return IndexWriteError(where, error.errno, reason)


# -- generations -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Generation:
    path: Path
    manifest: Manifest

    @property
    def number(self) -> int:
        return self.manifest.generation

    @property
    def keyword_dir(self) -> Path:
        return self.path / KEYWORD_DIR

    @property
    def vectors_path(self) -> Path:
        return self.path / VECTORS

    @property
    def meta_path(self) -> Path:
        return self.path / META


def current_generation_name(index_dir: Path) -> str | None:
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise IndexCorruptError(index_dir, f"cannot read {Path(index_dir) / CURRENT}: {error.strerror}") from error
    return name or None


def open_generation(index_dir: Path, verify: bool = True) -> Generation:
    """The live generation, checked against its manifest. Raises a one-line SearchkitError."""
    index_dir = Path(index_dir)
    name = current_generation_name(index_dir)
    if name is None:
        raise IndexMissingError(index_dir)
    path = index_dir / name
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError as error:
        raise IndexCorruptError(index_dir, f"the index at {index_dir} is damaged ({name}/{MANIFEST} is missing)") from error
    except (OSError, ValueError) as error:
        raise IndexCorruptError(index_dir, f"the index at {index_dir} is damaged ({name}/{MANIFEST} is unreadable)") from error
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(index_dir, "format", "format_version", data.get("format_version"), FORMAT_VERSION)
    try:
        manifest = Manifest.from_dict(data)
    except (TypeError, ValueError) as error:
        raise IndexCorruptError(index_dir, f"the index at {index_dir} is damaged ({name}/{MANIFEST} is not a "
                                "searchkit manifest)") from error
    generation = Generation(path, manifest)
    if verify:
        verify_files(generation, index_dir)
    return generation


def verify_files(generation: Generation, index_dir: Path, full: bool | None = None) -> None:
    files = generation.manifest.files
    for rel, info in files.items():
        path = generation.path / rel
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise IndexCorruptError(index_dir, f"the index at {index_dir} is damaged ({rel} is missing)") from None
        hash_it = size <= FULL_HASH_LIMIT if full is None else full
        if size != info["size"] or (hash_it and sha256_file(path) != info["sha256"]):
            raise IndexCorruptError(index_dir, f"the index at {index_dir} is damaged ({rel} was truncated or altered)")


def check_compatible(manifest: Manifest, expected: dict[str, dict], index_dir: Path) -> None:
    """`expected` holds the running configuration's blocks (engines.expected_blocks); every
    setting it names must be the same in the index, nested settings compared one by one."""
    for block, wanted in expected.items():
        have = flatten(manifest.block(block))
        for key, value in sorted(flatten(wanted).items()):
            if have.get(key) != value:
                raise IndexMismatchError(index_dir, block, key, have.get(key), value)


def file_table(root: Path, previous: Generation | None = None) -> dict:
    """Size and sha256 of every file below `root`, keyed by relative path (for the manifest).

    A file hard-linked from the previous generation (same inode) is the same, write-once
    file, already verified at the start of the build: its recorded hash is reused rather
    than reading it again (the 95 MB model would cost ~0.2 s per update).
    """
    known = previous.manifest.files if previous else {}
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel == MANIFEST:
                continue
            st = path.stat()
            old = previous.path / rel if previous else None
            if rel in known and old is not None and old.exists() and os.path.samefile(old, path) \
                    and known[rel]["size"] == st.st_size:
                out[rel] = dict(known[rel])
            else:
                out[rel] = {"size": st.st_size, "sha256": sha256_file(path)}
    return out


class GenerationWriter:
    """Writes one new generation into a temp folder and publishes it atomically."""

    def __init__(self, index_dir: Path, previous: Generation | None):
        self.index_dir = Path(index_dir)
        self.previous = previous
        self.number = (previous.number if previous else _highest_generation(self.index_dir)) + 1
        self.tmp = self.index_dir / f"tmp-{self.number:06d}-{os.getpid()}"
        self.tmp.mkdir(parents=True)

    def seed_all_from_previous(self) -> None:
        """Every file of the previous generation but its manifest, hard-linked (write-once),
        meta.sqlite copied (it is rewritten): a metadata-only update."""
        assert self.previous is not None
        for item in self.previous.path.iterdir():
            if item.name in (MANIFEST, META):
                continue
            if item.is_dir():
                link_or_copy_tree(item, self.tmp / item.name)
            else:
                try:
                    os.link(item, self.tmp / item.name)
                except OSError:
                    shutil.copy2(item, self.tmp / item.name)
        shutil.copy2(self.previous.meta_path, self.tmp / META)

    def seed_from_previous(self) -> None:
        """Start from the previous generation's files: hard links where possible (Whoosh
        writes new segment files and never edits old ones), copies otherwise."""
        assert self.previous is not None
        link_or_copy_tree(self.previous.keyword_dir, self.tmp / KEYWORD_DIR)
        shutil.copy2(self.previous.meta_path, self.tmp / META)
        if (self.previous.path / LEXICON).exists():  # same analysis settings, or no previous
            os.link(self.previous.path / LEXICON, self.tmp / LEXICON)

    def publish(self, manifest: Manifest) -> Generation:
        manifest.generation, manifest.files = self.number, file_table(self.tmp, self.previous)
        (self.tmp / MANIFEST).write_text(json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        fsync_tree(self.tmp)
        final = self.index_dir / f"gen-{self.number:06d}"
        os.rename(self.tmp, final)
        fsync_dir(self.index_dir)
        write_atomic(self.index_dir / CURRENT, final.name + "\n")
        return Generation(final, manifest)

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _highest_generation(index_dir: Path) -> int:
    numbers = [int(p.name[4:]) for p in Path(index_dir).glob("gen-*") if p.name[4:].isdigit()]
    return max(numbers, default=0)



def remove_stale(index_dir: Path) -> list[str]:
    """Delete half-written generations and all but the live and the previous generation,
    except generations a reader still holds (see Lease).

    Called only while holding the build lock, so no other builder is writing.
    """
    index_dir = Path(index_dir)
    live = current_generation_name(index_dir)
    removed = []
    for tmp in index_dir.glob("tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp.name)
    for stray in index_dir.glob(f".{CURRENT}.*.tmp"):
        stray.unlink(missing_ok=True)
    gens = sorted(p.name for p in index_dir.glob("gen-*") if p.is_dir())
    keep = {live}
    if live in gens:
        older = [g for g in gens if g < live]
        if older:
            keep.add(older[-1])
    for name in gens:
        if name not in keep and _remove_unless_leased(index_dir, name):
            removed.append(name)
    return removed


# -- readers' leases ----------------------------------------------------------------------------
# A reader (Searcher) holds a shared flock on .readers/<generation> while it uses that
# generation; remove_stale deletes a generation only after taking the same lock
# exclusively, so a long-lived reader never loses its files. The kernel drops the lock of a
# reader that dies.

READERS = ".readers"


class Lease:
    """A reader's shared lock on one generation; `release()` (or process exit) ends it."""

    def __init__(self, index_dir: Path, name: str):
        self._fd: int | None = None
        folder = Path(index_dir) / READERS
        try:
            folder.mkdir(exist_ok=True)
            fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only index folder: nobody can delete anything under us either
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # a builder holds it exclusively only while deleting
        except OSError:
            os.close(fd)
            return
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _remove_unless_leased(index_dir: Path, name: str) -> bool:
    lease_path = index_dir / READERS / name
    try:
        fd = os.open(lease_path, os.O_RDWR)
    except FileNotFoundError:
        shutil.rmtree(index_dir / name, ignore_errors=True)
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # in use: a later build removes it
        shutil.rmtree(index_dir / name, ignore_errors=True)
        lease_path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


# -- the build lock -------------------------------------------------------------------------

@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One builder per index folder. flock is released by the kernel if the holder dies,
    so a killed build never leaves a stale lock behind."""
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise write_error(error, index_dir) from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise IndexLockedError(index_dir, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} (since {now_iso()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


# -- metadata database ------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    doc_id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL,
    file_key TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    speech_index INTEGER NOT NULL,
    position INTEGER NOT NULL,
    embed_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_key);
CREATE INDEX IF NOT EXISTS chunks_embed ON chunks(embed_key);
CREATE INDEX IF NOT EXISTS chunks_speech ON chunks(file_key, speech_index);  -- a speech's passages (filters)
-- What extraction found per speech (speech_meta.to_json), apart from the sidecar's overrides.
CREATE TABLE IF NOT EXISTS extracted (
    speech_key TEXT PRIMARY KEY,
    file_key TEXT NOT NULL,
    speech_index INTEGER NOT NULL,
    meta_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS extracted_file ON extracted(file_key);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,
    file_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    speeches INTEGER NOT NULL
);
"""


def speech_key(file_key: str, speech_index: int) -> str:
    """How a passage (chunks: file_key, speech_index) finds its row in `speeches`."""
    return f"{file_key}#{speech_index}"


class MetaStore:
    """Passages and corpus files of one generation, in SQLite (fast lookups by doc id)."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        # One connection that any thread may use (a long-lived reader answers from several),
        # each statement run and fetched under one lock.
        self._lock = threading.Lock()
        if readonly:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(self.path, check_same_thread=False)
            self.db.executescript(SCHEMA + SPEECHES_DDL)
        register_functions(self.db)  # Filter.to_sql's --source glob

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def close(self) -> None:
        self.db.close()

    # writing
    def delete_files(self, file_keys: Iterable[str]) -> None:
        keys = [(key,) for key in file_keys]
        self.db.executemany("DELETE FROM chunks WHERE file_key=?", keys)
        self.db.executemany("DELETE FROM extracted WHERE file_key=?", keys)

    def add_extracted(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """(file key, speech index, speech_meta.to_json) of newly read content."""
        self.db.executemany("INSERT OR REPLACE INTO extracted VALUES (?,?,?,?)",
                            [(speech_key(key, index), key, index, meta) for key, index, meta in rows])

    def extracted(self) -> list[tuple[str, int, str]]:
        return self._rows("SELECT file_key, speech_index, meta_json FROM extracted ORDER BY file_key, speech_index")

    def replace_speeches(self, rows: Iterable[tuple[str, int, SpeechMetadata]]) -> None:
        """The whole `speeches` table from (file key, speech index, final metadata)."""
        self.db.execute("DELETE FROM speeches")
        columns = ("speech_key", "source", "speech_index", "title", "speaker", "role", "level", "place",
                   "meeting", "date", "year", "tags_json", "folder")
        self.db.executemany(
            f"INSERT INTO speeches ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
            [speech_row(meta, index, speech_key(key, index)) for key, index, meta in rows])

    def add_chunks(self, rows: Iterable[tuple[int, str, Chunk, str]]) -> None:
        self.db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(doc_id, c.chunk_id, key, c.source, c.title, json.dumps(list(c.heading), ensure_ascii=False),
              c.text, c.speech_index, c.position, embed_key) for doc_id, key, c, embed_key in rows])

    def rename_source(self, file_key: str, source: str) -> None:
        """Give the passages of one content another file name (source and chunk id prefix)."""
        self.db.execute("UPDATE chunks SET chunk_id = ? || substr(chunk_id, length(source) + 1), source = ? "
                        "WHERE file_key = ?", (source, source, file_key))

    def replace_files(self, files: Iterable[tuple[str, str, int, int]]) -> None:
        self.db.execute("DELETE FROM files")
        self.db.executemany("INSERT INTO files VALUES (?,?,?,?)", list(files))

    def commit(self) -> None:
        self.db.commit()

    # reading
    def doc_ids_of_files(self, file_keys: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for key in file_keys:
            ids += [r[0] for r in self._rows("SELECT doc_id FROM chunks WHERE file_key=?", (key,))]
        return ids

    def chunks(self, doc_ids: Iterable[int]) -> dict[int, Chunk]:
        ids = list(doc_ids)
        out: dict[int, Chunk] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in self._rows(
                    f"SELECT doc_id, chunk_id, source, title, heading, text, speech_index, position "
                    f"FROM chunks WHERE doc_id IN ({marks})", part):
                out[row[0]] = Chunk(chunk_id=row[1], source=row[2], title=row[3], heading=tuple(json.loads(row[4])),
                                    text=row[5], speech_index=row[6], position=row[7])
        return out

    def embed_keys(self) -> dict[str, int]:
        return {key: doc_id for doc_id, key in self._rows("SELECT doc_id, embed_key FROM chunks")}

    def file_keys_of_chunks(self, doc_ids: Iterable[int]) -> dict[int, str]:
        ids = list(doc_ids)
        marks = ",".join("?" * len(ids))
        return dict(self._rows(f"SELECT doc_id, file_key FROM chunks WHERE doc_id IN ({marks})", ids))

    def files(self) -> list[tuple[str, str, int, int]]:
        return self._rows("SELECT source, file_key, size, speeches FROM files ORDER BY source")

    def source_of_file_keys(self) -> dict[str, str]:
        """file key -> the file name its passages carry."""
        return dict(self._rows("SELECT DISTINCT file_key, source FROM chunks"))

    def sources_by_file_key(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for source, key, _size, _n in self.files():
            out.setdefault(key, []).append(source)
        return out

    def all_doc_ids(self) -> list[int]:
        return [r[0] for r in self._rows("SELECT doc_id FROM chunks ORDER BY doc_id")]

    def speeches_of(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], SpeechMetadata]:
        """(file key, speech index) -> the speech's metadata, for the pairs asked."""
        wanted = list(dict.fromkeys(speech_key(k, i) for k, i in keys))
        out: dict[tuple[str, int], SpeechMetadata] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            with self._lock:
                cursor = self.db.execute(f"SELECT * FROM speeches WHERE speech_key IN ({','.join('?' * len(part))})", part)
                names = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
            for row in rows:
                record = dict(zip(names, row, strict=True))
                file_key = record["speech_key"].rsplit("#", 1)[0]
                out[(file_key, record["speech_index"])] = metadata_from_row(record)
        return out

    def speeches(self, flt: Filter | None = None) -> list[tuple[SpeechMetadata, int, int]]:
        """(metadata, speech index, passages) of every speech the filter lets through, by source."""
        where, params = (flt or Filter()).to_sql("s")
        with self._lock:
            cursor = self.db.execute(
                "SELECT s.*, COALESCE(p.n, 0) AS passages FROM speeches s LEFT JOIN "
                "(SELECT file_key || '#' || speech_index AS k, COUNT(*) AS n FROM chunks "
                f"GROUP BY file_key, speech_index) p ON p.k = s.speech_key WHERE {where} "
                "ORDER BY s.source, s.speech_index", params)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        records = [dict(zip(names, row, strict=True)) for row in rows]
        return [(metadata_from_row(r), r["speech_index"], r["passages"]) for r in records]

    def allowed_doc_ids(self, flt: Filter) -> set[int]:
        """The passages of the speeches a filter lets through: computed once per query and
        handed to every side of the search before its top-k."""
        where, params = flt.to_sql("s")
        # CROSS JOIN: SQLite then loops over the (few) matching speeches and finds their
        # passages by the chunks_file index, instead of visiting every passage.
        rows = self._rows("SELECT c.doc_id FROM speeches s CROSS JOIN chunks c "
                          "ON c.file_key = substr(s.speech_key, 1, instr(s.speech_key, '#') - 1) "
                          f"AND c.speech_index = s.speech_index WHERE {where}", params)
        return {r[0] for r in rows}

    def counts(self) -> tuple[int, int]:
        """(passages, speeches) held."""
        return self._rows("SELECT COUNT(*), COUNT(DISTINCT file_key || ':' || speech_index) FROM chunks")[0]
