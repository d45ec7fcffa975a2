"""How often speech metadata extraction is right, per field, against hand-checked values.

    .venv/bin/python scripts/eval_metadata.py [--verbose]

Reads the bundled corpus and ../shared/real-docs/wikisource/ (if present) with the current
documents.load_speeches, extracts metadata as tests/test_metadata.py does, and prints
"right / total" per field; --verbose lists every miss.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from metadata_truth import BUNDLED, HTML, WIKISOURCE, html_titles, speech_metadata  # noqa: E402
from searchkit.metadata import extract_metadata  # noqa: E402
from searchkit.documents import load_speeches  # noqa: E402


def _load(folder: Path) -> dict:
    found = {}
    for path in sorted(folder.rglob("*.txt")):
        for speech in load_speeches(path, folder):
            found[(speech.source, speech.index)] = speech_metadata(speech)
    return found


def _score(name: str, pairs: dict[str, list[tuple]], verbose: bool) -> None:
    print(name)
    for field, items in pairs.items():
        right = sum(1 for _, got, want in items if got == want)
        print(f"  {field:<26} {right:>3} / {len(items)}")
        if verbose:
            for key, got, want in items:
                if got != want:
                    print(f"      {key}: got {got!r}, expected {want!r}")


def main(verbose: bool = False) -> None:
    found = _load(ROOT / "corpus")
    fields = ("speaker", "role", "level", "meeting", "date")
    pairs = {f: [(k, getattr(found.get(k), f, None), want[i]) for k, want in BUNDLED.items()]
             for i, f in enumerate(fields)}
    pairs["speaker+role+level"] = [
        (k, tuple(getattr(found.get(k), f, None) for f in fields[:3]), want[:3])
        for k, want in BUNDLED.items()]
    _score(f"bundled corpus ({len(BUNDLED)} speeches)", pairs, verbose)

    _wikisource(ROOT.parent / "shared" / "real-docs" / "wikisource", verbose)
    _html(ROOT.parent / "shared" / "real-docs" / "html", verbose)


def _html(folder: Path, verbose: bool) -> None:
    if not folder.is_dir():
        print(f"html: {folder} absent, skipped")
        return
    got = {name: extract_metadata(title, [], name) for name, title in html_titles(folder).items()}
    _score(f"html page titles ({len(HTML)})", {
        "speaker": [(n, got[n].speaker, v[0]) for n, v in HTML.items()],
        "meeting": [(n, got[n].meeting, v[1]) for n, v in HTML.items()],
    }, verbose)


def _wikisource(folder: Path, verbose: bool) -> None:
    if not folder.is_dir():
        print(f"wikisource: {folder} absent, skipped")
        return
    found = {source: meta for (source, _), meta in _load(folder).items()}
    dated = {s: v for s, v in WIKISOURCE.items() if v[1] is not None}
    named = {s: v for s, v in WIKISOURCE.items() if v[0] is not None}
    _score(f"wikisource ({len(WIKISOURCE)} reports)", {
        f"year, dated ({len(dated)})": [(s, found[s].year, v[1]) for s, v in dated.items()],
        "year, all (undated → None)": [(s, found[s].year, v[1]) for s, v in WIKISOURCE.items()],
        f"speaker, named ({len(named)})": [(s, found[s].speaker, v[0]) for s, v in named.items()],
        "speaker, all (unnamed → None)": [(s, found[s].speaker, v[0])
                                          for s, v in WIKISOURCE.items()],
    }, verbose)


if __name__ == "__main__":
    main("--verbose" in sys.argv[1:])
