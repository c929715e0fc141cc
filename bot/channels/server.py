"""`blogbot serve`: the web API, the widget and the demo page, with Slack's HTTP endpoint when it is
configured, around one assistant; and the server that runs them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.assistant import Assistant
    from knowledge.settings import Settings, WebSettings

log = logging.getLogger(__name__)


def thread_budget(settings: Settings) -> Settings:
    """Settings for `blogbot serve` with the CPU threads of each turn worker set: torch's (process-wide,
    set here) and llama.cpp's (generator.threads), to web.threads_per_worker, or (0) every core this
    process may use. Called before the models load."""
    import dataclasses

    import torch

    cores = max(1, len(os.sched_getaffinity(0)))
    threads = settings.web.threads_per_worker or cores
    torch.set_num_threads(threads)
    log.info("serve: %d thread(s) per turn worker (%d cores, %d workers)", threads, cores, settings.web.workers)
    return dataclasses.replace(settings, generator=dataclasses.replace(settings.generator, threads=threads))


def build_app(assistant: Assistant, environ: Mapping[str, str] = os.environ) -> FastAPI:
    """The web app of `assistant` (an `bot.assistant.Assistant`, loaded before the server listens, so
    /healthz means ready). With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET set, it also takes Slack
    events at /slack/events."""
    from bot.channels.metrics import Metrics
    from bot.channels.web.app import create_app

    engine, feedback = assistant.engine, assistant.feedback
    metrics = Metrics.of_assistant(assistant)
    app = create_app(engine, assistant.settings, feedback, metrics=metrics,
                     admin_token=environ.get("BLOGBOT_ADMIN_TOKEN") or None)
    token, secret = environ.get("SLACK_BOT_TOKEN"), environ.get("SLACK_SIGNING_SECRET")
    if token and secret:
        from bot.channels.slack.app import create_slack_app
        from bot.channels.slack.http import mount_slack

        mount_slack(app, create_slack_app(engine, feedback, token, secret, environ.get("SLACK_API_URL"),
                                          admission=app.state.admission, metrics=metrics))
        log.info("slack: taking events at /slack/events")
    else:
        from bot.channels.slack.http import slack_not_configured

        slack_not_configured(app)
    return app


def serve(app: FastAPI, host: str, port: int, ready: Callable[[], None] = lambda: None,
          web: WebSettings | None = None) -> None:
    """Run the app with uvicorn until interrupted. `web` (settings.web) sets the header deadline and
    which proxies' X-Forwarded-For is believed (none by default)."""
    import uvicorn

    from bot.channels.web.transport import header_deadline_protocol
    from knowledge.settings import WebSettings

    web = web or WebSettings()
    proxies = [str(p) for p in web.trusted_proxies]
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5, http=header_deadline_protocol(web.header_timeout_s),
                            proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets=None):
        await original_startup(sockets)
        if server.started:
            ready()

    server.startup = startup
    try:
        server.run()
    finally:        # the turns recorded but not yet written are written before the process ends
        recorder = getattr(getattr(app.state, "metrics", None), "recorder", None)
        if recorder is not None:
            recorder.close()
