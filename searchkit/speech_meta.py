"""Speech metadata between extraction, the sidecar and the metadata store.

The indexer keeps what extraction found (`extracted` table, read once per content) apart
from what searches see (`speeches` table = extracted + the user's `metadata.csv`), so an
edited sidecar is applied again without reading or embedding anything.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path, PurePosixPath

from .metadata import SpeechMetadata, extract_metadata
from .sidecar import SIDECAR_NAME, Sidecar

# Bump when extraction changes what it finds: the manifest records it, and an index
# made by another version re-reads its files (metadata only; vectors are reused).
METADATA_VERSION = 1
FIRST_PARAGRAPHS = 3  # the title block often runs into the first paragraphs (a speaker line)


def extract_speeches(speeches) -> dict[int, SpeechMetadata]:
    """speech index -> extracted metadata, for the speeches of one file (a SpeechList)."""
    properties = getattr(speeches, "properties", {}) or {}
    return {s.index: extract_metadata(s.title, tuple(s.preamble) + tuple(s.paragraphs[:FIRST_PARAGRAPHS]),
                                      s.source, properties)
            for s in speeches}


def sidecar_hash(corpus_dir: Path) -> str:
    """sha256 of the corpus's metadata.csv ("" when there is none): what a build compares."""
    path = Path(corpus_dir) / SIDECAR_NAME
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def to_json(meta: SpeechMetadata) -> str:
    return json.dumps(dataclasses.asdict(meta), ensure_ascii=False)


def from_json(text: str) -> SpeechMetadata:
    data = json.loads(text)
    data["tags"] = tuple(data.get("tags") or ())
    names = {f.name for f in dataclasses.fields(SpeechMetadata)}
    return SpeechMetadata(**{k: v for k, v in data.items() if k in names})


def final(meta: SpeechMetadata, source: str, speech_index: int, sidecar: Sidecar) -> SpeechMetadata:
    """What searches see: the extracted metadata under the file name its passages carry
    now (a rename moves it), with the sidecar's rows applied."""
    folder = PurePosixPath(source).parent.as_posix()
    meta = meta.replace(source=source, folder="" if folder == "." else folder)
    return sidecar.apply(meta, speech_index)


def unknown(title: str | None, source: str) -> SpeechMetadata:
    """A speech the store has no row for (should not happen): its title, nothing else."""
    return SpeechMetadata(title=title or None, source=source)
