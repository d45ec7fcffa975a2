"""The CLI's short cut: send `search`/`similar` to a running server for the same index.

A cold `searchkit search` spends most of its time loading the engine (Whoosh, FAISS, the
ONNX session); a server has it loaded. When `<index>/server.json` names a live server for
the same index and settings (discovery.py), the CLI sends the request to its JSON API and
prints the answer exactly as it would print its own. Anything unexpected (no file, a stale
one, a refused connection, a timeout, a 4xx, another generation, a missing header) returns
None and the CLI answers in-process as before, so errors are always the in-process ones.

Standard library only, and nothing of the engine: that is the point.
"""
from __future__ import annotations

import json
import os
from urllib.parse import quote, urlencode

from . import discovery

OPT_OUT_ENV = "SEARCHKIT_NO_SERVER"
CONNECT_TIMEOUT = 0.5  # seconds; loopback connects in microseconds, a refused port at once
ANSWER_TIMEOUT = 20.0  # a query waits behind others, or for a new generation to open; then in-process


def disabled() -> bool:
    return os.environ.get(OPT_OUT_ENV, "").strip() not in ("", "0")


def search(settings, query: str, k: int, mode: str, filters: dict[str, list[str]]) -> dict | None:
    params = [("q", query), ("k", str(k)), ("mode", mode)]
    params += [(name, value) for name, values in filters.items() for value in values]
    return _ask(settings, "GET", "/api/search?" + urlencode(params), None)


def similar(settings, text: str, k: int, mode: str, filters: dict[str, list[str]]) -> dict | None:
    body = json.dumps({"text": text, "k": k, "mode": mode, **filters}, ensure_ascii=False).encode("utf-8")
    return _ask(settings, "POST", "/api/similar", body)


def _ask(settings, method: str, target: str, body: bytes | None) -> dict | None:
    if disabled():
        return None
    server = discovery.read(settings)
    if server is None:
        return None
    import http.client  # only now: an in-process answer does not pay for it

    host = discovery.connect_host(server["host"])
    connection = http.client.HTTPConnection(host, server["port"], timeout=CONNECT_TIMEOUT)
    try:
        connection.connect()
        connection.sock.settimeout(ANSWER_TIMEOUT)  # the connect timeout was short; an answer may take longer
        headers = {discovery.TOKEN_HEADER: server["token"], "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        generation = response.getheader(discovery.GENERATION_HEADER)
        served_index = response.getheader(discovery.INDEX_HEADER)
    except (OSError, http.client.HTTPException):  # refused, reset, timed out (an OSError), garbled
        return None
    finally:
        connection.close()
    if response.status != 200 or served_index != quote(server["index"]) or not generation:
        return None  # any refusal is answered in-process, with the in-process message
    # The server read CURRENT when it answered; if CURRENT names the same generation now, the
    # answer is the one this process would have computed. A build that published meanwhile:
    # answer in-process from the new one.
    if generation != _current(settings):
        return None
    try:
        data = json.loads(payload.decode("utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("results"), list) else None


def _current(settings) -> str | None:
    try:
        with open(os.path.join(settings.index_dir, "CURRENT"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


# What the page's API adds to the CLI's objects (app._page_dict): dropped, so that `--json`
# prints the in-process object key for key.
PAGE_KEYS = ("offset",)
PAGE_RESULT_KEYS = ("snippet",)


def as_cli(data: dict) -> dict:
    """The server's answer as the CLI's response dict: the `--json` object, then `terms` and
    `notices` (what the human output highlights and prints on stderr)."""
    out = {key: value for key, value in data.items() if key not in PAGE_KEYS + ("terms", "notices")}
    out["results"] = [{k: v for k, v in r.items() if k not in PAGE_RESULT_KEYS} for r in data["results"]]
    out["terms"], out["notices"] = list(data.get("terms", [])), list(data.get("notices", []))
    return out
