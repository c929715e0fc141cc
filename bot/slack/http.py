"""Slack's HTTP mode inside `blogbot serve`: POST /slack/events, verified by bolt with the signing
secret (a bad signature or a timestamp older than five minutes gets 401)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response


def mount_slack(web_app: FastAPI, slack_app) -> None:
    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request):
        body = await request.body()
        # Bolt acks before the listener runs; the dispatch itself is quick but blocking.
        response = await asyncio.to_thread(slack_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)


def slack_not_configured(web_app: FastAPI) -> None:
    from fastapi.responses import JSONResponse

    @web_app.post("/slack/events", include_in_schema=False)
    async def slack_events():
        return JSONResponse({"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"},
                            status_code=404)
