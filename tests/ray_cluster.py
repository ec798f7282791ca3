"""A real Ray cluster on loopback for tests: a head and one worker node, each started with
`ray start --block` in its own session so that the test stops exactly the processes it started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
# Loopback only: no token (another cluster on the machine may rewrite ~/.ray/auth_token), no usage report.
CLIENT_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
NODE_MEMORY = 6 * 1024**3  # bytes each node offers tasks; a task loads one 135M model and the embeddings


def ray_command() -> list[str]:
    return [sys.executable, "-m", "ray.scripts.scripts"]


def wait_for_nodes(address: str, count: int, timeout: float = 600) -> None:
    """Poll until `count` nodes are alive (asked in a subprocess, so this process stays out of Ray)."""
    probe = ("import ray; ray.init(address=%r, log_to_driver=False); "
             "print(sum(n['Alive'] for n in ray.nodes()))" % address)
    deadline = time.monotonic() + timeout
    while True:
        try:
            done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                                  env={**os.environ, **CLIENT_ENV})
        except subprocess.TimeoutExpired:
            done = subprocess.CompletedProcess(probe, 1, "", "no answer within 60 s")
        alive = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if alive.isdigit() and int(alive) >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Ray cluster at {address} has {alive or 'no'} nodes:\n{done.stderr[-3000:]}")
        time.sleep(2)


@contextlib.contextmanager
def ray_cluster(cpus_per_node: int = 1) -> Iterator[dict]:
    """Yields {"address", "sessions"}: the head's address and the session ids of both nodes."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {**os.environ, **CLIENT_ENV, "PYTHONPATH": str(ROOT),
           "RAY_agent_register_timeout_ms": "300000"}  # a loaded 2-core machine starts agents slowly
    common = ["--block", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus_per_node}", "--num-gpus=0",
              f"--memory={NODE_MEMORY}", "--disable-usage-stats"]
    nodes: list[subprocess.Popen] = []
    logs = []
    try:
        for role in ("head", "worker"):
            extra = ([f"--port={port}", "--head", "--include-dashboard=false", f"--temp-dir={temp_dir}"]
                     if role == "head" else [f"--address={address}"])
            # Fixed agent ports: with dynamic ones the raylet gives up if an agent takes over a minute
            # to write its port file, as it can on a loaded 2-core machine.
            extra += [f"--dashboard-agent-grpc-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}",
                      f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}"]
            log = open(Path(temp_dir) / f"{role}.log", "w")
            logs.append(log)
            nodes.append(subprocess.Popen([*ray_command(), "start", *extra, *common], stdout=log,
                                          stderr=subprocess.STDOUT, env=env, start_new_session=True))
            if role == "head":
                wait_for_nodes(address, 1)
        wait_for_nodes(address, 2)
        yield {"address": address, "sessions": [node.pid for node in nodes], "temp_dir": temp_dir}
    finally:
        for node in reversed(nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGTERM)
        for node in reversed(nodes):
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pid, signal.SIGKILL)
                node.wait(timeout=10)
        for node in nodes:  # anything a node left behind in its session
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def session_processes(session: int) -> dict[int, str]:
    """pid -> command line of every process in a session (a node and what it spawned)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
    return found
