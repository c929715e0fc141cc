"""The reference deployment on one machine: one Redis, several `blogbot serve` replicas that keep
their conversations in it, and nginx in front (deploy/nginx.conf.template). `scripts/cluster.sh`
runs it until interrupted; the tests start it with `Cluster` and kill replicas under it.

    .venv/bin/python deploy/cluster.py --data-dir .blogbot [--replicas 2] [--port 8080]

Debian's redis-server and nginx are used (scripts/install-services.sh installs them); everything runs
as the current user, in a run folder of its own, bound to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def program(name: str) -> str:
    """The path of a Debian program (also where /usr/sbin is not on PATH)."""
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)
    if not found:
        sys.exit(f"error: {name} is not installed (run scripts/install-services.sh)")
    return found


def wait_for(url: str, alive, timeout_s: float, what: str) -> None:
    """Poll `url` until it answers 200; give up when `alive()` turns false or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if not alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up at {url}")
        time.sleep(0.2)


class Cluster:
    """Redis, `replicas` blogbot servers on free ports and nginx on `port`, all on 127.0.0.1. `env`:
    more environment for the replicas (e.g. SLACK_* or BLOGBOT_<SECTION>__<KEY> settings)."""

    def __init__(self, data_dir: str | Path, replicas: int = 2, port: int = 0, env: dict | None = None,
                 run_dir: str | Path | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="blogbot-cluster-"))
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.env = env or {}
        self.redis: subprocess.Popen | None = None
        self.replicas: list[subprocess.Popen | None] = [None] * replicas
        self.nginx: subprocess.Popen | None = None

    def start(self) -> "Cluster":
        """Start Redis, the replicas (ready: /readyz answers 200) and nginx; return self."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_redis()
            for index in range(len(self.replicas)):
                self.start_replica(index, wait=False)
            for index, port in enumerate(self.replica_ports):
                wait_for(f"http://127.0.0.1:{port}/readyz", lambda i=index: self.replicas[i].poll() is None, 300,
                         f"replica {index}")
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_redis(self) -> None:
        self.redis = subprocess.Popen([program("redis-server"), "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", str(self.run_dir)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start_replica(self, index: int, wait: bool = True) -> None:
        """Start (or restart) replica `index`; with `wait`, until it is ready."""
        log = open(self.run_dir / f"replica-{index}.log", "ab")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "BLOGBOT_DIALOG__TRACKER_STORE": self.redis_url,
               "BLOGBOT_WEB__TRUSTED_PROXIES": "127.0.0.1", **self.env}
        blogbot = Path(sys.executable).with_name("blogbot")
        self.replicas[index] = subprocess.Popen(
            [str(blogbot), "serve", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
             "--port", str(self.replica_ports[index])], env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            wait_for(f"http://127.0.0.1:{self.replica_ports[index]}/readyz",
                     lambda: self.replicas[index].poll() is None, 300, f"replica {index}")

    def kill_replica(self, index: int) -> None:
        """Kill replica `index` at once (SIGKILL: no goodbye, as a crash)."""
        process = self.replicas[index]
        if process is not None:
            process.kill()
            process.wait(timeout=10)
            self.replicas[index] = None

    def _start_nginx(self) -> None:
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
                            for port in self.replica_ports)
        config = (TEMPLATE.read_text().replace("{{run_dir}}", str(self.run_dir)).replace("{{servers}}", servers)
                  .replace("{{listen}}", f"127.0.0.1:{self.port}"))
        (self.run_dir / "nginx.conf").write_text(config)
        self.nginx = subprocess.Popen([program("nginx"), "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf"),
                                       "-e", str(self.run_dir / "error.log"), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(f"{self.url}/healthz", lambda: self.nginx.poll() is None, 30, "nginx")

    def stop(self) -> None:
        """Stop nginx, the replicas and Redis."""
        for process in [self.nginx, *self.replicas, self.redis]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.nginx, self.redis = None, None
        self.replicas = [None] * len(self.replicas)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("BLOGBOT_DATA_DIR") or ".blogbot",
                        help="the index the replicas serve (blogbot ingest made it)")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="nginx listens here (127.0.0.1)")
    args = parser.parse_args()
    if not (Path(args.data_dir) / "index.sqlite3").exists():
        print(f"error: no index in {args.data_dir}: run 'blogbot ingest' first", file=sys.stderr)
        return 2
    cluster = Cluster(args.data_dir, args.replicas, args.port)
    print(f"cluster: starting Redis, {args.replicas} replicas and nginx (logs in {cluster.run_dir})", file=sys.stderr)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        with cluster:
            ports = ", ".join(str(p) for p in cluster.replica_ports)
            print(f"cluster: ready at {cluster.url}/ (replicas on {ports}; Redis {cluster.redis_url}); "
                  f"Ctrl-C stops it", file=sys.stderr)
            while not stop:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"error: {exc} (logs in {cluster.run_dir})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
