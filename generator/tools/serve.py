"""``portfolio serve``: a local preview that rebuilds when a record changes.

The server listens on 127.0.0.1 only. It builds the site (without the PDF, which takes longer)
into a folder of its own, watches the portfolio with watchfiles, and rebuilds on every change.
Pages it serves carry a small script, added by the server and never written into the site, that
reloads the page after a rebuild. When a change breaks a record, every page shows the errors
(file, line, message) until the file is fixed; the server keeps running.

The preview is the internal edition, personal data included, so the server answers only requests
addressed to this computer by name (the Host header): a web page elsewhere that points a name of
its own at 127.0.0.1 (DNS rebinding) gets 421 and nothing else. No folder is ever listed.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from markupsafe import escape

from generator.errors import PortfolioError, Problem
from generator.pipeline import preview

PREVIEW_PREFIX = "portfolio-preview-"
VERSION_PATH = "/__portfolio/version"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
RELOAD_SCRIPT = """<script>
(function () {
  var seen = null;
  function poll() {
    fetch("VERSION_URL", {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (v) {
      if (seen !== null && v !== seen) { window.location.reload(); }
      seen = v;
    }).catch(function () {}).finally(function () { setTimeout(poll, 700); });
  }
  poll();
})();
</script>""".replace("VERSION_URL", VERSION_PATH)


@dataclass
class Preview:
    """The state the server shares with the rebuilding thread."""

    source: Path
    out: Path
    version: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rebuild(self) -> None:
        """Build the site again; keep the errors to show if it fails."""
        try:
            preview(self.source, self.out)
            errors: list[str] = []
        except PortfolioError as exc:
            errors = [str(p) for p in exc.problems]
        with self.lock:
            self.errors = errors
            self.version += 1


def error_page(errors: list[str]) -> bytes:
    """A page that lists the build's errors, each with its file and line."""
    items = "".join(f"<li><code>{escape(e)}</code></li>" for e in errors)
    count = len(errors)
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        "<title>Build errors</title><style>body{font-family:sans-serif;margin:2rem;max-width:60rem}"
        "li{margin:.5rem 0}code{white-space:pre-wrap}</style></head><body><main>"
        f"<h1>The portfolio has {count} error{'s' if count != 1 else ''}</h1>"
        "<p>Fix these in your files; this page comes back as soon as they build.</p>"
        f"<ol>{items}</ol></main>{RELOAD_SCRIPT}</body></html>"
    ).encode()


def own_hosts(port: int) -> frozenset[str]:
    """The Host headers a browser sends to reach this server on ``port``: a loopback name with
    the port, or without it for port 80, which browsers leave out as http's own."""
    hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == 80:
        hosts.update(LOOPBACK_NAMES)
    return frozenset(hosts)


class _Server(ThreadingHTTPServer):
    """The preview's HTTP server, which knows the Host headers that address it."""

    daemon_threads = True
    # Never share the port with another server, so a second preview on it is refused rather
    # than answering half the requests: no SO_REUSEPORT anywhere, and no SO_REUSEADDR on
    # Windows, where it lets a second socket take a port in use.
    allow_reuse_port = False
    allow_reuse_address = os.name != "nt"
    hosts: frozenset[str] = frozenset()

    def server_bind(self) -> None:
        super().server_bind()
        # Known only now: port 0 asks the system for a free port.
        self.hosts = own_hosts(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Report a fault in answering a request, but not a browser that hung up before the
        answer was sent (a page left or reloaded while it loaded): that is no fault."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(SimpleHTTPRequestHandler):
    preview: Preview
    server: _Server

    def __init__(self, *args: Any, preview: Preview, **kwargs: Any) -> None:
        self.preview = preview
        super().__init__(*args, directory=str(preview.out), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def parse_request(self) -> bool:
        """Read the request line and headers; refuse a request addressed to another name."""
        if not super().parse_request():
            return False
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or not self.path.startswith("/"):
            return self._refuse(HTTPStatus.BAD_REQUEST)
        if hosts[0].lower() not in self.server.hosts:
            return self._refuse(HTTPStatus.MISDIRECTED_REQUEST)
        return True

    def _refuse(self, status: HTTPStatus) -> bool:
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        return False

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        """Never list a folder: a folder without index.html is not found."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == VERSION_PATH:
            with self.preview.lock:
                self._send(str(self.preview.version).encode(), "text/plain")
            return
        is_page = path.endswith((".html", "/"))
        with self.preview.lock:
            errors = list(self.preview.errors)
        if errors and is_page:
            self._send(error_page(errors), "text/html; charset=utf-8", status=500)
            return
        if is_page:
            target = Path(self.translate_path(path))
            if target.is_dir():
                target = target / "index.html"
            if target.is_file():
                page = target.read_bytes().replace(b"</body>", RELOAD_SCRIPT.encode() + b"</body>")
                self._send(page, "text/html; charset=utf-8")
                return
        super().do_GET()

    def _send(self, body: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _signals(handler: Callable[[int, FrameType | None], Any] | int, *names: str) -> Iterator[None]:
    """Handle the signals ``names`` (those this system has and nobody chose to ignore) with
    ``handler`` inside the block, as before after it. Only the main thread can do so."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in names:
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, signal.SIG_DFL if before is None else before)


class _StopOnce:
    """A signal handler that stops the server as Ctrl-C does, by KeyboardInterrupt, and only
    once: a second signal while it stops must not cut the removal of its folder short."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt


def serve(
    source: Path, port: int, announce: Callable[[str], None], stop: threading.Event | None = None
) -> None:
    """Serve a live preview of the portfolio at ``source`` until interrupted or ``stop`` is set.

    The site is built into a new folder named ``portfolio-preview-*`` in the system's temporary
    folder (``TMPDIR``); it holds personal data, so it is removed however the server stops:
    Ctrl-C, SIGTERM, SIGHUP (the terminal closed) or ``stop``.
    """
    if not 0 <= port <= 65535:
        # socket.bind would raise OverflowError, which is not an OSError.
        raise PortfolioError(
            [
                Problem(
                    f"127.0.0.1:{port}", 0, "a port is a number from 0 to 65535 (0: any free one)"
                )
            ]
        )
    stop = stop or threading.Event()
    folder: Path | None = None
    server: _Server | None = None
    thread: threading.Thread | None = None
    hook = sys.unraisablehook
    with _signals(_StopOnce(), "SIGINT", "SIGTERM", "SIGHUP"):
        try:
            folder = Path(tempfile.mkdtemp(prefix=PREVIEW_PREFIX))
            preview = Preview(source, folder / "site")
            # The port first: a port in use is reported at once, not after a whole build.
            server = _listen(port, preview)
            seen = _snapshot(source)  # what the first build reads, to catch what changes
            preview.rebuild()
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            host, bound = server.server_address[:2]
            announce(f"Serving http://{host!s}:{bound}/ (press Ctrl-C to stop)")
            if preview.errors:
                announce(f"The portfolio has {len(preview.errors)} errors; the pages list them.")
            for _changes in _changes_in(source, stop, seen):
                preview.rebuild()
                state = f"{len(preview.errors)} errors" if preview.errors else "ok"
                announce(f"Rebuilt ({state})")
        except KeyboardInterrupt:
            # What a build stopped halfway held (a workbook half written, say) is let go as this
            # block ends; a library's complaint at being stopped mid-way is not the user's, so
            # it is not printed (until all of it is collected, below).
            sys.unraisablehook = _quietly
        finally:
            stop.set()
            if server is not None:
                if thread is not None:
                    server.shutdown()  # waits for serve_forever, so only once it runs
                    thread.join(timeout=5)
                server.server_close()
            if folder is not None:
                _remove(folder)
            if sys.unraisablehook is _quietly:
                gc.collect()
                sys.unraisablehook = hook


def _quietly(unraisable: Any) -> None:
    """Say nothing of an error raised while an object is let go."""


def _changes_in(
    source: Path, stop: threading.Event, seen: dict[bytes, tuple[int, int]]
) -> Iterator[object]:
    """Each change to the files of ``source``, until ``stop`` is set.

    ``seen`` is the folder as it was before the first build: a change made before the watcher
    started (while the site was built, say) is caught by comparing with it once the watcher
    runs. watchfiles watches by events; when it cannot go on (it gives up on a file name that
    is not UTF-8, say), the folder is looked at twice a second instead, by bytes, so the
    preview keeps running and shows the build's error naming the file.
    """
    from watchfiles import watch

    started = False
    try:
        for changes in watch(
            source, stop_event=stop, debounce=300, rust_timeout=500, yield_on_timeout=True
        ):
            if changes:
                started = True
                yield changes
            elif not started:
                started = True
                if _snapshot(source) != seen:
                    yield "changed before the watcher started"
        return
    except Exception:  # the watcher stopped: whatever changed is built, then polled for
        if stop.is_set():
            return
        yield "the watcher stopped"
    before = _snapshot(source)
    while not stop.wait(0.5):
        now = _snapshot(source)
        if now != before:
            before = now
            yield now


def _snapshot(source: Path) -> dict[bytes, tuple[int, int]]:
    """Every file under ``source`` (its name as bytes) with its modification time and size."""
    found: dict[bytes, tuple[int, int]] = {}
    for folder, _, names in os.walk(os.fsencode(source)):
        for name in names:
            path = os.path.join(folder, name)
            try:
                status = os.stat(path)
            except OSError:
                continue
            found[path] = (status.st_mtime_ns, status.st_size)
    return found


def _listen(port: int, preview: Preview) -> _Server:
    """A server bound to 127.0.0.1:``port``, answering from ``preview``; if the system refuses
    the port, a message that says why and what to do."""
    try:
        return _Server(("127.0.0.1", port), partial(_Handler, preview=preview))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = f"port {port} is in use by another program: stop it, or choose"
        else:
            why = f"cannot listen on port {port} ({exc.strerror}): choose"
        raise PortfolioError(
            [
                Problem(
                    f"127.0.0.1:{port}",
                    0,
                    f"{why} another port with --port (--port 0 picks a free one)",
                )
            ]
        ) from None


def _remove(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise PortfolioError(
            [
                Problem(
                    folder.as_posix(),
                    0,
                    f"the preview could not be removed ({exc.strerror}): it holds personal "
                    "data, so delete this folder yourself",
                )
            ]
        ) from None
