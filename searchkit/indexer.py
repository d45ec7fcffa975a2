"""Building and updating an index: scan, diff, chunk, embed, write a new generation.

Only files whose content hash is new are chunked; only passages whose embedding input is
new are embedded (vectors of unchanged passages are read back from the previous FAISS
index). Everything is written into a fresh generation that becomes live in one rename
(store.GenerationWriter), under the build lock.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import analysis, chunking, encoders, store
from .config import Settings
from .corpus import CorpusFile, Skipped, scan_corpus
from .embedding import Embedder
from .errors import CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError, SearchkitError
from .keyword_index import KeywordIndex
from .models import Chunk
from .engines import expected_blocks, manifest_blocks
from .manifest import Counts, Manifest
from .vector_index import VectorIndex, passage_windows, vector_ids

log = logging.getLogger(__name__)

# progress(phase, total) -> advance(n); the CLI passes rich progress bars, tests pass nothing.
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class IndexReport:
    index_dir: Path
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_reused: int = 0
    windows_embedded: int = 0  # texts sent to the model (each passage is several windows)
    chunks_total: int = 0
    speeches_total: int = 0
    generation: int | None = None
    rebuilt: bool = False
    rebuild_reason: str = ""
    up_to_date: bool = False
    seconds: float = 0.0


def build_index(settings: Settings, embedder: Embedder | None = None, rebuild: bool = False,
                progress: Progress | None = None, strict: bool = False) -> IndexReport:
    started = time.perf_counter()
    index_dir = Path(settings.index_dir)
    report = IndexReport(index_dir=index_dir)
    files, skipped = scan_corpus(settings.corpus_dir)
    report.skipped.extend(skipped)
    name = embedder.name if embedder is not None else settings.model
    with store.build_lock(index_dir):
        store.remove_stale(index_dir)
        previous, report.rebuild_reason = _usable_previous(index_dir, settings, name, rebuild)
        report.rebuilt = previous is None
        donor = None if previous or rebuild else _vector_donor(index_dir, settings, name)
        work_dir = index_dir / f"tmp-encoder-{os.getpid()}"  # a tmp-* name: remove_stale clears leftovers

        def provide_encoder() -> encoders.BuildEncoder:  # called only once there is work to do
            return encoders.for_build(settings, previous or donor, work_dir, embedder)

        try:
            _update(settings, provide_encoder, files, previous, report, progress, strict, donor)
        except OSError as error:
            raise store.write_error(error, index_dir) from error
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        store.remove_stale(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _usable_previous(index_dir: Path, settings: Settings, embedder_name: str, rebuild: bool):
    """The live generation if an update can start from it, else (None, why not)."""
    if rebuild:
        return None, "--rebuild"
    try:
        generation = store.open_generation(index_dir, verify=False)
        store.verify_files(generation, index_dir, full=True)  # a build may take its time to be sure
        store.check_compatible(generation.manifest, expected_blocks(settings, embedder_name, settings.precision), index_dir)
    except (IndexMismatchError, IndexCorruptError) as error:
        return None, error.rebuild_reason
    except IndexMissingError:
        return None, "no index yet"
    return generation, ""


def _vector_donor(index_dir: Path, settings: Settings, embedder_name: str):
    """A live generation whose vectors can be reused although it cannot be updated in place
    (e.g. only the chunking or tokenizer settings changed): same model, same windows."""
    try:
        generation = store.open_generation(index_dir, verify=False)
        store.verify_files(generation, index_dir, full=True)  # a build may take its time to be sure
        store.check_compatible(generation.manifest, {"model": expected_blocks(settings, embedder_name, settings.precision)["model"]},
                               index_dir)
    except SearchkitError:
        return None
    return generation


def _update(settings, provide_encoder, files, previous, report, progress, strict, donor=None):
    index_dir = Path(settings.index_dir)
    old_meta = store.MetaStore(previous.meta_path, readonly=True) if previous else None
    old_sources = {s: key for s, key, _size, _n in old_meta.files()} if old_meta else {}
    old_keys = set(old_sources.values())

    # Content known to be unusable (recorded by the previous build) is skipped again
    # without reading, and does not by itself make the index out of date.
    known_bad = {entry["file_key"]: entry["reason"] for entry in (previous.manifest.skipped if previous else [])}
    canonical: dict[str, CorpusFile] = {}  # one file_key is chunked once, under its first name
    for f in files:
        canonical.setdefault(f.file_key, f)
    new_keys = [k for k in canonical if k not in old_keys and k not in known_bad]

    # Chunk new content.
    new_chunks: list[tuple[str, Chunk]] = []
    speeches_of: dict[str, int] = {}
    bad = {k: known_bad[k] for k in canonical if k in known_bad}
    advance = progress("chunking", len(new_keys)) if progress and new_keys else None
    for key in new_keys:
        f = canonical[key]
        try:
            chunks = chunking.chunk_file(f.path, settings.corpus_dir, settings.chunking)
        except CorpusError as error:
            bad[key] = str(error)
            chunks = []
        if not chunks and key not in bad:
            bad[key] = "no text to index (empty or whitespace only)"
        speeches_of[key] = len({c.speech_index for c in chunks})
        new_chunks += [(key, c) for c in chunks]
        if advance:
            advance(1)
    # Every name of unusable content is reported skipped, and none counts as added.
    report.skipped += [Skipped(f.source, bad[f.file_key]) for f in files if f.file_key in bad]
    usable = [f for f in files if f.file_key not in bad]
    current_sources = {f.source: f.file_key for f in usable}
    for f in usable:
        if f.source not in old_sources:
            report.added.append(f.source)
        elif old_sources[f.source] != f.file_key:
            report.changed.append(f.source)
        else:
            report.unchanged.append(f.source)
    report.removed = sorted(set(old_sources) - set(current_sources))
    gone_keys = sorted(old_keys - set(current_sources.values()))
    skipped_entries = [{"source": f.source, "file_key": f.file_key, "reason": bad[f.file_key]}
                       for f in files if f.file_key in bad]

    if (previous is not None and not new_chunks and not gone_keys and current_sources == old_sources
            and skipped_entries == previous.manifest.skipped):
        report.up_to_date = True
        report.generation = previous.number
        report.chunks_total = previous.manifest.counts.chunks
        report.speeches_total = previous.manifest.counts.speeches
        old_meta.close()
        return

    if strict and report.skipped:
        first = report.skipped[0]
        raise CorpusError(f"{first.source}: {first.reason} (--strict makes skipped files fatal)")
    # Keys whose files were all skipped must not stay in the files table.
    indexed_keys = {key for key, _ in new_chunks} | (old_keys - set(gone_keys))
    if old_meta:
        for source, key, _size, n in old_meta.files():
            speeches_of.setdefault(key, n)

    # Embed what is new; reuse the vectors of passages whose text is unchanged.
    built = provide_encoder()
    embedder = built.embedder
    source = previous or donor
    old_vectors = VectorIndex.load(source.vectors_path, mmap=False) if source else None
    if previous:
        reusable = old_meta.embed_keys()
    elif donor:
        donor_meta = store.MetaStore(donor.meta_path, readonly=True)
        reusable = donor_meta.embed_keys()
        donor_meta.close()
    else:
        reusable = {}
    next_id = previous.manifest.next_doc_id if previous else 1
    rows: list[tuple[int, str, Chunk, str]] = []
    new_ids: list[int] = []
    new_texts: list[str] = []
    reused_ids: list[int] = []
    reused_from: list[int] = []
    for key, chunk in new_chunks:
        windows = passage_windows(chunk.text)
        embed_key = hashlib.sha256("\n".join([embedder.name, *(w for _, w in windows)]).encode()).hexdigest()
        rows.append((next_id, key, chunk, embed_key))
        local = [i for i, _ in windows]
        if embed_key in reusable and old_vectors is not None:
            reused_ids += vector_ids(next_id, local)
            reused_from += vector_ids(reusable[embed_key], local)
            report.chunks_reused += 1
        else:
            new_ids += vector_ids(next_id, local)
            new_texts += [w for _, w in windows]
            report.chunks_embedded += 1
        next_id += 1
    # Short passages give the same window at both sizes: embed each distinct text once.
    unique = list(dict.fromkeys(new_texts))
    report.windows_embedded = len(unique)
    reused = old_vectors.reconstruct(reused_from) if reused_from else None

    # Write the new generation. An update cuts its few new passages with the previous
    # generation's jieba table read on demand (identical cuts, no 1 s dictionary load).
    lexicon = None
    if previous is not None and (previous.path / store.LEXICON).exists():
        lexicon = analysis.activate(analysis.Lexicon.open(previous.path / store.LEXICON))
    writer = store.GenerationWriter(index_dir, previous)
    embedding = None
    try:
        # The model (native code that releases the GIL) embeds in a worker thread while this
        # thread writes the metadata and the keyword index (Python): they overlap, not add up.
        if unique:
            embedding = _BackgroundEncode(embedder, unique, progress("embedding", len(unique)) if progress else None)
        if previous:
            writer.seed_from_previous()
            keyword = KeywordIndex(writer.tmp / store.KEYWORD_DIR)
        else:
            keyword = KeywordIndex.create(writer.tmp / store.KEYWORD_DIR)
        meta = store.MetaStore(writer.tmp / store.META)
        removed_docs = meta.chunks(meta.doc_ids_of_files(gone_keys))
        meta.delete_files(gone_keys)
        meta.add_chunks(rows)
        meta.replace_files([(f.source, f.file_key, f.size, speeches_of.get(f.file_key, 0))
                            for f in files if f.file_key in indexed_keys])
        meta.commit()
        counts = meta.counts()
        meta.close()

        advance = progress("keyword index", len(rows)) if progress and rows else None
        keyword.update(list(removed_docs), [(doc_id, key, chunk) for doc_id, key, chunk, _ in rows], progress=advance)

        embedded = None
        if embedding is not None:
            unique_vectors = embedding.result()
            position = {text: i for i, text in enumerate(unique)}
            embedded = unique_vectors[[position[t] for t in new_texts]]
        vector_index = old_vectors if previous is not None else VectorIndex.create(
            embedded.shape[1] if embedded is not None else reused.shape[1] if reused is not None
            else embedder.dimension)
        vector_index.remove([vid for doc_id, chunk in removed_docs.items()
                             for vid in vector_ids(doc_id, [i for i, _ in passage_windows(chunk.text)])])
        if embedded is not None:
            vector_index.add(new_ids, embedded)
        if reused is not None:
            vector_index.add(reused_ids, reused)
        vector_index = vector_index.scaled()
        vector_index.save(writer.tmp / store.VECTORS)

        if not (writer.tmp / store.LEXICON).exists():
            analysis.write_lexicon(writer.tmp / store.LEXICON)
        encoder = encoders.provide_query_encoder(settings, built, writer.tmp)
        report.chunks_total, report.speeches_total = counts
        manifest = Manifest(
            **manifest_blocks(settings, embedder.name, vector_index.dimension),
            counts=Counts(files=len([f for f in files if f.file_key in indexed_keys]),
                          unique_files=len(indexed_keys), speeches=counts[1], chunks=counts[0]),
            next_doc_id=next_id,
            skipped=skipped_entries,
            corpus_dir=str(Path(settings.corpus_dir).resolve()),
            encoder=encoder,
        )
        generation = writer.publish(manifest)
    except BaseException:
        if embedding is not None:
            embedding.cancel()  # stops at the end of the batch under way
        writer.discard()
        raise
    finally:
        if old_meta:
            old_meta.close()
        if lexicon is not None:
            analysis.deactivate(lexicon)
    report.generation = generation.number


class _EncodeCancelled(Exception):
    pass


class _BackgroundEncode:
    """`embedder.encode(texts)` in a worker thread; `result()` waits for it and re-raises
    its error; `cancel()` makes it stop after the current batch and waits for that."""

    def __init__(self, embedder: Embedder, texts: list[str], advance: Callable[[int], None] | None):
        import threading

        self._cancelled = threading.Event()
        self._vectors: np.ndarray | None = None
        self._error: BaseException | None = None

        def tick(n: int) -> None:
            if self._cancelled.is_set():
                raise _EncodeCancelled()
            if advance:
                advance(n)

        def run() -> None:
            try:
                self._vectors = embedder.encode(texts, progress=tick)
            except BaseException as error:  # handed to the main thread by result()
                self._error = error

        self._thread = threading.Thread(target=run, name="searchkit-embed", daemon=True)
        self._thread.start()

    def result(self) -> np.ndarray:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._vectors  # type: ignore[return-value]

    def cancel(self) -> None:
        self._cancelled.set()
        self._thread.join()
