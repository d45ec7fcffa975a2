"""Request checks that come before any route: Host (DNS rebinding), Origin (cross-site
requests from other pages in the browser), body size, UTF-8 in the URL.

A plain ASGI middleware: it answers a refused request itself with a one-line JSON error
and never lets it reach a route.
"""
from __future__ import annotations

import ipaddress
import json
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.exceptions import HTTPException

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARDS = {"0.0.0.0", "::", ""}
MAX_BODY = 8 * 1024 * 1024  # a .docx draft with pictures stays below this; larger is refused
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound_host: str) -> set[str] | None:
    """Host header names the server answers to; None = any (bound to every interface, where
    the machine's own names cannot be listed; `serve` warns about that)."""
    if bound_host in WILDCARDS:
        return None
    return LOOPBACK_NAMES | {bound_host.strip("[]").lower()}


def _hostname(host_header: str) -> str:
    try:
        return (urlsplit(f"//{host_header}").hostname or "").lower()
    except ValueError:
        return ""


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class TooLarge(HTTPException):
    """Raised while a route reads the body: the app's HTTPException handler answers 413."""


class Guard:
    def __init__(self, app, bound_host: str = "127.0.0.1", max_body: int = MAX_BODY):
        self.app = app
        self.hosts = allowed_hosts(bound_host)
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = self._check(scope)
        if problem:
            return await _refuse(send, *problem)
        if scope["method"] in SAFE_METHODS:
            return await self.app(scope, receive, send)
        return await self._limited(scope, receive, send)

    def _check(self, scope) -> tuple[int, str] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and _hostname(host) not in self.hosts:
            # a page on another site that made its name resolve to 127.0.0.1 (DNS rebinding)
            return 421, (f"this server answers only to {', '.join(sorted(self.hosts))} (Host was {host!r}); "
                         "open it by that address")
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if headers.get("sec-fetch-site") == "cross-site" or (origin is not None and _origin_host(origin) != host.lower()):
                return 403, (f"cross-site request refused (Origin {origin!r} is not this server); "
                             "use the page served by searchkit itself")
        try:  # percent-escapes that are not UTF-8 would become U+FFFD and search for something else
            unquote_to_bytes(scope.get("query_string", b"").decode("latin-1").replace("+", " ")).decode("utf-8")
            unquote_to_bytes(scope.get("raw_path", b"").decode("latin-1")).decode("utf-8")
        except UnicodeDecodeError:
            return 400, "the URL is not UTF-8; send the query as UTF-8 (percent-encoded)"
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return 413, self._too_large_message()
        return None

    def _too_large_message(self) -> str:
        return (f"the request body is larger than {self.max_body // (1024 * 1024)} MB; "
                "send a shorter text or a smaller file")

    async def _limited(self, scope, receive, send):
        """Count the bytes of a body sent without (or with a false) Content-Length."""
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge(413, self._too_large_message())
            return message

        await self.app(scope, counting_receive, send)


def _origin_host(origin: str) -> str:
    """"http://127.0.0.1:8000" -> "127.0.0.1:8000" (what the Host header of the same site says)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return ""
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""
