"""The `searchkit` command line: parse arguments, call the library, print for people or --json.

Kept thin and light: heavy modules are imported inside the commands that need them, so
`searchkit --help` and keyword searches never load torch.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .config import LEAN_ABOVE, Settings
from .errors import INTERRUPTED_EXIT_CODE, UNEXPECTED_EXIT_CODE, InputError, SearchkitError

app = typer.Typer(
    help="Hybrid keyword + semantic search over Chinese speeches and reports.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder [env SEARCHKIT_INDEX; default indexes/default].", show_default=False)]
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Corpus folder [env SEARCHKIT_CORPUS; default corpus].", show_default=False)]
ModeOpt = Annotated[str, typer.Option("--mode", "-m", help="hybrid, keyword or vector.")]
KOpt = Annotated[int, typer.Option("-k", "--top", help="How many passages to show.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (schema in README).")]
# Metadata filters (filters.Filter): a repeated flag means any of its values, different flags all.
_Many = Optional[list[str]]
SpeakerOpt = Annotated[_Many, typer.Option("--speaker", help="Only this speaker (exact name); repeat for several.", show_default=False)]
LevelOpt = Annotated[_Many, typer.Option("--level", help="Only this level: 国家, 省, 市, 县, 区 or 乡镇.", show_default=False)]
RoleOpt = Annotated[_Many, typer.Option("--role", help="Only roles containing this, e.g. 常务副市长.", show_default=False)]
PlaceOpt = Annotated[_Many, typer.Option("--place", help="Only places containing this, e.g. 四川.", show_default=False)]
MeetingOpt = Annotated[_Many, typer.Option("--meeting", help="Only meetings whose name contains this.", show_default=False)]
YearOpt = Annotated[_Many, typer.Option("--year", help="Only this year or range: 2022, 2019..2022 (unknown dates never match).", show_default=False)]
SourceOpt = Annotated[_Many, typer.Option("--source", help="Only files matching this path or glob inside the corpus, e.g. '2023/县政府/'.", show_default=False)]
TagOpt = Annotated[_Many, typer.Option("--tag", help="Only speeches with this tag (from metadata.csv).", show_default=False)]
NoServerOpt = Annotated[bool, typer.Option("--no-server", help="Answer in this process even when `searchkit serve` runs for this index [env SEARCHKIT_NO_SERVER=1].")]
FILTER_FLAGS = ("speaker", "level", "role", "place", "meeting", "year", "source", "tag")


def _filter(speaker=None, level=None, role=None, place=None, meeting=None, year=None, source=None, tag=None):
    """The Filter of the flags given (None without any); a bad value is exit 2, one line."""
    if not any((speaker, level, role, place, meeting, year, source, tag)):
        return None  # nothing to parse: the filters module is not even imported
    from .filters import Filter

    flt = _run(lambda: Filter.parse(speaker=speaker or (), level=level or (), role=role or (), place=place or (),
                                    meeting=meeting or (), year=year or (), source=source or (), tag=tag or ()))
    return None if flt.is_empty else flt


def _console(stderr: bool = False, soft_wrap: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=soft_wrap)


def _fail(message: str, code: int = 1) -> None:
    # soft_wrap: one line however long, so scripts can grep it; a line break inside the
    # message (a file name can hold one) is shown escaped, so the error stays one line.
    one_line = message.replace("\r", "\\r").replace("\n", "\\n")
    _console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {_escape(one_line)}")
    raise typer.Exit(code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _run(fn):
    """Turn library errors into one line on stderr and a non-zero exit, never a traceback."""
    try:
        return fn()
    except SearchkitError as error:
        _fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted")
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    except typer.Exit:
        raise
    except Exception as error:  # a bug: still one line, its own exit code, a way to see the details
        if os.environ.get("SEARCHKIT_DEBUG"):
            raise
        _fail(f"unexpected {type(error).__name__}: {error} (a bug in searchkit; run again with SEARCHKIT_DEBUG=1 "
              "for the traceback and please report it)", UNEXPECTED_EXIT_CODE)


# -- index ---------------------------------------------------------------------------------------

@app.command()
def index(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild from scratch instead of updating.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on any skipped file instead of warning.")] = False,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="Storage engine: embedded (Whoosh + FAISS files, the default) or milvus "
        "(SEARCHKIT_MILVUS_URI; see README). Default: what the index already uses.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the index, or bring it up to date after files were added, changed or removed."""
    settings = _run(lambda: Settings.from_env(corpus_dir=corpus, index_dir=index_dir))
    if backend is not None:
        settings = _run(lambda: settings.with_(backend=backend))

    def work():
        from .indexer import build_index

        with _progress_bars(enabled=not as_json) as progress:
            return build_index(settings, rebuild=rebuild, progress=progress, strict=strict)

    report = _run(work)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    out = _console()
    for skipped in report.skipped:
        _console(stderr=True, soft_wrap=True).print(f"[yellow]warning:[/] skipped {_escape(skipped.source)}: {_escape(skipped.reason)}")
    for notice in report.notices:
        _console(stderr=True, soft_wrap=True).print(f"note: {_escape(notice)}")
    if report.up_to_date:
        out.print(f"Index at {settings.index_dir} is up to date: {len(report.unchanged)} files, "
                  f"{report.chunks_total} passages ({report.seconds:.2f} s).")
        return
    how = f"Rebuilt ({report.rebuild_reason})" if report.rebuilt else "Updated"
    out.print(f"{how} index at {settings.index_dir} (generation {report.generation}) in {report.seconds:.1f} s")
    out.print(f"  files: {len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
              f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped")
    out.print(f"  passages: {report.chunks_embedded} embedded ({report.windows_embedded} windows), "
              f"{report.chunks_reused} reused; "
              f"{report.chunks_total} in {report.speeches_total} speeches now indexed")
    for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for name in names:
            out.print(f"  {label}: {_escape(name)}")


class _progress_bars:
    """A rich progress bar per build phase, on stderr; nothing when disabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty() or enabled and os.environ.get("SEARCHKIT_PROGRESS") == "1"
        self.progress: Any = None  # a rich Progress while enabled

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=_console(stderr=True), transient=False)
        self.progress.start()

        def start(phase: str, total: int):
            task = self.progress.add_task(phase, total=total)
            return lambda n=1: self.progress.advance(task, n)

        return start

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()
        return False


# -- search / similar ----------------------------------------------------------------------------

def _searcher(index_dir):
    from .searcher import Searcher

    return Searcher(Settings.from_env(index_dir=index_dir))


def _flag_values(**flags) -> dict[str, list[str]] | None:
    """The filter flags as the server's parameters ({name: [values]}), or None when they cannot
    be sent as typed: the server drops blank values and strips the others, which could then
    mean another filter than the one parsed here."""
    given = {name: list(flags[name]) for name in FILTER_FLAGS if flags.get(name)}
    if any(not v or v != v.strip() for values in given.values() for v in values):
        return None
    return given


def _answer(index_dir, no_server: bool, forwarded, in_process) -> dict:
    """The response as the CLI prints it (`--json` object + `terms` and `notices`): from a
    `searchkit serve` running for this index when there is one (server/forward.py: nothing of
    the engine is imported then), else computed in this process."""
    settings = Settings.from_env(index_dir=index_dir)
    if not no_server:
        from .server import forward

        data = forwarded(forward, settings)
        if data is not None:
            return forward.as_cli(data)
    return _response_dict(in_process(_searcher(index_dir)))


def _response_dict(response) -> dict:
    return {**response.to_dict(), "terms": list(response.terms), "notices": list(response.notices)}


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='What to look for, e.g. "招商引资 措施"; quote a phrase for an exact match: \'"双过半"\'.')],
    k: KOpt = 10,
    mode: ModeOpt = "hybrid",
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    speaker: SpeakerOpt = None, level: LevelOpt = None, role: RoleOpt = None, place: PlaceOpt = None,
    meeting: MeetingOpt = None, year: YearOpt = None, source: SourceOpt = None, tag: TagOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """Find the best passages for a few words (all speeches, or those the filters allow)."""
    flt = _filter(speaker, level, role, place, meeting, year, source, tag)
    flags = _flag_values(speaker=speaker, level=level, role=role, place=place, meeting=meeting, year=year,
                         source=source, tag=tag)
    data = _run(lambda: _answer(
        index_dir, no_server,
        lambda forward, settings: None if flags is None else forward.search(settings, query, k, mode, flags),
        lambda searcher: searcher.search(query, k=k, mode=mode, filter=flt)))
    _print_response(data, as_json)


@app.command()
def similar(
    ctx: typer.Context,
    text: Annotated[Optional[str], typer.Argument(help="The paragraph; omit it or give - to read standard input.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="Read the paragraph from this file.")] = None,
    k: KOpt = 10,
    mode: ModeOpt = "hybrid",
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    each_paragraph: Annotated[bool, typer.Option("--each-paragraph", help="Review a draft: the best matches of each of its paragraphs (-k defaults to 3; JSON: a list of {paragraph, results}).")] = False,
    speaker: SpeakerOpt = None, level: LevelOpt = None, role: RoleOpt = None, place: PlaceOpt = None,
    meeting: MeetingOpt = None, year: YearOpt = None, source: SourceOpt = None, tag: TagOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """Find the passages most like a paragraph you are drafting."""
    flt = _filter(speaker, level, role, place, meeting, year, source, tag)
    if each_paragraph:
        k_source = ctx.get_parameter_source("k")  # None only for a parameter the command lacks
        k_given = k_source is not None and k_source.name != "DEFAULT"
        return _similar_each_paragraph(text, file, k if k_given else 3, mode, index_dir, as_json, flt)
    flags = _flag_values(speaker=speaker, level=level, role=role, place=place, meeting=meeting, year=year,
                         source=source, tag=tag)

    def work():
        paragraph = _read_paragraph(text, file)
        return _answer(
            index_dir, no_server,
            lambda forward, settings: None if flags is None else forward.similar(settings, paragraph, k, mode, flags),
            lambda searcher: searcher.similar(paragraph, k=k, mode=mode, filter=flt))

    _print_response(_run(work), as_json)


def _read_paragraph(text: Optional[str], file: Optional[Path]) -> str:
    from .errors import CorpusError, InputError

    if file is not None:
        # A file named on the command line is input, not corpus: its problems are exit 2.
        if not file.exists():
            raise InputError(f"file {file} does not exist; check the path given to --file")
        if file.is_dir():
            raise InputError(f"{file} is a folder; give a text file to --file")
        from .documents import read_text
        from .readers import SUPPORTED_SUFFIXES, read_document

        try:
            if file.suffix.lower() in SUPPORTED_SUFFIXES - {".txt"}:  # a draft in Word, a saved page…
                return read_document(file).text()
            return read_text(file)  # any other name is read as plain text, as it always was
        except CorpusError as error:
            raise InputError(str(error)) from None
    if text is None or text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("no paragraph given; pass it as an argument, with --file, or on standard input")
        return sys.stdin.read()
    return text


def _similar_each_paragraph(text, file, k, mode, index_dir, as_json, flt=None) -> None:
    """`similar --each-paragraph`: one block per paragraph of the draft (drafts.py); -k
    defaults to 3 there, what a writer reads beside each paragraph."""
    from . import drafts

    def work():
        paragraphs = drafts.read_draft(file) if file is not None else drafts.text_paragraphs(
            _read_paragraph(text, None), "the text")
        return drafts.review(_searcher(index_dir), paragraphs, k=k, mode=mode, flt=flt)

    reviewed = _run(work)
    if as_json:
        print(json.dumps(drafts.review_to_dicts(reviewed), ensure_ascii=False, indent=2))
        return
    out = _console()
    for number, (paragraph, response) in enumerate(reviewed, 1):
        shown = paragraph if len(paragraph) <= 80 else paragraph[:80] + "…"
        out.rule(f"¶{number}", align="left")
        out.print(f"[bold]{_escape(shown)}[/]")
        out.print()
        _print_response(_response_dict(response), False)


def _print_response(data: dict, as_json: bool) -> None:
    """Print a response (see _answer) for people, or its `--json` object: the same from a
    server as from this process, since both print from the same dict."""
    err = _console(stderr=True, soft_wrap=True)
    for notice in data["notices"]:
        err.print(f"[yellow]note:[/] {_escape(notice)}")
    if as_json:
        print(json.dumps({key: value for key, value in data.items() if key not in ("terms", "notices")},
                         ensure_ascii=False, indent=2))
        return
    from .snippets import make_snippet, to_rich_markup

    out = _console()
    results = data["results"]
    if not results:
        out.print(f"No passages found for {_escape(data['query'][:60])!s} ({data['mode']}).")
        return
    for hit in results:
        path = " › ".join(hit["heading"]) if hit["heading"] else "（开头）"
        evidence = []
        if hit["keyword_rank"]:
            evidence.append(f"keyword #{hit['keyword_rank']}")
        if hit["vector_rank"]:
            evidence.append(f"vector #{hit['vector_rank']}")
        out.print(f"[bold cyan]{hit['rank']:>2}.[/] [bold]{_escape(hit['title'])}[/]")
        who = _who_and_when(hit["speech"] or {})
        if who:
            out.print(f"    {_escape(who)}")
        out.print(f"    [green]{_escape(path)}[/]")
        out.print(f"    [dim]{_escape(', '.join(hit['sources'] or [hit['source']]))} · score {hit['score']:.4g}"
                  f"{' · ' + ', '.join(evidence) if evidence else ''}[/]")
        out.print("    " + to_rich_markup(make_snippet(hit["text"], tuple(data["terms"]))))
        out.print()
    out.print(f"[dim]{len(results)} passages · {data['mode']} · {data['took_ms']:.0f} ms[/]")


def _who_and_when(speech: dict) -> str:
    """`林小明（市委副书记、市长） · 2022-07-02`: the speaker and date shown under a title."""
    who = speech.get("speaker") or ""
    if who and speech.get("role"):
        who += f"（{speech['role']}）"
    return " · ".join(part for part in (who, speech.get("date") or "") if part)


# -- speeches / facets ---------------------------------------------------------------------------

def _speech_line(meta, index: int, passages: int) -> dict:
    """One `searchkit speeches --json` line: the speech object, its file and passage count."""
    return {**meta.to_json(), "source": meta.source, "speech_index": index, "passages": passages}


def _filtered_speeches(index_dir, *flags):
    """The filter the flags give, and the speeches of the index it lets through."""
    flt = _filter(*flags)
    return flt, _run(lambda: _searcher(index_dir).meta.speeches(flt))


@app.command()
def speeches(
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    speaker: SpeakerOpt = None, level: LevelOpt = None, role: RoleOpt = None, place: PlaceOpt = None,
    meeting: MeetingOpt = None, year: YearOpt = None, source: SourceOpt = None, tag: TagOpt = None,
) -> None:
    """List the indexed speeches with their metadata (JSON Lines with --json)."""
    flt, found = _filtered_speeches(index_dir, speaker, level, role, place, meeting, year, source, tag)
    if as_json:
        for meta, index, passages in found:
            print(json.dumps(_speech_line(meta, index, passages), ensure_ascii=False))
        return
    out = _console(soft_wrap=True)
    if not found:
        out.print(f"No speech matches {_escape(flt.describe()) if flt else 'in this index'}.")
        return
    for meta, index, passages in found:
        facts = " · ".join(x for x in (_who_and_when(meta.to_json()), meta.level, meta.meeting) if x)
        out.print(f"[dim]{_escape(meta.source)} #{index}[/] [bold]{_escape(meta.title or '')}[/] ({passages} passages)")
        if facts:
            out.print(f"    {_escape(facts)}")
    out.print(f"[dim]{len(found)} speeches[/]")


@app.command()
def facets(
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    speaker: SpeakerOpt = None, level: LevelOpt = None, role: RoleOpt = None, place: PlaceOpt = None,
    meeting: MeetingOpt = None, year: YearOpt = None, source: SourceOpt = None, tag: TagOpt = None,
) -> None:
    """Count speeches by speaker, level, year and meeting, to see what there is to filter on."""
    from .filters import facet_counts

    flt, found = _filtered_speeches(index_dir, speaker, level, role, place, meeting, year, source, tag)
    counts = facet_counts(meta for meta, _i, _n in found)
    if as_json:
        print(json.dumps({"speeches": len(found), **counts}, ensure_ascii=False, indent=2))
        return
    out = _console(soft_wrap=True)
    out.print(f"{len(found)} speeches{' matching ' + _escape(flt.describe()) if flt else ''}")
    for name, values in counts.items():
        shown = ", ".join(f"{_escape(v)} {n}" for v, n in list(values.items())[:20])
        more = f" … ({len(values) - 20} more)" if len(values) > 20 else ""
        out.print(f"[bold]{name}[/]: {shown or '(none known)'}{more}")


# -- serve ---------------------------------------------------------------------------------------

@app.command()
def serve(
    index_dir: IndexOpt = None,
    corpus: CorpusOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback lets other machines read the corpus.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the search page and the HTTP API (http://127.0.0.1:8000 by default)."""
    settings = Settings.from_env(corpus_dir=corpus, index_dir=index_dir)
    sock = _run(lambda: _listen(host, port))
    from .server.run import serve_forever

    _run(lambda: serve_forever(settings, sock, host, _console(stderr=True, soft_wrap=True)))


def _listen(host: str, port: int):
    from .server.run import listen

    return listen(host, port)


# -- status / chunks -----------------------------------------------------------------------------

@app.command()
def status(
    index_dir: IndexOpt = None,
    corpus: CorpusOpt = None,
    verify: Annotated[bool, typer.Option("--verify", help="Check the sha256 of every index file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """What is indexed, and whether the corpus has changed since."""
    from .status import index_status

    settings = _run(lambda: Settings.from_env(corpus_dir=corpus, index_dir=index_dir))
    info = _run(lambda: index_status(settings, verify=verify))
    if as_json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    out = _console(soft_wrap=True)  # one line per fact: a long path is never broken in two
    counts = info["counts"]
    out.print(f"Index    {info['index']} (generation {info['generation']}, built {info['built_at']})")
    out.print(f"Model    {info['model']['name']} ({info['model'].get('dimension')} dims, "
              f"{info['model']['precision']})"
              f"{' · ONNX query encoder' if info['query_encoder'] else ''}")
    out.print(f"Content  {counts['files']} files, {counts['speeches']} speeches, {counts['chunks']} passages")
    backend = info["backend"]
    if backend["name"] == "milvus":
        out.print(f"Backend  milvus at {backend['uri']}{' (milvus-lite)' if backend['lite'] else ''}")
        for c in backend["collections"]:
            state = "matches the index" if c["matches"] else f"[red]the index expects {c['rows']:,}[/]"
            out.print(f"         {c['side']}: {c['name']}, {c['found']:,} rows ({state})")
    else:
        out.print("Backend  embedded (Whoosh keyword index + FAISS vectors in the index folder)")
    out.print(f"Keywords {info['keyword_plan']} query plan"
              f"{'' if settings.keyword_plan != 'auto' else f' (auto: lean above {LEAN_ABOVE:,} passages)'}")
    out.print(f"Corpus   {info['corpus']}")
    changes = info["corpus_changes"]
    if changes is None:
        out.print("         (corpus folder not found)")
    elif any(changes.values()):
        parts = [f"{len(v)} {k}" for k, v in changes.items() if v]
        out.print(f"[yellow]         changed since the build: {', '.join(parts)}; run `searchkit index`[/]")
    else:
        out.print("         unchanged since the build")
    if verify:
        out.print("Files    all checksums match")


@app.command()
def chunks(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to cut into passages.")],
    as_json: JsonOpt = False,
) -> None:
    """Show how files are read and cut into passages (JSON Lines with --json)."""
    results, skipped = _run(lambda: _chunk_paths(paths))
    for item in skipped:
        _console(stderr=True, soft_wrap=True).print(f"[yellow]warning:[/] skipped {_escape(item.source)}: {_escape(item.reason)}")
    if not results:  # nothing could be read: say so and fail, never an empty table
        _fail(f"no readable file in {', '.join(map(str, paths))} ({len(skipped)} skipped, see the warnings above); "
              "supported formats: .txt, .docx, .pdf, .html, .md")
    if as_json:
        for _path, cs, metas in results:
            for c in cs:
                meta = metas.get(c.speech_index)
                speech = meta.to_json() if meta else {"title": c.title or None, "speaker": None, "role": None,
                                                       "level": None, "place": None, "meeting": None,
                                                       "date": None, "tags": []}
                print(json.dumps({**c.to_dict(), "speech": speech}, ensure_ascii=False))
        return
    _print_chunk_summary(results)


def _chunk_paths(paths: list[Path]):
    """(file, passages, speech index -> metadata) for every readable file among paths; the
    others as corpus.Skipped. A folder's metadata.csv applies to its files, as in `index`."""
    from . import speech_meta
    from .chunking import chunk_speeches
    from .config import ChunkingSettings
    from .corpus import Skipped, scan_corpus
    from .documents import load_speeches
    from .errors import CorpusError
    from .readers import unsupported_advice
    from .sidecar import Sidecar, sidecar_of

    found, skipped = [], []
    for path in paths:
        if path.is_dir():
            files, skips = scan_corpus(path)
            found += [(f.path, path) for f in files]
            skipped += skips
        elif path.exists():
            advice = unsupported_advice(path)
            if advice is None:
                found.append((path, path.parent))
            else:
                skipped.append(Skipped(path.name, advice))
        else:
            raise CorpusError(f"{path} does not exist; give a file or folder of speeches")
    results = []
    sidecars: dict[Path, Sidecar] = {}
    for file, root in found:
        source = file.relative_to(root).as_posix()
        try:
            read = load_speeches(file, root)
            passages = chunk_speeches(read, ChunkingSettings())
        except CorpusError as error:  # one unreadable file is named and skipped, as in `index`
            skipped.append(Skipped(source, str(error)))
            continue
        if root not in sidecars:
            sidecars[root] = sidecar_of(root)
        metas = {i: speech_meta.final(m, source, i, sidecars[root])
                 for i, m in speech_meta.extract_speeches(read).items()}
        if passages:
            results.append((file, passages, metas))
        else:
            skipped.append(Skipped(source, "no text to index (empty or whitespace only)"))
    return results, skipped


def _print_chunk_summary(results) -> None:
    from rich.table import Table

    out = _console()
    table = Table(title="Passages per file")
    for col in ("file", "speeches", "sections", "passages", "min", "median", "max chars"):
        table.add_column(col, justify="right" if col != "file" else "left")
    all_lengths = []
    for path, cs, _metas in results:
        lengths = sorted(len(c.text) for c in cs)
        all_lengths += lengths
        speeches = len({c.speech_index for c in cs})
        sections = len({(c.speech_index, c.heading) for c in cs})
        table.add_row(path.name, str(speeches), str(sections), str(len(cs)),
                      *(str(x) for x in ((lengths[0], lengths[len(lengths) // 2], lengths[-1]) if lengths else ("-",) * 3)))
    out.print(table)
    if all_lengths:
        all_lengths.sort()
        buckets = [(0, 100), (100, 200), (200, 300), (300, 400), (400, 521)]
        spread = ", ".join(f"{a}-{b - 1}: {sum(a <= n < b for n in all_lengths)}" for a, b in buckets)
        out.print(f"{len(all_lengths)} passages; length (chars) {spread}")
    for path, cs, _metas in results:
        titles = list(dict.fromkeys(c.title for c in cs))
        out.print(f"[bold]{_escape(path.name)}[/]: {len(titles)} speeches")
        for t in titles[:50]:
            out.print(f"  · {_escape(t)}")


# -- eval ----------------------------------------------------------------------------------------

@app.command("eval")
def eval_(
    qrels: Annotated[Path, typer.Argument(help="Judged queries, one JSON object a line (format in eval/README.md).")] = Path("eval/dev.jsonl"),
    index_dir: IndexOpt = None,
    mode: Annotated[str, typer.Option("--mode", "-m", help="hybrid, keyword, vector or all.")] = "all",
    k: Annotated[int, typer.Option("-k", "--top", help="Score the top k results (nDCG@k, Recall@k, MRR@k).")] = 10,
    as_json: JsonOpt = False,
    per_query: Annotated[bool, typer.Option("--per-query", help="List the queries where hybrid loses most against the best mode.")] = False,
    beir: Annotated[Optional[Path], typer.Option("--beir", help="A BEIR-style folder (corpus.jsonl, queries.jsonl, qrels.tsv) instead of QRELS: "
                                                 "its corpus is indexed (default index indexes/beir-<folder>) and documents are scored by their best passage.",
                                                 show_default=False)] = None,
    speaker: SpeakerOpt = None, level: LevelOpt = None, role: RoleOpt = None, place: PlaceOpt = None,
    meeting: MeetingOpt = None, year: YearOpt = None, source: SourceOpt = None, tag: TagOpt = None,
) -> None:
    """Score search quality on judged queries: nDCG, Recall and MRR, overall and per query kind."""
    flt = _filter(speaker, level, role, place, meeting, year, source, tag)
    if beir is not None:
        if flt is not None:
            _fail("--beir scores a benchmark's own corpus, which has no speech metadata; drop the filters", 2)
        _eval_beir(beir, index_dir, mode, k, as_json)
        return

    def work():
        from .evaluation import evaluate

        return evaluate(Settings.from_env(index_dir=index_dir), qrels, modes=mode, k=k, filter=flt)

    report = _run(work)
    if as_json:
        print(json.dumps(report.to_dict(per_query=per_query), ensure_ascii=False, indent=2))
        return
    from .evaluation import print_report

    print_report(report, _console(), per_query=per_query)


def _eval_beir(folder: Path, index_dir: Path | None, mode: str, k: int, as_json: bool) -> None:
    """Index the benchmark's corpus (incrementally: a no-change update is instant), then score it."""
    index_dir = index_dir or Path("indexes") / f"beir-{folder.resolve().name}"
    settings = Settings.from_env(index_dir=index_dir, corpus_dir=Path(f"{index_dir}-corpus"))

    def work():
        from . import beir_eval
        from .evaluation import MAX_K, parse_modes
        from .indexer import build_index

        modes = parse_modes(mode)
        if not 1 <= k <= MAX_K:
            raise InputError(f"-k must be between 1 and {MAX_K} (got {k})")
        benchmark = beir_eval.load_benchmark(folder)
        beir_eval.write_corpus(benchmark, settings.corpus_dir)
        with _progress_bars(enabled=not as_json) as progress:
            build_index(settings, progress=progress)
            tick = progress("questions", len(benchmark.queries) * len(modes)) if progress else None
            return beir_eval.evaluate_beir(settings, folder, modes, k, progress=tick)

    report = _run(work)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{folder} · {report.queries} questions · documents by their best passage · index {report.index_dir}")
    for name in ("mode", f"nDCG@{k}", f"MRR@{k}", f"hit@{k}", "warm p50 ms", "p90 ms"):
        table.add_column(name, justify="left" if name == "mode" else "right")
    for m in report.modes:
        s, t = report.scores[m], report.latency_ms.get(m, {})
        table.add_row(m, f"{s[f'ndcg@{k}']:.3f}", f"{s[f'mrr@{k}']:.3f}", f"{s[f'hit@{k}']:.3f}",
                      f"{t.get('p50', 0):.0f}", f"{t.get('p90', 0):.0f}")
    _console().print(table)
