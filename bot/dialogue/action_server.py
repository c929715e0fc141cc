"""`blogbot actions`: the rasa-sdk action server (Sanic) with the blog's actions, plus
`POST /webhook/stream`, which runs the same payload and streams the action's chunks as
newline-delimited JSON (see `bot.dialogue.action_client`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic

log = logging.getLogger(__name__)


def create_action_app(executor: ActionExecutor) -> Sanic:
    """rasa-sdk's action server app for `executor`, plus the streaming route `POST /webhook/stream`."""
    from rasa_sdk.endpoint import create_app
    from sanic import response

    app = create_app(executor, cors_origins=None)

    @app.post("/webhook/stream")
    async def webhook_stream(request):
        try:
            action_call = request.json
        except Exception:
            action_call = None
        if not isinstance(action_call, dict):
            return response.json({"error": "the body must be a JSON action call"}, status=400)
        if action_call.get("next_action") not in executor.actions:
            return response.json({"error": f"no action named {action_call.get('next_action')!r}",
                                  "action_name": action_call.get("next_action")}, status=404)
        stream = await request.respond(content_type="application/x-ndjson")
        items: asyncio.Queue = asyncio.Queue()
        task = asyncio.create_task(executor.run(action_call, sink=items))
        finished = False
        try:
            while True:
                item = await items.get()
                event = item.get("event")
                if event == "stream_done":
                    await stream.send(json.dumps({"event": "stream_done", "result": item["result"].model_dump()}) + "\n")
                    break
                if event == "stream_error":
                    log.error("action %s failed: %s", action_call.get("next_action"), item.get("exception"))
                    await stream.send(json.dumps({"event": "stream_error", "error": str(item.get("exception"))}) + "\n")
                    break
                if event == "stream_chunk":
                    await stream.send(json.dumps(item, ensure_ascii=False) + "\n")
            finished = True
        finally:
            if not finished:        # the caller hung up (or gave up): stop the action too
                task.cancel()
            with contextlib.suppress(BaseException):
                await task
            await stream.eof()

    return app


def serve_actions(executor: ActionExecutor, host: str, port: int, ready: Callable[[], None] = lambda: None) -> None:
    """Run the action server for `executor` (its actions built with their knowledge) until interrupted."""
    from sanic import Sanic

    app = create_action_app(executor)
    app.register_listener(lambda *_: ready(), "after_server_start")
    app.prepare(host=host, port=port, single_process=True, access_log=False, motd=False)
    Sanic.serve_single(primary=app)
