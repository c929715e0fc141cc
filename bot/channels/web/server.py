"""`blogbot serve`: load the assistant, then serve the web API, the widget and the demo page."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def build_app(data_dir, settings, tracker_store: str | None = None, action_endpoint: str | None = None,
              environ=os.environ):
    """The assistant and its web app (loaded before the server listens, so /healthz means ready).
    With SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET set, it also takes Slack events at /slack/events."""
    from bot.assistant import load_assistant
    from bot.channels.web.app import create_app
    from knowledge.feedback import FeedbackStore

    engine = load_assistant(data_dir, settings, tracker_store=tracker_store, action_endpoint=action_endpoint)
    feedback = FeedbackStore(data_dir)
    app = create_app(engine, settings, feedback)
    token, secret = environ.get("SLACK_BOT_TOKEN"), environ.get("SLACK_SIGNING_SECRET")
    if token and secret:
        from bot.channels.slack.app import create_slack_app
        from bot.channels.slack.http import mount_slack

        mount_slack(app, create_slack_app(engine, feedback, token, secret, environ.get("SLACK_API_URL"),
                                          admission=app.state.admission))
        log.info("slack: taking events at /slack/events")
    else:
        from bot.channels.slack.http import slack_not_configured

        slack_not_configured(app)
    return app


def serve(app, host: str, port: int, ready=lambda: None, web=None) -> None:
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
    server.run()
