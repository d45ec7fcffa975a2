"""The file by which a running `searchkit serve` makes itself known to the CLI.

`<index>/server.json` says where the server listens (host, port), who it is (pid, host
name, a random token) and what it serves (the resolved index folder, the settings that
shape answers, searchkit's version). It is readable by its owner only (the token is a
shared secret between the server and the user's own CLI), written atomically, and removed
when the server stops cleanly. A file left behind by a killed server is stale: its pid is
dead or nothing accepts its port, and `read` or the first request says so.

Standard library only: the CLI reads this on every `search`/`similar`, before deciding
whether to load the engine at all.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

from .. import __version__

log = logging.getLogger(__name__)

FILE_NAME = "server.json"
TOKEN_HEADER = "X-Searchkit-Token"
GENERATION_HEADER = "X-Searchkit-Generation"  # which generation answered (the CLI checks it is CURRENT)
INDEX_HEADER = "X-Searchkit-Index"  # which index folder the server serves (resolved)
FORMAT = 1


def new_token() -> str:
    import secrets  # the server's; the CLI only reads tokens

    return secrets.token_urlsafe(24)


def answer_key(settings) -> dict:
    """What, besides the index, decides an answer: two processes that agree on these and on
    the index give the same output for the same request."""
    return {"version": __version__, "model": str(settings.model), "keyword_plan": settings.keyword_plan,
            "precision": settings.precision}


def resolved(index_dir) -> str:
    return str(Path(index_dir).resolve())


def write(settings, host: str, port: int, token: str) -> Path | None:
    """Advertise the server in its index folder; None (and a log line) if the folder cannot
    be written: forwarding is a speed-up, never a reason not to serve."""
    folder = Path(settings.index_dir)
    path = folder / FILE_NAME
    data = {"format": FORMAT, "host": host, "port": port, "pid": os.getpid(), "hostname": socket.gethostname(),
            "token": token, "index": resolved(folder), "settings": answer_key(settings)}
    tmp = folder / f".{FILE_NAME}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner only, from the first byte
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except OSError as error:
        log.warning("cannot write %s (%s): `searchkit search` will not use this server", path, error.strerror)
        tmp.unlink(missing_ok=True)
        return None
    return path


def remove(path: Path | None, token: str) -> None:
    """Remove the file on a clean stop, unless another server has written its own since."""
    if path is None:
        return
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def read(settings) -> dict | None:
    """The live server for this index and these settings, or None: no file, not ours, not
    owner-only, another machine's, a dead pid, another index or other settings."""
    path = Path(settings.index_dir) / FILE_NAME
    try:
        info = os.stat(path)
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None  # someone else's, or readable by others: not a secret any more
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        port, pid = int(data["port"]), int(data["pid"])
        fits = (data["hostname"] == socket.gethostname() and data["index"] == resolved(settings.index_dir)
                and data["settings"] == answer_key(settings) and isinstance(data["token"], str)
                and isinstance(data["host"], str) and 0 < port < 65536)
    except (KeyError, TypeError, ValueError):
        return None
    return data if fits and _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's: the file's owner check already failed then
        return False
    return True


def connect_host(host: str) -> str:
    """Where a client reaches a server bound to `host` (a wildcard means this machine)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host.strip("[]")
