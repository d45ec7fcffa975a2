"""The HTTP API and the page: `create_app(settings)` is what `searchkit serve` runs.

Response bodies are the CLI's `--json` objects (SearchResponse.to_dict, index --json,
status --json), with keys added for the page (`snippet`, `terms`, `notices`, `offset`);
the schema is documented in docs/api.md. Every error is `{"error": "<one line>"}`.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from starlette.exceptions import HTTPException

from .. import __version__
from ..config import Settings
from ..errors import (
    CorpusError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    SearchkitError,
)
from . import context, discovery, files
from .engine import Engine
from .filters import FILTER_PARAMS, FILTERS_AVAILABLE, check_known, filter_from_params, filter_values
from .guard import Guard
from .updater import Updater

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
MAX_OFFSET = 990  # offset + k stays within the searcher's MAX_K (1000)

M = TypeVar("M", bound=BaseModel)


# The bodies' own fields are declared (so the routes read them typed); the filter fields,
# one per FILTER_PARAMS name, are added by create_model.
class _SimilarFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    k: int = 10
    mode: str = "hybrid"


class _ParagraphsFields(_SimilarFields):
    k: int = 3


_FilterFields: dict[str, Any] = {name: (list[str] | str | None, None) for name in FILTER_PARAMS}
SimilarBody = create_model("SimilarBody", __base__=_SimilarFields, **_FilterFields)
ParagraphsBody = create_model("ParagraphsBody", __base__=_ParagraphsFields, **_FilterFields)


class GuardedApp(Guard):
    """The FastAPI app inside the request guard; `state` is the app's, so callers (tests, serve)
    reach the engine through what they hold."""

    def __init__(self, api: FastAPI, bound_host: str):
        super().__init__(api, bound_host=bound_host)
        self.api = api
        self.state = api.state


def create_app(settings: Settings, host: str = "127.0.0.1", searcher_factory=None, embedder=None,
               token: str | None = None) -> GuardedApp:
    """The ASGI application (FastAPI inside the request guard). `embedder` is for updates
    (None: the configured model); `searcher_factory` builds each generation's Searcher;
    `token` is the one written to the index folder for the CLI (discovery.py; None: a new one)."""
    # No Swagger/ReDoc pages: they load their scripts from a CDN and the server works offline;
    # the description itself is at /openapi.json.
    api = FastAPI(title="searchkit", version=__version__, docs_url=None, redoc_url=None,
                  description="Hybrid keyword + semantic search over Chinese speeches. "
                              "Errors are {\"error\": \"<one line>\"}; see docs/api.md.")
    api.state.settings = settings
    api.state.token = token or discovery.new_token()
    api.state.index_header = quote(discovery.resolved(settings.index_dir))  # headers are latin-1
    api.state.engine = Engine(settings, searcher_factory)
    api.state.updater = Updater(settings, api.state.engine, embedder)
    api.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    api.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _add_error_handlers(api)
    _add_search_routes(api)
    _add_index_routes(api)
    _add_update_routes(api)
    return GuardedApp(api, bound_host=host)


# -- errors ---------------------------------------------------------------------------------------

def _status_of(error: SearchkitError) -> int:
    if isinstance(error, files.Forbidden):
        return 403
    if isinstance(error, InputError):
        return 400
    if isinstance(error, IndexLockedError):
        return 409
    if isinstance(error, (IndexMissingError, IndexMismatchError, IndexCorruptError, CorpusError)):
        return 503  # the server's index or corpus is not usable now; the request itself was fine
    return 500


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(errors) -> str:
    first = errors[0]
    where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "body", "path"))
    if first.get("type") == "extra_forbidden":
        return f"unknown field {where!r}; send text, k, mode or a filter ({', '.join(FILTER_PARAMS)})"
    given = first.get("input")
    shown = f" {given!r}" if isinstance(given, (str, int, float)) else ""
    return f"invalid {where or 'request'}{shown}: {first.get('msg', 'not accepted')}"


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(SearchkitError)
    async def searchkit_error(_request, error: SearchkitError):
        return _error(_status_of(error), str(error))

    @api.exception_handler(context.NotFound)
    async def not_found(_request, error):
        return _error(404, str(error))

    @api.exception_handler(RequestValidationError)
    async def bad_request(_request, error: RequestValidationError):
        return _error(400, _validation_message(error.errors()))

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        message = {404: f"no such address: {request.url.path}; the API is described at /openapi.json",
                   405: f"{request.method} is not accepted at {request.url.path}; see /openapi.json for the method to use",
                   }.get(error.status_code, str(error.detail))
        return _error(error.status_code, message)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):  # a bug: logged in full, one line to the client
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return _error(500, f"internal error ({type(error).__name__}); the details are in the server's log")


async def _json_body(request: Request, model: type[M]) -> M:
    """Parse a JSON body ourselves, so non-UTF-8, non-JSON and wrong fields each get their
    own one-line message."""
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("the request body is not UTF-8; send JSON encoded as UTF-8") from None
    except json.JSONDecodeError as error:
        raise InputError(f"the request body is not JSON ({error.msg} at character {error.pos}); "
                         'send e.g. {"text": "…", "k": 10}') from None
    if not isinstance(data, dict):
        raise InputError('the request body must be a JSON object, e.g. {"text": "…", "k": 10}')
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(_validation_message(error.errors())) from None


def _body_filters(body: BaseModel) -> dict[str, list[str]]:
    def getlist(name):
        value = getattr(body, name)
        return [] if value is None else [value] if isinstance(value, str) else value

    return filter_values(getlist)


def _body_schema(model) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


# -- search ---------------------------------------------------------------------------------------

def _page_dict(response, offset: int = 0) -> dict:
    out = response.to_dict()
    out["results"] = out["results"][offset:]
    for result in out["results"]:
        result["snippet"] = context.snippet_dict(result["text"], response.terms)
    out.update(offset=offset, terms=list(response.terms), notices=list(response.notices))
    return out


def _answer(api: FastAPI, request: Request, query: Callable[[Any], dict]) -> JSONResponse:
    """Run a query on the Searcher and say which generation and index answered it: the CLI
    forwarding a query (forward.py) accepts the answer only if that is what it would read."""
    given = request.headers.get(discovery.TOKEN_HEADER)
    if given is not None and given != api.state.token:
        raise files.Forbidden(f"wrong {discovery.TOKEN_HEADER}; it is in {discovery.FILE_NAME} in the index folder")
    body, generation = api.state.engine.call(lambda s: (query(s), s.generation.path.name))
    # JSONResponse directly: the dict is already plain JSON, FastAPI's encoder pass would only cost time
    return JSONResponse(body, headers={discovery.GENERATION_HEADER: generation,
                                       discovery.INDEX_HEADER: api.state.index_header})


def _add_search_routes(api: FastAPI) -> None:
    @api.get("/", include_in_schema=False)
    def page(request: Request):
        return api.state.templates.TemplateResponse(
            request, "index.html", {"version": __version__, "filters_available": FILTERS_AVAILABLE})

    @api.get("/api/search", summary="Passages for a few words (the CLI's `search --json`)")
    def search(request: Request, q: str = "", k: int = 10, mode: str = "hybrid", offset: int = 0):
        check_known(request.query_params.keys(), ("q", "k", "mode", "offset"))
        if not 0 <= offset <= MAX_OFFSET:
            raise InputError(f"offset must be between 0 and {MAX_OFFSET} (got {offset})")
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k})")
        flt = filter_from_params(filter_values(request.query_params.getlist))
        return _answer(api, request, lambda s: _page_dict(s.search(q, k=offset + k, mode=mode, filter=flt), offset))

    @api.post("/api/similar", summary="Passages like a paragraph (the CLI's `similar --json`)",
              openapi_extra=_body_schema(SimilarBody))
    async def similar(request: Request):
        body = await _json_body(request, SimilarBody)
        flt = filter_from_params(_body_filters(body))
        return await run_in_threadpool(_answer, api, request, lambda s: _page_dict(
            s.similar(body.text, k=body.k, mode=body.mode, filter=flt)))

    @api.post("/api/similar/paragraphs", summary="Each paragraph of a draft with its best matches",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": ParagraphsBody.model_json_schema()},
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"}, "k": {"type": "integer"},
                      "mode": {"type": "string"}}}}}}})
    async def paragraphs(request: Request):
        paragraphs_, k, mode, flt = await _draft_request(request)
        return JSONResponse(await run_in_threadpool(_review, api.state.engine, paragraphs_, k, mode, flt))


async def _draft_request(request: Request):
    from .. import drafts

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=20)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError("no file in the form; send the draft as the field `file` (.txt or .docx)")
        data = await upload.read()
        paragraphs = await run_in_threadpool(drafts.draft_from_bytes, upload.filename or "", data)
        check_known(form.keys(), ("file", "k", "mode"))
        flt = filter_from_params(filter_values(form.getlist))
        return paragraphs, _form_int(form.get("k"), 3), form.get("mode") or "hybrid", flt
    body = await _json_body(request, ParagraphsBody)
    return drafts.text_paragraphs(body.text), body.k, body.mode, filter_from_params(_body_filters(body))


def _form_int(value, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"invalid k {value!r}: give a whole number") from None


def _review(engine: Engine, paragraphs, k: int, mode: str, flt) -> list[dict]:
    from ..searcher import validate

    validate(mode, k)  # once, before any paragraph is searched
    return engine.call(lambda s: [{"paragraph": p, **_page_dict(s.similar(p, k=k, mode=mode, filter=flt))}
                                  for p in paragraphs])


# -- the index: status, speeches, facets, passages, files -----------------------------------------

def _status(settings: Settings, engine: Engine, updater: Updater) -> dict:
    from ..status import index_status

    extra = {"serving": engine.serving, "update": updater.snapshot()}
    try:
        return {"ready": True, **index_status(settings), **extra}
    except SearchkitError as error:  # no index yet is a state to show, with the button that builds it
        return {"ready": False, "error": str(error), "index": str(settings.index_dir),
                "corpus": str(settings.corpus_dir), **extra}


def _add_index_routes(api: FastAPI) -> None:
    engine: Engine = api.state.engine

    @api.get("/api/status", summary="What is indexed and whether the corpus changed (`status --json`)")
    def status():
        return _status(api.state.settings, engine, api.state.updater)

    @api.get("/api/speeches", summary="Every speech in the index")
    def speeches(request: Request):
        check_known(request.query_params.keys(), ())
        flt = filter_from_params(filter_values(request.query_params.getlist))
        rows = engine.call(lambda s: context.speeches(s, flt))
        return {"count": len(rows), "speeches": rows}

    @api.get("/api/facets", summary="Values to filter on, with passage counts")
    def facets(request: Request):
        check_known(request.query_params.keys(), ())
        flt = filter_from_params(filter_values(request.query_params.getlist))
        return engine.call(lambda s: context.facets(s, flt))

    @api.get("/api/passage/{chunk_id:path}", summary="A passage in its speech: neighbours, outline, highlights")
    def passage(chunk_id: str, q: str = "", neighbours: int = context.NEIGHBOURS):
        return engine.call(lambda s: context.passage_context(s, chunk_id, q, neighbours))

    @api.get("/api/file", summary="The original file of a source (only files inside the corpus folder)")
    def file(source: str = "", download: bool = False) -> Response:
        indexed = engine.call(lambda s: {row[0] for row in s.meta.files()})
        return files.file_response(Path(api.state.settings.corpus_dir), source, indexed, download)


# -- update ---------------------------------------------------------------------------------------

def _add_update_routes(api: FastAPI) -> None:
    updater: Updater = api.state.updater

    @api.post("/api/update", status_code=202, summary="Start the incremental update in the background")
    def update():
        return updater.start()

    @api.get("/api/update/progress", summary="Progress of the update (JSON, or server-sent events)")
    def progress(request: Request):
        if "text/event-stream" not in request.headers.get("accept", ""):
            return updater.snapshot()
        return StreamingResponse(_events(updater), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})


def _events(updater: Updater, heartbeat: float = 15.0):
    """One `data:` event per change until the update has finished (then the stream ends)."""
    version, state = -1, updater.snapshot()
    while True:
        version, state = updater.wait_change(version, heartbeat)
        yield f"data: {json.dumps(state, ensure_ascii=False)}\n\n"
        if state.get("state") != "running":
            return
