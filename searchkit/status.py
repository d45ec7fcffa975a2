"""`searchkit status`: what an index holds and whether its corpus changed since the build."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from . import store
from .config import Settings, resolve_keyword_plan
from .engines import backend_of
from .errors import CorpusError, IndexCorruptError


def index_status(settings: Settings, verify: bool = False) -> dict:
    index_dir = Path(settings.index_dir)
    generation = store.open_generation(index_dir, verify=False)
    if verify:
        store.verify_files(generation, index_dir, full=True)
    m = generation.manifest
    meta = store.MetaStore(generation.meta_path, readonly=True)
    try:
        indexed = {source: key for source, key, _size, _n in meta.files()}
    finally:
        meta.close()
    corpus_dir = Path(settings.corpus_dir)
    changes = None
    try:
        from .corpus import scan_corpus

        files, _ = scan_corpus(corpus_dir)
        known_bad = {e["source"] for e in m.skipped}
        now = {f.source: f.file_key for f in files if f.source not in known_bad}
        changes = {
            "added": sorted(set(now) - set(indexed)),
            "changed": sorted(s for s in now if s in indexed and now[s] != indexed[s]),
            "removed": sorted(set(indexed) - set(now)),
        }
    except CorpusError:
        pass
    backend = _backend_status(generation, verify)
    return {
        "backend": backend,
        "index": str(index_dir), "generation": m.generation, "built_at": m.built_at,
        "searchkit_version": m.searchkit_version, "model": m.block("model"), "counts": asdict(m.counts),
        "query_encoder": bool(m.encoder),
        "keyword_plan": resolve_keyword_plan(settings.keyword_plan, m.counts.chunks),
        "corpus": str(corpus_dir), "corpus_changes": changes,
        "files": sorted(indexed),
    }


def _backend_status(generation: store.Generation, verify: bool) -> dict:
    """The storage engine and, for Milvus, its collections with expected and found row
    counts; --verify makes a mismatch an error, as a bad checksum is."""
    if backend_of(generation.manifest) != "milvus":
        return {"name": "embedded", "keyword": "whoosh", "vectors": "faiss"}
    from .milvus_backend import describe

    info = describe(generation.path)
    wrong = [c for c in info["collections"] if not c["matches"]]
    if verify and wrong:
        c = wrong[0]
        raise IndexCorruptError(generation.path.parent, f"the Milvus collection {c['name']} holds {c['found']} rows, "
                                f"the index expects {c['rows']}")
    return info
