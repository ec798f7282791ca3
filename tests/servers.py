"""Real servers on loopback for tests: a free port, a readiness wait, and a sure stop at the end."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, *, timeout: float = 60,
                  log: Path | None = None) -> None:
    """Poll `url` until it answers 200; fail early, with the server's log, if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        exited = process is not None and process.poll() is not None
        if exited or time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            state = f"exited with {process.returncode}" if exited else f"not ready after {timeout:.0f} s"
            raise RuntimeError(f"server at {url} {state}:\n{output}")
        time.sleep(0.25)


@contextlib.contextmanager
def server_process(command: list[str], ready_url: str, log: Path, *, timeout: float = 60,
                   env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Start `command`, wait for `ready_url`, and always stop the process (terminate, then kill)."""
    with log.open("w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_http(ready_url, process, timeout=timeout, log=log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


Responder = Callable[[str, dict, dict], tuple[int, dict]]  # (path, lowercased headers, body) -> (status, json)


@contextlib.contextmanager
def json_server(respond: Responder) -> Iterator[str]:
    """A tiny real HTTP server in a thread answering POSTs with `respond`; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = respond(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
