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

from . import analysis, bigram_index, chunking, documents, encoders, speech_meta, store
from .config import Settings
from .corpus import CorpusFile, Skipped, scan_corpus
from .embedding import Embedder
from .engines import backend_of, build_backend, engines, expected_blocks, manifest_blocks
from .errors import CorpusError, IndexCorruptError, IndexMismatchError, IndexMissingError, SearchkitError
from .manifest import Counts, Manifest, now_iso
from .models import Chunk
from .sidecar import SIDECAR_NAME, Sidecar, sidecar_of
from .vector_index import passage_windows, vector_ids

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
    # What reading noticed and left out on purpose (a second copy of a report in one file…)
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The `searchkit index --json` object (README), also the server's update report."""
        return {
            "index": str(self.index_dir), "generation": self.generation, "up_to_date": self.up_to_date,
            "rebuilt": self.rebuilt, "added": self.added, "changed": self.changed, "removed": self.removed,
            "unchanged": self.unchanged, "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "notices": self.notices,
            "chunks_embedded": self.chunks_embedded, "windows_embedded": self.windows_embedded,
            "chunks_reused": self.chunks_reused,
            "chunks": self.chunks_total, "speeches": self.speeches_total, "seconds": round(self.seconds, 3),
        }


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
        _tidy_engine(index_dir)
        settings = settings.with_(backend=build_backend(settings, _live_manifest(index_dir)))
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
        _tidy_engine(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _live_manifest(index_dir: Path) -> Manifest | None:
    try:
        return store.open_generation(index_dir, verify=False).manifest
    except SearchkitError:
        return None


def _tidy_engine(index_dir: Path) -> None:
    """Milvus keeps state outside the index folder: drop what no generation uses any more,
    finish the live generation's deletions (milvus_backend.cleanup)."""
    from .milvus_backend import LINEAGE, cleanup

    if (index_dir / LINEAGE).exists():
        cleanup(index_dir)


def _usable_previous(index_dir: Path, settings: Settings, embedder_name: str, rebuild: bool):
    """The live generation if an update can start from it, else (None, why not)."""
    if rebuild:
        return None, "--rebuild"
    try:
        generation = store.open_generation(index_dir, verify=False)
        store.verify_files(generation, index_dir, full=True)  # a build may take its time to be sure
        if backend_of(generation.manifest) != settings.backend:
            return None, f"the backend changed ({backend_of(generation.manifest)} -> {settings.backend})"
        store.check_compatible(generation.manifest, expected_blocks(settings, embedder_name, settings.precision,
                                                                    settings.backend), index_dir)
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


# -- the plan: what changes, decided before anything is written --------------------------------

@dataclass
class Previous:
    """What a build needs to know of the generation it updates (empty for a full build)."""

    sources: dict[str, str] = field(default_factory=dict)  # file name -> file key
    speeches: dict[str, int] = field(default_factory=dict)  # file key -> speeches in it
    names: dict[str, str] = field(default_factory=dict)  # file key -> the name its passages carry
    known_bad: dict[str, str] = field(default_factory=dict)  # file key -> why it was skipped
    skipped: list[dict] = field(default_factory=list)
    next_doc_id: int = 1

    @classmethod
    def of(cls, generation) -> Previous:
        if generation is None:
            return cls()
        meta = store.MetaStore(generation.meta_path, readonly=True)
        try:
            files, names = meta.files(), meta.source_of_file_keys()
        finally:
            meta.close()
        m = generation.manifest
        return cls({s: k for s, k, _size, _n in files}, {k: n for _s, k, _size, n in files}, names,
                   {e["file_key"]: e["reason"] for e in m.skipped}, m.skipped, m.next_doc_id)


@dataclass
class Plan:
    """What a build does, from the corpus scan, the previous generation and the chunks of
    new content: pure data, computed before anything is written."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[Skipped]
    skipped_entries: list[dict]  # the manifest's record of them
    new_chunks: list[tuple[str, Chunk]]  # (file key, passage) to add
    gone_keys: list[str]  # content no file holds any more
    renamed: dict[str, str]  # file key -> its new name (the old first name is gone)
    files: list[CorpusFile]  # the files of the new generation
    speeches: dict[str, int]
    up_to_date: bool
    # (file key, speech index, extracted metadata as JSON) of the new content
    extracted: list[tuple[str, int, str]] = field(default_factory=list)
    sidecar: Sidecar = field(default_factory=Sidecar)


def canonical_files(files: list[CorpusFile]) -> dict[str, CorpusFile]:
    """One file per content: its first name in sorted order (content is chunked once)."""
    canonical: dict[str, CorpusFile] = {}
    for f in files:
        canonical.setdefault(f.file_key, f)
    return canonical


def plan_update(files: list[CorpusFile], previous: Previous, new_chunks: list[tuple[str, Chunk]],
                bad: dict[str, str], speeches: dict[str, int], has_previous: bool) -> Plan:
    """The plan, given the chunks of the new content and which content is unusable (`bad`)."""
    skipped = [Skipped(f.source, bad[f.file_key]) for f in files if f.file_key in bad]
    usable = [f for f in files if f.file_key not in bad]  # every name of unusable content is skipped
    current = {f.source: f.file_key for f in usable}
    old = previous.sources
    gone_keys = sorted(set(old.values()) - set(current.values()))
    indexed = {key for key, _ in new_chunks} | (set(old.values()) - set(gone_keys))
    # A passage carries the first name of its content; if that file went away, the first
    # surviving name takes over (the same name a fresh full build would give it).
    renamed = {key: f.source for key, f in canonical_files(usable).items()
               if key in previous.names and previous.names[key] != f.source}
    skipped_entries = [{"source": f.source, "file_key": f.file_key, "reason": bad[f.file_key]}
                       for f in files if f.file_key in bad]
    return Plan(
        added=[f.source for f in usable if f.source not in old],
        changed=[f.source for f in usable if f.source in old and old[f.source] != f.file_key],
        removed=sorted(set(old) - set(current)),
        unchanged=[f.source for f in usable if old.get(f.source) == f.file_key],
        skipped=skipped, skipped_entries=skipped_entries, new_chunks=new_chunks, gone_keys=gone_keys,
        renamed=renamed, files=[f for f in files if f.file_key in indexed],
        speeches={**previous.speeches, **speeches},
        up_to_date=(has_previous and not new_chunks and not gone_keys and current == old
                    and skipped_entries == previous.skipped),
    )


@dataclass
class VectorPlan:
    """Which passages get embedded and which reuse a stored vector."""

    rows: list[tuple[int, str, Chunk, str]]  # (doc id, file key, passage, embed key)
    new_ids: list[int]  # window vector ids to embed ...
    new_texts: list[str]  # ... and their texts
    reused_ids: list[int]  # window vector ids that take ...
    reused_from: list[int]  # ... the stored vector of these ids
    next_doc_id: int
    embedded_chunks: int = 0
    reused_chunks: int = 0

    @property
    def unique_texts(self) -> list[str]:
        # Short passages give the same window at both sizes: embed each distinct text once.
        return list(dict.fromkeys(self.new_texts))


def embed_key(embedder_name: str, windows: list[tuple[int, str]]) -> str:
    """What a passage's vectors depend on: the model and the window texts."""
    return hashlib.sha256("\n".join([embedder_name, *(w for _, w in windows)]).encode()).hexdigest()


def plan_vectors(new_chunks: list[tuple[str, Chunk]], next_doc_id: int, embedder_name: str,
                 reusable: dict[str, int]) -> VectorPlan:
    plan = VectorPlan([], [], [], [], [], next_doc_id)
    for key, chunk in new_chunks:
        doc_id = plan.next_doc_id
        windows = passage_windows(chunk.text)
        ek = embed_key(embedder_name, windows)
        plan.rows.append((doc_id, key, chunk, ek))
        local = [i for i, _ in windows]
        if ek in reusable:
            plan.reused_ids += vector_ids(doc_id, local)
            plan.reused_from += vector_ids(reusable[ek], local)
            plan.reused_chunks += 1
        else:
            plan.new_ids += vector_ids(doc_id, local)
            plan.new_texts += [w for _, w in windows]
            plan.embedded_chunks += 1
        plan.next_doc_id += 1
    return plan


# -- executing it --------------------------------------------------------------------------------

def _chunk_new_content(files, previous: Previous, settings: Settings, progress):
    """Chunk each content not indexed yet (once, under its first name); content known to be
    unusable (recorded by the previous build) is skipped again without reading."""
    canonical = canonical_files(files)
    old_keys = set(previous.sources.values())
    new_keys = [k for k in canonical if k not in old_keys and k not in previous.known_bad]
    bad = {k: previous.known_bad[k] for k in canonical if k in previous.known_bad}
    new_chunks: list[tuple[str, Chunk]] = []
    speeches: dict[str, int] = {}
    extracted: list[tuple[str, int, str]] = []
    notices: list[str] = []
    advance = progress("chunking", len(new_keys)) if progress and new_keys else None
    for key in new_keys:
        try:
            read = documents.load_speeches(canonical[key].path, settings.corpus_dir)
            notices += read.warnings
            chunks = chunking.chunk_speeches(read, settings.chunking)
            indexes = {c.speech_index for c in chunks}
            extracted += [(key, i, speech_meta.to_json(m)) for i, m in speech_meta.extract_speeches(read).items()
                          if i in indexes]
        except CorpusError as error:
            bad[key] = str(error)
            chunks = []
        if not chunks and key not in bad:
            bad[key] = "no text to index (empty or whitespace only)"
        speeches[key] = len({c.speech_index for c in chunks})
        new_chunks += [(key, c) for c in chunks]
        if advance:
            advance(1)
    return new_chunks, bad, speeches, extracted, notices


def metadata_block(corpus_dir: Path) -> dict:
    """What the manifest records of speech metadata; a change of the sidecar (its hash)
    makes a metadata-only update."""
    return {"version": speech_meta.METADATA_VERSION, "sidecar_sha256": speech_meta.sidecar_hash(corpus_dir)}


def _update(settings, provide_encoder, files, previous, report, progress, strict, donor=None):
    old = Previous.of(previous)
    sidecar = sidecar_of(settings.corpus_dir)  # a bad row stops the build here, with its line
    new_chunks, bad, speeches, extracted, report.notices = _chunk_new_content(files, old, settings, progress)
    plan = plan_update(files, old, new_chunks, bad, speeches, previous is not None)
    plan.extracted, plan.sidecar = extracted, sidecar
    for name in ("added", "changed", "removed", "unchanged"):
        setattr(report, name, getattr(plan, name))
    report.skipped += plan.skipped
    unknown = sidecar.unknown_files(f.source for f in files)
    if unknown:
        report.notices.append(f"{SIDECAR_NAME} names {len(unknown)} file(s) not in the corpus "
                              f"(first: {unknown[0]}); their rows are ignored")
    if plan.up_to_date:
        report.generation = previous.number
        report.chunks_total, report.speeches_total = previous.manifest.counts.chunks, previous.manifest.counts.speeches
        if previous.manifest.metadata == metadata_block(settings.corpus_dir):
            report.up_to_date = True
        else:  # only the sidecar changed: new metadata, nothing read or embedded
            report.generation = _metadata_only_update(settings, previous, sidecar).number
        return
    if strict and report.skipped:
        first = report.skipped[0]
        raise CorpusError(f"{first.source}: {first.reason} (--strict makes skipped files fatal)")

    built = provide_encoder()
    source = previous or donor  # whose stored vectors can be reused
    old_vectors = engines(backend_of(source.manifest)).vectors.load(source.vectors_path, mmap=False) if source else None
    vectors = plan_vectors(plan.new_chunks, old.next_doc_id, built.embedder.name,
                           _embed_keys(source) if old_vectors is not None else {})
    report.chunks_embedded, report.chunks_reused = vectors.embedded_chunks, vectors.reused_chunks
    report.windows_embedded = len(vectors.unique_texts)
    # An update cuts its few new passages with the previous generation's jieba table read
    # on demand (identical cuts, no 1 s dictionary load).
    lexicon = None
    if previous is not None and (previous.path / store.LEXICON).exists():
        lexicon = analysis.activate(analysis.Lexicon.open(previous.path / store.LEXICON))
    try:
        generation = _write_generation(settings, plan, vectors, built, previous, old_vectors, report, progress)
    finally:
        if lexicon is not None:
            analysis.deactivate(lexicon)
    report.generation = generation.number


def _metadata_only_update(settings, previous, sidecar: Sidecar):
    """A new generation that shares every file of the previous one but meta.sqlite, whose
    `speeches` table is rewritten from the stored extraction and the new sidecar."""
    writer = store.GenerationWriter(Path(settings.index_dir), previous)
    try:
        writer.seed_all_from_previous()
        meta = store.MetaStore(writer.tmp / store.META)
        try:
            write_speeches(meta, sidecar)
            meta.commit()
            if backend_of(previous.manifest) == "milvus":
                _update_engine_metadata(previous, meta)
        finally:
            meta.close()
        manifest = Manifest.from_dict(previous.manifest.to_dict())
        manifest.metadata, manifest.built_at = metadata_block(settings.corpus_dir), now_iso()
        return writer.publish(manifest)
    except BaseException:
        writer.discard()
        raise


def _update_engine_metadata(previous, meta: store.MetaStore) -> None:
    """Milvus keeps each passage's speech metadata for its filters: rewrite it for the
    passages of the speeches whose metadata changed. (In place, so a reader of the previous
    generation filters by the new values from now on; its results are still checked
    against its own meta.sqlite.)"""
    from .milvus_backend import MilvusKeywordIndex, MilvusVectorIndex

    old_meta = store.MetaStore(previous.meta_path, readonly=True)
    try:
        ids = meta.all_doc_ids()
        chunks, keys = meta.chunks(ids), meta.file_keys_of_chunks(ids)
        speech_of = {d: (keys[d], c.speech_index) for d, c in chunks.items() if d in keys}
        pairs = set(speech_of.values())
        old, new = old_meta.speeches_of(pairs), meta.speeches_of(pairs)
    finally:
        old_meta.close()
    changed = {d: new.get(pair) for d, pair in speech_of.items() if old.get(pair) != new.get(pair)}
    if changed:
        MilvusKeywordIndex(previous.keyword_dir).update_metadata(changed)
        MilvusVectorIndex.load(previous.vectors_path).update_metadata(changed)


def write_speeches(meta: store.MetaStore, sidecar: Sidecar) -> None:
    """The `speeches` table: each speech's extracted metadata under the name its passages
    carry, with the sidecar applied."""
    names = meta.source_of_file_keys()
    meta.replace_speeches([(key, index, speech_meta.final(speech_meta.from_json(text), names[key], index, sidecar))
                           for key, index, text in meta.extracted() if key in names])


def _embed_keys(generation) -> dict[str, int]:
    meta = store.MetaStore(generation.meta_path, readonly=True)
    try:
        return meta.embed_keys()
    finally:
        meta.close()


def _write_generation(settings, plan: Plan, vectors: VectorPlan, built, previous, old_vectors, report, progress):
    writer = store.GenerationWriter(Path(settings.index_dir), previous)
    unique = vectors.unique_texts
    embedding = None
    try:
        # The model (native code that releases the GIL) embeds in a worker thread while this
        # thread writes the metadata and the keyword index (Python): they overlap, not add up.
        if unique:
            embedding = _BackgroundEncode(built.embedder, unique, progress("embedding", len(unique)) if progress else None)
        removed_docs, counts, speech_metadata = _write_meta_and_keywords(writer, settings, plan, vectors, previous,
                                                                         progress)
        embedded = None
        if embedding is not None:
            position = {text: i for i, text in enumerate(unique)}
            embedded = embedding.result()[[position[t] for t in vectors.new_texts]]
        vector_index = _write_vectors(writer, settings, vectors, removed_docs, old_vectors, previous, embedded,
                                      built.embedder, speech_metadata)
        if not (writer.tmp / store.LEXICON).exists():
            analysis.write_lexicon(writer.tmp / store.LEXICON)
        report.chunks_total, report.speeches_total = counts
        unique_keys = {f.file_key for f in plan.files}
        return writer.publish(Manifest(
            **manifest_blocks(settings, built.embedder.name, vector_index.dimension, settings.backend),
            counts=Counts(files=len(plan.files), unique_files=len(unique_keys), speeches=counts[1], chunks=counts[0]),
            next_doc_id=vectors.next_doc_id, skipped=plan.skipped_entries,
            corpus_dir=str(Path(settings.corpus_dir).resolve()),
            metadata=metadata_block(settings.corpus_dir),
            encoder=encoders.provide_query_encoder(settings, built, writer.tmp)))
    except BaseException:
        if embedding is not None:
            embedding.cancel()  # stops at the end of the batch under way
        writer.discard()
        raise


def _write_meta_and_keywords(writer, settings: Settings, plan: Plan, vectors: VectorPlan, previous, progress):
    """Passages and files into meta.sqlite, then the keyword index; returns the removed
    passages (doc id -> passage) and the new (passages, speeches) counts."""
    keyword_class = engines(settings.backend).keyword
    if previous:
        writer.seed_from_previous()
        keyword = keyword_class(writer.tmp / store.KEYWORD_DIR)
    elif settings.backend == "milvus":
        from .milvus_backend import collection_prefix

        keyword = keyword_class.create(writer.tmp / store.KEYWORD_DIR, collection_prefix(writer.index_dir, writer.number))
    else:
        keyword = keyword_class.create(writer.tmp / store.KEYWORD_DIR)
    meta = store.MetaStore(writer.tmp / store.META)
    try:
        removed_docs = meta.chunks(meta.doc_ids_of_files(plan.gone_keys))
        meta.delete_files(plan.gone_keys)
        for key, name in plan.renamed.items():
            meta.rename_source(key, name)
        meta.add_chunks(vectors.rows)
        meta.add_extracted(plan.extracted)
        write_speeches(meta, plan.sidecar)
        meta.replace_files([(f.source, f.file_key, f.size, plan.speeches.get(f.file_key, 0)) for f in plan.files])
        meta.commit()
        counts = meta.counts()
        milvus = settings.backend == "milvus"
        every_chunk = {} if milvus else meta.chunks(meta.all_doc_ids())
        speech_metadata = _speech_metadata(meta, vectors.rows) if milvus else {}
    finally:
        meta.close()
    rows = vectors.rows
    advance = progress("keyword index", len(rows)) if progress and rows else None
    added = [(doc_id, key, chunk) for doc_id, key, chunk, _ in rows]
    if milvus:  # the speech metadata goes into the collection, for filters inside Milvus
        keyword.update(list(removed_docs), added, progress=advance, metadata=speech_metadata)
        return removed_docs, counts, speech_metadata
    keyword.update(list(removed_docs), added, progress=advance)
    # The bigram BM25 matrix is rebuilt whole from the metadata each generation (cheap:
    # ~0.5 s per 1,000 passages) rather than patched: BM25's idf and lengths change anyway.
    bigram_index.build(writer.tmp / store.BIGRAMS_DIR,
                       [(doc_id, bigram_index.passage_text(c)) for doc_id, c in sorted(every_chunk.items())])
    return removed_docs, counts, speech_metadata


def _speech_metadata(meta: store.MetaStore, rows) -> dict:
    """doc id -> its speech's metadata (metadata.SpeechMetadata), for the passages `rows` adds."""
    speeches = meta.speeches_of((key, chunk.speech_index) for _, key, chunk, _ in rows)
    return {doc_id: speeches.get((key, chunk.speech_index)) for doc_id, key, chunk, _ in rows}


def _write_vectors(writer, settings: Settings, vectors: VectorPlan, removed_docs, old_vectors, previous, embedded,
                   embedder, speech_metadata):
    reused = old_vectors.reconstruct(vectors.reused_from) if vectors.reused_from else None
    vector_class = engines(settings.backend).vectors
    if previous is not None:
        vector_index = old_vectors
    else:
        dimension = (embedded.shape[1] if embedded is not None else reused.shape[1] if reused is not None
                     else embedder.dimension)
        if settings.backend == "milvus":
            from .milvus_backend import collection_prefix

            vector_index = vector_class.create(dimension, writer.tmp / store.VECTORS,
                                               collection_prefix(writer.index_dir, writer.number))
        else:
            vector_index = vector_class.create(dimension)
    if settings.backend == "milvus":
        vector_index.with_metadata(speech_metadata)
    vector_index.remove([vid for doc_id, chunk in removed_docs.items()
                         for vid in vector_ids(doc_id, [i for i, _ in passage_windows(chunk.text)])])
    if embedded is not None:
        vector_index.add(vectors.new_ids, embedded)
    if reused is not None:
        vector_index.add(vectors.reused_ids, reused)
    vector_index = vector_index.scaled()
    vector_index.save(writer.tmp / store.VECTORS)
    return vector_index


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
