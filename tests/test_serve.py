"""``portfolio serve`` for real: a server process, a page fetched, a record broken and fixed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from conftest import CONCERN_MD, MakePortfolio


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


def test_serve_rebuilds_shows_errors_and_recovers(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(r"Serving (http://127\.0\.0\.1:\d+/) \(press Ctrl-C to stop\)", first)
        assert match, first
        base = match.group(1)
        status, page = fetch(base + "concerns/MED-01.html")
        assert status == 200 and "Medicines records incomplete" in page
        assert "/__portfolio/version" in page  # the reload script, added by the server
        version = fetch(base + "__portfolio/version")[1]

        record = root / "concerns" / "med-01.md"
        record.write_text(CONCERN_MD.replace("risk: high", "risk: severe"))
        wait_for(lambda: fetch(base + "index.html")[0] == 500)
        status, page = fetch(base + "concerns/MED-01.html")
        assert status == 500
        assert "med-01.md:10: risk: &#x27;severe&#x27; is not allowed here" in page
        assert fetch(base + "__portfolio/version")[1] != version

        record.write_text(
            CONCERN_MD.replace("Medicines records incomplete", "Medicines records fixed")
        )
        wait_for(lambda: "Medicines records fixed" in fetch(base + "concerns/MED-01.html")[1])
        assert fetch(base + "index.html")[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0
    err = process.stderr.read() if process.stderr else ""
    assert "Traceback" not in err


def test_a_busy_port_is_a_clear_error(make_portfolio: MakePortfolio) -> None:
    import socket

    root = make_portfolio()
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
        )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"127.0.0.1:{port}: cannot listen here (Address already in use): choose another --port"
    )
    assert "Traceback" not in result.stderr
