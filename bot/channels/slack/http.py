"""Slack's HTTP mode inside `blogbot serve`: POST /slack/events, verified by bolt with the signing
secret (a bad signature, or a timestamp that is missing, not a number or older than five minutes,
gets 401; a body that is not a UTF-8 JSON object or form data gets 400)."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

if TYPE_CHECKING:
    from slack_bolt import App

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def mount_slack(web_app: FastAPI, slack_app: App) -> None:
    """Take `slack_app`'s events at POST /slack/events of `web_app`."""
    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request):
        # Bolt's verifier would raise on a timestamp that is not a number (a 500): refuse it here.
        if not _TIMESTAMP.fullmatch(request.headers.get("x-slack-request-timestamp", "")):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        body = await request.body()
        try:
            bolt_request = to_bolt_request(request, body)      # decodes and parses the body
        except (ValueError, AttributeError):                   # not UTF-8, not JSON, not an object
            return JSONResponse({"error": "the body is not a Slack request (UTF-8 JSON object or form)"},
                                status_code=400)
        # Bolt acks before the listener runs; the dispatch itself is quick but blocking.
        response = await asyncio.to_thread(slack_app.dispatch, bolt_request)
        return to_starlette_response(response)


def slack_not_configured(web_app: FastAPI) -> None:
    """Answer POST /slack/events with a 404 that says how to configure Slack."""
    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events():
        return JSONResponse({"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"},
                            status_code=404)
