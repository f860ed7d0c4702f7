"""The playground's web server: the page, its static files, and one WebSocket per tab.

Starlette serves ``static/`` and ``/ws``; uvicorn runs it. Each WebSocket gets its own
:class:`~mlplab.playground.session.Session`; training runs while the tab plays and stops when
it pauses or closes. Frames are paced by the page: the server keeps at most ``IN_FLIGHT``
frames unacknowledged, so a slow page slows the training instead of queueing frames. While
paused the server only waits on the socket (no polling).

Safety: loopback by default; the Host header must name this server (against DNS rebinding)
and a WebSocket's Origin must be this very page, or it is refused (HTTP 403).
"""
from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import setup as setup_mod
from .session import Session
from .setup import SetupError

STATIC = Path(__file__).parent / "static"
IN_FLIGHT = 2
MAX_MESSAGE_BYTES = 4 * setup_mod.MAX_UPLOAD_BYTES  # larger messages close the socket
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
LIMITS = {"maxLayers": setup_mod.MAX_LAYERS, "maxNeurons": setup_mod.MAX_NEURONS,
          "maxUploadBytes": setup_mod.MAX_UPLOAD_BYTES, "maxMessageBytes": MAX_MESSAGE_BYTES,
          "maxUploadRows": setup_mod.MAX_UPLOAD_ROWS, "maxSamples": setup_mod.MAX_SAMPLES,
          "maxEpochsPerFrame": setup_mod.MAX_EPOCHS_PER_FRAME}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str | None, host_header: str | None, allowed_hosts) -> bool:
    """True when the Origin is http://<the Host header> and that host is one we serve."""
    if not origin or not host_header:
        return False
    parts = urlsplit(origin)
    if parts.scheme != "http" or parts.netloc != host_header:
        return False
    name = urlsplit("//" + host_header).hostname or ""
    return "*" in allowed_hosts or name in allowed_hosts


class Tab:
    """One WebSocket: reads the page's messages and, while playing, trains and sends."""

    def __init__(self, ws: WebSocket, sessions: set):
        self.ws, self.session, self.sessions = ws, Session(), sessions
        self.playing = False
        self.trainer: asyncio.Task | None = None
        self.unacked = 0
        self.acked = asyncio.Event()

    async def send(self, message: dict) -> None:
        await self.ws.send_text(json.dumps(message, separators=(",", ":")))

    async def run(self) -> None:
        self.sessions.add(self.session)
        await self.send({"type": "hello", "limits": LIMITS, "defaults": setup_mod.DEFAULTS})
        try:
            while True:
                text = await self.ws.receive_text()
                try:
                    await self.handle(json.loads(text))
                except (SetupError, ValueError, TypeError, KeyError) as exc:
                    await self.send({"type": "error", "message": str(exc)})
        except WebSocketDisconnect:
            pass
        finally:
            self.pause()
            self.sessions.discard(self.session)

    def pause(self) -> None:
        self.playing = False
        if self.trainer is not None:
            self.trainer.cancel()
            self.trainer = None

    async def handle(self, msg: dict) -> None:
        kind = msg.get("type") if isinstance(msg, dict) else None
        s = self.session
        if kind == "ack":
            self.unacked = max(0, self.unacked - 1)
            self.acked.set()
        elif kind == "setup":
            reply = s.configure(msg.get("setup", {}))
            if reply["reset"]:
                self.pause()
            await self.send(reply)
            await self.send_state()
            if reply["reset"]:
                await self.send(s.frame())
        elif kind == "upload":
            await self.send(s.set_upload(msg.get("text")))
        elif kind == "play":
            if not self.playing and s.resume():
                self.playing = True
                self.unacked = 0
                self.trainer = asyncio.create_task(self.train_loop())
            elif not self.playing:
                await self.send({"type": "error", "message": f"Stopped: {s.stop_reason}. "
                                 f"Change the stop rule, press Step, or Reset."})
            await self.send_state()
        elif kind == "pause":
            self.pause()
            await self.send_state()
        elif kind == "step":
            self.pause()
            s.stop_reason = None  # a step goes past a stop rule on request
            await self.send(s.train(1))
            await self.send_state()
        elif kind == "reset":
            self.pause()
            s.reset()
            await self.send(s.frame())
            await self.send_state()
        elif kind == "set_weight":
            s.set_weight(msg.get("layer"), msg.get("row"), msg.get("col"), msg.get("value"))
            await self.send(s.frame())
        elif kind == "export_snippet":
            await self.send({"type": "snippet", "text": s.snippet(), "epoch": s.epoch,
                             "edited": s.edited})
        elif kind == "export_model":
            data = base64.b64encode(s.model_file()).decode()
            await self.send({"type": "model_file", "name": "playground-model.npz",
                             "data": data})
        else:
            raise SetupError(f"unknown message type {kind!r}.")

    async def send_state(self) -> None:
        await self.send({"type": "state", "playing": self.playing,
                         "epoch": self.session.epoch, "stopReason": self.session.stop_reason})

    async def train_loop(self) -> None:
        s = self.session
        try:
            while self.playing:
                while self.unacked >= IN_FLIGHT:
                    self.acked.clear()
                    await self.acked.wait()
                frame = s.train()
                self.unacked += 1
                await self.send(frame)
                if s.stop_reason:
                    self.playing = False
                    await self.send_state()
                await asyncio.sleep(0)  # let this tab's messages (pause) and other tabs in
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failure in training: tell the page, stop this tab only
            self.playing = False
            await self.send({"type": "error", "message": f"training stopped: {exc}"})
            await self.send_state()


def create_app(allowed_hosts=LOOPBACK_NAMES) -> Starlette:
    """The ASGI app. ``allowed_hosts``: host names the Host header may carry ("*": any)."""
    allowed = tuple(allowed_hosts)
    sessions: set = set()

    async def index(request):
        return FileResponse(STATIC / "index.html")

    async def ws_endpoint(ws: WebSocket):
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), allowed):
            await ws.close(code=1008)  # before accept: the handshake gets HTTP 403
            return
        await ws.accept()
        await Tab(ws, sessions).run()

    app = Starlette(routes=[Route("/", index), WebSocketRoute("/ws", ws_endpoint),
                            Mount("/static", StaticFiles(directory=STATIC), name="static")],
                    middleware=[Middleware(TrustedHostMiddleware,
                                           allowed_hosts=[h if h != "::1" else "[::1]"
                                                          for h in allowed] + list(allowed))])
    app.state.sessions = sessions
    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server(host: str, port: int):
    import uvicorn

    allowed = LOOPBACK_NAMES if is_loopback(host) else \
        ("*",) if host in ("0.0.0.0", "::") else (*LOOPBACK_NAMES, host)
    sock = _bind(host, port)
    config = uvicorn.Config(create_app(allowed), log_level="warning", ws="websockets-sansio",
                            ws_max_size=MAX_MESSAGE_BYTES, lifespan="off")
    server = uvicorn.Server(config)
    name = f"[{host}]" if ":" in host else host
    return server, sock, f"http://{name}:{sock.getsockname()[1]}/"


class Running:
    """A server started by :func:`start` in a thread; ``url``, ``app``, ``stop()``."""

    def __init__(self, server, sock, url):
        self.server, self.sock, self.url = server, sock, url
        self.app = server.config.app
        self.thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                       daemon=True, name="mlplab-playground")
        self.thread.start()
        while not server.started and self.thread.is_alive():
            self.thread.join(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def start(host: str = "127.0.0.1", port: int = 0) -> Running:
    """Start the server in a background thread (port 0: a free one); for tests, notebooks
    and benchmarks."""
    return Running(*_server(host, port))


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    """Run until Ctrl-C: print the URL, open the browser unless told not to."""
    if not is_loopback(host):
        print(f"Warning: serving the playground on {host}, not loopback: other machines that "
              f"can reach this address can use it (and its CPU). Use --host 127.0.0.1 unless "
              f"you mean that.", file=sys.stderr)
    try:
        server, sock, url = _server(host, port)
    except OSError as exc:
        print(f"mlplab playground: cannot listen on {host}:{port}: {exc.strerror}; choose "
              f"another --port.", file=sys.stderr)
        return 2
    print(f"mlplab playground: {url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("mlplab playground: stopped.")
    return 0
