"""A local OpenAI-compatible chat-completions server for tests: streams a scripted reply as SSE."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    """Serves POST /v1/chat/completions on 127.0.0.1. Set `reply`, `status`, `delay_s` per test."""

    def __init__(self):
        self.reply = "Hello."
        self.status = 200
        self.delay_s = 0.0          # pause between streamed pieces
        self.requests: list[dict] = []
        self.sent_at: list[float] = []
        self.disconnected = False   # the client closed the stream before its end
        self.hang_after: int | None = None  # after this many pieces, send nothing more until the end
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if self.path != "/v1/chat/completions" or fake.status != 200:
                    self.send_response(fake.status if fake.status != 200 else 404)
                    self.end_headers()
                    self.wfile.write(b'{"error": "scripted failure"}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for number, word in enumerate(fake.reply.split(" ")):
                        if fake.hang_after is not None and number >= fake.hang_after:
                            fake.released.wait(120)     # a server that stalls mid-stream
                            return
                        chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        fake.sent_at.append(time.perf_counter())
                        time.sleep(fake.delay_s)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):   # the client stopped reading
                    fake.disconnected = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
