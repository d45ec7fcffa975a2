"""Running the app with uvicorn on a socket bound beforehand (so a busy port is a one-line
error before anything loads, and tests can bind port 0)."""
from __future__ import annotations

import logging
import signal
import socket

from ..errors import InputError
from . import discovery
from .guard import WILDCARDS, is_loopback


def listen(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise InputError(f"--port must be between 0 and 65535 (got {port})")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise InputError(f"cannot listen on --host {host!r}: {error.strerror}; give an address such as 127.0.0.1") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror}; choose another port with --port "
                         "(or stop the server already running there)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in WILDCARDS else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


def server_for(app, sock: socket.socket, log_level: str = "warning"):
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=3)
    return uvicorn.Server(config)


def serve_forever(settings, sock: socket.socket, host: str, console) -> None:
    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader narrates which build it picked
    if not is_loopback(host):
        console.print(f"[bold yellow]warning:[/] listening on {host}: anyone who can reach this machine "
                      "can read the corpus and start updates; use --host 127.0.0.1 to keep it to this machine")
    app = create_app(settings, host=host)
    console.print(f"searchkit: serving {settings.index_dir} (corpus {settings.corpus_dir}) at "
                  f"{url_of(sock, host)} · API description at {url_of(sock, host)}/openapi.json · Ctrl-C to stop")
    server = server_for(app, sock, log_level="info")
    # tell `searchkit search` on this index where to send its queries (removed on a clean stop)
    advert = discovery.write(settings, host, sock.getsockname()[1], app.state.token)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; with the default
    # action the process would die there, before the server file is removed below.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        server.run(sockets=[sock])
    finally:
        discovery.remove(advert, app.state.token)
        app.state.engine.close()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, _frame):
    raise SystemExit(128 + signum)  # the shell's code for "terminated by this signal"
