"""A local fake of the Slack Web API for tests: records every call and answers like Slack,
including scripted failures (a 429 with Retry-After, an `invalid_auth` error)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point SLACK_API_URL / the client at `slack.url`."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}    # method -> [(status, body, headers)]
        self._lock = threading.Lock()
        self._ts = 1700000000.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                    if isinstance(params.get("blocks"), str):
                        params["blocks"] = json.loads(params["blocks"])
                status, body, headers = fake._answer(method, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def _answer(self, method: str, params: dict) -> tuple[int, dict, dict]:
        with self._lock:
            self.calls.append((method, params))
            scripted = self.failures.get(method)
            if scripted:
                return scripted.pop(0)
            if method == "auth.test":
                return 200, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "blogbot"}, {}
            if method in ("chat.postMessage", "chat.update", "chat.delete", "chat.postEphemeral"):
                self._ts += 1
                ts = params.get("ts") or f"{self._ts:.6f}"
                return 200, {"ok": True, "channel": params.get("channel"), "ts": ts,
                             "message": {"text": params.get("text"), "ts": ts}}, {}
            return 200, {"ok": True}, {}

    def fail_next(self, method: str, status: int, body: dict, headers: dict | None = None) -> None:
        with self._lock:
            self.failures.setdefault(method, []).append((status, body, headers or {}))

    def of(self, method: str, **where) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method and all(p.get(k) == v for k, v in where.items())]

    def wait_for(self, predicate, timeout: float = 90.0):
        """Poll until predicate(self) is truthy; returns its value or fails with the calls seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate(self)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out; calls: {[(m, p.get('text')) for m, p in self.calls]}")

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
