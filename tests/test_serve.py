"""``portfolio serve`` for real: a server process, a page fetched, a record broken and fixed."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from conftest import CONCERN_MD, EVIDENCE_01, MakePortfolio
from generator.cli import cli


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def wait_for(check, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@dataclass
class Server:
    """A ``portfolio serve`` process, the address it announced, and where its stderr goes."""

    process: subprocess.Popen[str]
    base: str
    port: int
    stderr: Path

    def errors(self) -> str:
        return self.stderr.read_text()


def _read_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


#: ``portfolio serve`` as a terminal starts it, where Ctrl-C and a hang-up are not ignored,
#: whatever this test run inherited (a run started in the background or under nohup ignores
#: them, and serve leaves a signal its caller chose to ignore ignored).
AS_FROM_A_TERMINAL = (
    "import signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "if hasattr(signal, 'SIGHUP'):\n"
    "    signal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
    "from generator.cli import main\n"
    "sys.argv[0] = 'portfolio'\n"
    "main()\n"
)


def serve_command(root: Path) -> list[str]:
    return [sys.executable, "-c", AS_FROM_A_TERMINAL, "serve", str(root), "--port", "0"]


@contextmanager
def running_serve(root: Path, logs: Path, temp: Path | None = None) -> Iterator[Server]:
    """Start ``portfolio serve`` (as from a terminal) on a free port; wait until it says where.

    With ``temp``, the server's temporary folders go there (TMPDIR) so a test can see them.
    Whatever happens, the process is stopped (SIGINT, then SIGKILL) before this returns.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if temp is not None:
        env["TMPDIR"] = str(temp)
    stderr = logs / "serve-stderr.txt"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            serve_command(root),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            raise AssertionError(f"serve did not start: {stderr.read_text()}") from None
        match = re.match(r"Serving (http://127\.0\.0\.1:(\d+)/) \(press Ctrl-C to stop\)", first)
        assert match, first
        yield Server(process, match.group(1), int(match.group(2)), stderr)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def request(
    port: int, host: str | None, path: str = "/", method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request to 127.0.0.1:``port`` with the Host header given (None: no Host header)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serve_rebuilds_shows_errors_and_recovers(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    with running_serve(root, tmp_path) as server:
        base = server.base
        status, page = fetch(base + "concerns/MED-01.html")
        assert status == 200 and "Medicines records incomplete" in page
        assert "/__portfolio/version" in page  # the reload script, added by the server
        version = fetch(base + "__portfolio/version")[1]

        record = root / "concerns" / "med-01.md"
        record.write_text(CONCERN_MD.replace("risk: high", "risk: severe"))
        wait_for(lambda: fetch(base + "index.html")[0] == 500)
        status, page = fetch(base + "concerns/MED-01.html")
        assert status == 500
        assert "med-01.md:10: risk: &#39;severe&#39; is not allowed here" in page
        assert fetch(base + "__portfolio/version")[1] != version

        record.write_text(
            CONCERN_MD.replace("Medicines records incomplete", "Medicines records fixed")
        )
        wait_for(lambda: "Medicines records fixed" in fetch(base + "concerns/MED-01.html")[1])
        assert fetch(base + "index.html")[0] == 200

        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=15) == 0
    assert "Traceback" not in server.errors()


def test_a_busy_port_is_a_clear_error(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    temp = tmp_path / "tmp"
    temp.mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "generator", "serve", str(root), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "TMPDIR": str(temp)},
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"127.0.0.1:{port}: port {port} is in use by another program: stop it, or choose "
        "another port with --port (--port 0 picks a free one)\n"
        "1 error; nothing was written.\n"
    )
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_a_usage_error(make_portfolio: MakePortfolio, port: str) -> None:
    result = CliRunner().invoke(cli, ["serve", str(make_portfolio()), "--port", port])
    assert result.exit_code == 2
    assert f"Invalid value for '--port': {port} is not in the range 0<=x<=65535." in result.output
    assert "Traceback" not in result.output


def test_serve_answers_only_to_its_own_host_names(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    # A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and read what
    # comes back: the server must refuse any Host header but its own.
    with running_serve(make_portfolio(), tmp_path) as server:
        port = server.port
        for host in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"LocalHost:{port}",
            f"[::1]:{port}",
        ):
            status, _, body = request(port, host, "/concerns/MED-01.html")
            assert status == 200 and b"Medicines records incomplete" in body, host
        strangers = [
            "attacker.example",
            f"attacker.example:{port}",
            f"localhost:{port}.attacker.example",
            f"attacker.example#@localhost:{port}",
            f"127.0.0.2:{port}",
            f"0.0.0.0:{port}",
            f"localhost.:{port}",
            f"localhost:0{port}",
            "localhost:80",
            "127.0.0.1",  # no port: a browser sends that only for port 80
            "localhost",
            "[::1]",
            "",
        ]
        paths = [
            "/",
            "/concerns/MED-01.html",
            "/__portfolio/version",
            "/files/attachments/",
            "/files/attachments/jan-audit.csv",
        ]
        for host in strangers:
            for path in paths:
                for method in ("GET", "HEAD", "POST"):
                    status, headers, body = request(port, host, path, method)
                    assert (status, body) == (421, b""), (host, path, method)
                    assert headers.get("Content-Length") == "0"
        # No Host header at all, two of them, or a request naming another host is a bad request.
        assert request(port, None)[::2] == (400, b"")
        assert request(port, f"127.0.0.1:{port}", "http://attacker.example/")[::2] == (400, b"")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.putrequest("GET", "/", skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{port}")
        connection.putheader("Host", "attacker.example")
        connection.endheaders()
        response = connection.getresponse()
        assert (response.status, response.read()) == (400, b"")
        connection.close()


@pytest.mark.parametrize(
    ("port", "hosts"),
    [
        (8000, {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}),
        # Browsers leave out the port when it is http's own, 80.
        (80, {"127.0.0.1:80", "localhost:80", "[::1]:80", "127.0.0.1", "localhost", "[::1]"}),
    ],
)
def test_the_host_names_a_browser_sends_for_a_port(port: int, hosts: set[str]) -> None:
    from generator.tools.serve import own_hosts

    assert own_hosts(port) == hosts


def test_serve_lists_no_folder(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    with running_serve(make_portfolio(), tmp_path) as server:
        host = f"127.0.0.1:{server.port}"
        for path in ("/files/attachments/", "/files/", "/downloads/", "/assets/fonts/"):
            for method in ("GET", "HEAD"):
                status, _, body = request(server.port, host, path, method)
                assert status == 404, (path, method)
                assert b"jan-audit" not in body and b"Directory listing" not in body
                assert b".xlsx" not in body and b".ttf" not in body
        assert request(server.port, host, "/files/attachments")[0] == 301  # then 404, as above
        assert request(server.port, host, "/governance/")[0] == 200  # a folder with index.html
        status, _, body = request(server.port, host, "/files/attachments/jan-audit.csv")
        assert (status, body) == (200, b"chart,complete\nA,yes\n")


STOPPING_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("signum", STOPPING_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_stopping_removes_the_preview_from_disk(
    make_portfolio: MakePortfolio, tmp_path: Path, signum: int
) -> None:
    # The preview is the internal edition, personal data included: it must not outlive serve.
    temp = tmp_path / "tmp"
    temp.mkdir()
    with running_serve(make_portfolio(), tmp_path, temp) as server:
        assert fetch(server.base + "index.html")[0] == 200
        made = list(temp.glob("portfolio-preview-*"))
        assert len(made) == 1 and (made[0] / "site" / "index.html").is_file()
        server.process.send_signal(signum)
        assert server.process.wait(timeout=15) == 0
    assert list(temp.iterdir()) == []
    assert "Traceback" not in server.errors()


@pytest.mark.parametrize("signum", STOPPING_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_stopping_during_the_first_build_removes_the_preview(
    make_portfolio: MakePortfolio, tmp_path: Path, signum: int
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with (tmp_path / "stderr.txt").open("w") as err:
        process = subprocess.Popen(
            serve_command(make_portfolio()),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "TMPDIR": str(temp)},
        )
    try:
        wait_for(lambda: any(temp.glob("portfolio-preview-*")), seconds=30)
        process.send_signal(signum)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
    assert list(temp.iterdir()) == []
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


def test_signals_in_a_row_do_not_cut_the_removal_short(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    with running_serve(make_portfolio(), tmp_path, temp) as server:
        assert fetch(server.base + "index.html")[0] == 200
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
            server.process.send_signal(signum)
        assert server.process.wait(timeout=15) == 0
    assert list(temp.iterdir()) == []
    assert "Traceback" not in server.errors()


def test_a_browser_that_hangs_up_is_no_error(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    # Larger than what the sockets of both ends can hold, so the server is still writing when
    # the client resets the connection.
    big = bytes(16 * 1024 * 1024)
    root = make_portfolio(
        {
            "evidence/ev-01.md": EVIDENCE_01.replace("jan-audit.csv", "big.bin"),
            "attachments/big.bin": big,
        }
    )
    with running_serve(root, tmp_path) as server:
        request_line = f"GET /files/attachments/big.bin HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"
        for _ in range(3):
            with socket.socket() as client:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                client.settimeout(5)
                client.connect(("127.0.0.1", server.port))
                client.sendall(request_line.encode() + b"\r\n\r\n")
                assert client.recv(16).startswith(b"HTTP/1.0 200")
                # Closing at once, with data unread: the server's next write fails.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert fetch(server.base + "index.html")[0] == 200
        time.sleep(1)  # give the server's threads time to report, if they were going to
    errors = server.errors()
    assert "Traceback" not in errors
    assert "BrokenPipe" not in errors and "ConnectionReset" not in errors


def test_a_second_preview_cannot_share_the_port(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    with running_serve(root, tmp_path) as server:
        result = subprocess.run(
            [sys.executable, "-m", "generator", "serve", str(root), "--port", str(server.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"127.0.0.1:{server.port}: port {server.port} is in use")


def test_a_name_that_is_not_utf8_does_not_stop_the_preview(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    with running_serve(root, tmp_path) as server:
        base = server.base
        assert fetch(base + "index.html")[0] == 200
        (root / "attachments" / os.fsdecode(b"Caf\xe9 menu.txt")).write_bytes(b"menu\n")
        (root / "concerns" / os.fsdecode(b"caf\xe9.md")).write_text(CONCERN_MD)
        wait_for(lambda: fetch(base + "index.html")[0] == 500)
        assert "caf\\xe9.md: this name is not valid UTF-8" in fetch(base + "index.html")[1]
        (root / "concerns" / os.fsdecode(b"caf\xe9.md")).unlink()
        wait_for(lambda: fetch(base + "index.html")[0] == 200)
        assert server.process.poll() is None
    assert "internal error" not in server.errors() and "Traceback" not in server.errors()
