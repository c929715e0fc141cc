"""The Slack app (slack-bolt, one workspace): a mention in a channel is answered in a thread under
it, a direct message in the DM; replies in that thread continue the same conversation.

Events are acknowledged at once (bolt acks before the listener runs). The listener adds a 👀
reaction and hands the turn to the shared `Admission` (bot.channels.admission: per Slack user and overall,
the same rules as the web) without waiting for it, so bolt's listener threads never queue turns;
a refused message gets a short "busy" reply at once. A turn posts a placeholder reply, updates it
with the answer as it is written (at most about once a second), and ends with Block Kit: the
answer, its sources, buttons and 👍/👎. A retried or duplicate event (same event_id) is answered
once. Slack API errors are logged and never stop the server; rate limits (429) are retried after
Retry-After by the Web API client.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.channels.admission import Admission, Refused, TurnPool
from bot.channels.metrics import Metrics
from bot.dialogue.messages import BotMessage, Notice, Token, TurnResult
from bot.dialogue.redis_store import shared_redis
from bot.dialogue.tracker_store import StoreUnavailable
from bot.channels.slack.blocks import CHOICE_ACTION, FEEDBACK_ACTION, fallback_text, message_blocks, to_mrkdwn
from knowledge.markup import unicode_problem

if TYPE_CHECKING:
    from slack_bolt import BoltContext
    from slack_sdk.web import SlackResponse

    from bot.dialogue.engine import DialogEngine
    from knowledge.feedback import FeedbackStore
    from knowledge.settings import WebSettings

log = logging.getLogger(__name__)

# The Slack channel's own texts (mrkdwn). The assistant's texts are in config/; these belong to
# the channel (like the feedback thanks below), so they stay here.
PLACEHOLDER = "_Looking through the blog…_"
BUSY = "I'm busy answering others right now. Please ask again in {seconds} s."
UNREADABLE = "I could not read that message: it has characters that are not valid text. Please type it again."
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class SeenEvents:
    """Event ids already taken (the last `size`), so a retried delivery is not answered twice."""

    def __init__(self, size: int = 10_000, shared: Any = None, keep_s: int = 3600):
        self.size = size
        self.shared, self.keep_s = shared, keep_s
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str | None) -> bool:
        """True the first time `event_id` is seen (and for events without an id), False after. With
        `shared` (the replicas' Redis, SharedRedis), seen by any replica in the last `keep_s` (Slack
        retries within minutes); while Redis fails, by this process."""
        if not event_id:
            return True
        if self.shared is not None:
            from redis.exceptions import RedisError

            try:
                return bool(self.shared.client.set(f"{self.shared.prefix}slack-event:{event_id}", 1, nx=True,
                                                   ex=self.keep_s))
            except RedisError as exc:
                log.warning("slack: delivered events kept in this process while Redis fails: %s", exc)
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)
            return True


def web_client(token: str, api_url: str | None = None) -> WebClient:
    """The Web API client: `api_url` points it elsewhere (tests); 429s are retried after Retry-After."""
    kwargs = {"base_url": api_url.rstrip("/") + "/"} if api_url else {}
    return WebClient(token=token, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)], **kwargs)


def own_admission(web: WebSettings, shared: Any = None) -> Admission:
    """An Admission from the `web` settings, for a Slack app that runs without the web server."""
    pool = TurnPool.from_settings(web)
    return Admission(pool, web.rate_limit_per_minute, web.rate_limit_burst, web.turns_per_client, shared=shared)


def create_slack_app(engine: DialogEngine, feedback_store: FeedbackStore, token: str, signing_secret: str | None,
                     api_url: str | None = None, update_interval_s: float = 1.0,
                     admission: Admission | None = None, metrics: Metrics | None = None) -> App:
    """The bolt app over the dialogue engine. `signing_secret` None: Socket Mode (no HTTP requests).
    `admission` (the web server's) bounds the turns across web and Slack; None: one of its own.
    `metrics`: the web server's, to count Slack's turns with the web's; None: uncounted."""
    app = App(client=web_client(token, api_url), signing_secret=signing_secret or "socket-mode",
              request_verification_enabled=signing_secret is not None, process_before_response=False,
              token_verification_enabled=False)
    shared = shared_redis(engine.store)
    seen = SeenEvents(shared=shared)
    replier = Replier(engine, update_interval_s, admission or own_admission(engine.settings.web, shared),
                      metrics or Metrics())
    _add_message_listeners(app, engine, seen, replier)
    _add_action_listeners(app, replier, feedback_store)

    @app.error
    def on_error(error, body):
        log.error("slack: a listener failed: %s", error)

    return app


def _add_message_listeners(app: App, engine: DialogEngine, seen: SeenEvents, replier: Replier) -> None:
    """Mentions in channels, direct messages, and replies in the threads the assistant is part of."""

    @app.event("app_mention")
    def on_mention(body, event, client, context):
        if not seen.first_time(body.get("event_id")) or _ignored(event, context):
            return
        thread = event.get("thread_ts") or event["ts"]
        sender = f"slack:{body.get('team_id', '')}:{event['channel']}:{thread}"
        replier.answer(client, event["channel"], thread, sender, _reader(body.get("team_id"), event.get("user")),
                       _from_slack(event.get("text", "")), event["ts"])

    @app.event("message")
    def on_message(body, event, client, context):
        if not seen.first_time(body.get("event_id")) or _ignored(event, context):
            return
        channel, text = event["channel"], event.get("text", "")
        reader = _reader(body.get("team_id"), event.get("user"))
        if event.get("channel_type") == "im":
            thread = event.get("thread_ts")
            sender = f"slack:{body.get('team_id', '')}:{channel}" + (f":{thread}" if thread else "")
            replier.answer(client, channel, thread, sender, reader, _from_slack(text), event["ts"])
            return
        thread = event.get("thread_ts")
        bot_user = context.get("bot_user_id")
        if not thread or (bot_user and f"<@{bot_user}" in text):
            return          # not in a thread, or a mention (app_mention answers it)
        sender = f"slack:{body.get('team_id', '')}:{channel}:{thread}"
        try:
            ours = engine.has_conversation(sender)      # only threads the assistant is part of
        except StoreUnavailable as exc:                 # whose they are cannot be told now: leave it
            log.error("slack: a thread reply left unanswered: %s", exc)
            return
        if ours:
            replier.answer(client, channel, thread, sender, reader, _from_slack(text), event["ts"])


def _add_action_listeners(app: App, replier: Replier, feedback_store: FeedbackStore) -> None:
    """The buttons under answers: a choice continues the conversation, 👍/👎 is recorded as feedback."""

    @app.action(re.compile(f"^{CHOICE_ACTION}_\\d+$"))
    def on_choice(ack, body, action, client):
        ack()
        value = _json(action.get("value"))
        channel = (body.get("channel") or {}).get("id")
        thread = (body.get("message") or {}).get("thread_ts")     # None: a DM answered outside threads
        if not channel or not value.get("payload"):
            return
        # The conversation the buttons were posted in (carried in the value), so a click continues it.
        team = (body.get("team") or {}).get("id", "")
        sender = value.get("sender") or f"slack:{team}:{channel}" + (f":{thread}" if thread else "")
        replier.answer(client, channel, thread, sender, _reader(team, (body.get("user") or {}).get("id")),
                       value["payload"], None)

    @app.action(re.compile(f"^{FEEDBACK_ACTION}_(up|down)$"))
    def on_feedback(ack, body, action, client):
        ack()
        value = _json(action.get("value"))
        channel = (body.get("channel") or {}).get("id")
        message = body.get("message") or {}
        user = (body.get("user") or {}).get("id")
        if value.get("rating") not in ("up", "down") or not channel:
            return
        session = value.get("sender") or f"slack:{channel}:{message.get('thread_ts') or message.get('ts')}"
        feedback_store.record(session, value["rating"],
                              message_id=value.get("message_id"), answer=message.get("text"))
        replier.metrics.feedback.labels("slack", value["rating"]).inc()
        _call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=message.get("thread_ts"),
              text="Thanks for the feedback!" if value["rating"] == "up" else
              "Thanks for telling me. I'll pass it on.")


def _ignored(event: dict, context: BoltContext) -> bool:
    """Messages from bots (this app included), edits, deletions and other subtypes."""
    if event.get("bot_id") or event.get("subtype"):
        return True
    return bool(context.get("bot_user_id")) and event.get("user") == context.get("bot_user_id")


def _reader(team: str | None, user: str | None) -> str:
    """The key a Slack user's turns are admitted under (their share of the queue, their rate)."""
    return f"slack:{team or ''}:{user or ''}"


def _from_slack(text: str) -> str:
    """A message's text as the reader typed it: mentions of users dropped, Slack's escapes undone."""
    text = _MENTION.sub("", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _json(value: str | None) -> dict:
    try:
        parsed = json.loads(value or "{}")
        return parsed if isinstance(parsed, dict) else {}
    except ValueError:
        return {}


def _call(method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse | None:
    """A Web API call whose failure is logged, not raised (invalid_auth, channel_not_found, …)."""
    try:
        return method(**{k: v for k, v in kwargs.items() if v is not None})
    except SlackApiError as exc:
        log.error("slack: %s failed: %s", getattr(method, "__name__", "call"), exc.response.get("error"))
    except Exception as exc:        # network errors: logged, the server goes on
        log.error("slack: %s failed: %s", getattr(method, "__name__", "call"), exc)
    return None


def _log_failure(turn: Future) -> None:
    if not turn.cancelled() and turn.exception():
        log.error("slack: a turn failed: %s", turn.exception())


class Replier:
    """Takes a message (👀, admission) and runs its turn on the pool: placeholder, throttled updates,
    final blocks."""

    def __init__(self, engine: DialogEngine, update_interval_s: float, admission: Admission, metrics: Metrics):
        self.engine = engine
        self.update_interval_s = update_interval_s
        self.admission = admission
        self.metrics = metrics

    def answer(self, client: WebClient, channel: str, thread: str | None, sender: str, reader: str, text: str,
               user_ts: str | None) -> None:
        """Take a message from `reader`: 👀 at once, then queue its turn and return (never wait for
        it). A refused or unreadable message is answered at once."""
        if user_ts:
            _call(client.reactions_add, channel=channel, timestamp=user_ts, name="eyes")
        if unicode_problem(text):
            _call(client.chat_postMessage, channel=channel, thread_ts=thread, text=UNREADABLE)
            return
        try:
            self.admission.check_rate(reader)
            # Slack shows the answer when it is whole: a short wait in the queue beats asking again.
            turn = self.admission.submit(reader, self._answer, client, channel, thread, sender, text, patient=True)
        except Refused as refused:
            self.metrics.record_refused("slack", reader, refused.status)
            _call(client.chat_postMessage, channel=channel, thread_ts=thread,
                  text=BUSY.format(seconds=refused.retry_after_s))
            return
        turn.add_done_callback(_log_failure)

    def _answer(self, client: WebClient, channel: str, thread: str | None, sender: str, text: str) -> None:
        posted = _call(client.chat_postMessage, channel=channel, thread_ts=thread, text=PLACEHOLDER)
        placeholder = posted.get("ts") if posted else None
        draft, last_update, first = "", 0.0, True
        started, first_token = time.perf_counter(), None
        try:
            for event in self.engine.handle(sender, text):
                if isinstance(event, Token):
                    first_token = first_token or time.perf_counter() - started
                    draft += event.text
                    now = time.monotonic()
                    if placeholder and now - last_update >= self.update_interval_s:
                        _call(client.chat_update, channel=channel, ts=placeholder, text=to_mrkdwn(draft) + " …")
                        last_update = now
                elif isinstance(event, Notice) and placeholder and first and not draft:
                    _call(client.chat_update, channel=channel, ts=placeholder, text=f"_{to_mrkdwn(event.text)}_")
                elif isinstance(event, BotMessage):
                    self._post(client, channel, thread, event, placeholder if first else None, sender)
                    first = False
                elif isinstance(event, TurnResult):
                    self.metrics.record_turn("slack", event, time.perf_counter() - started, first_token)
        except Exception:
            log.exception("slack: the turn failed")
            self._post(client, channel, thread, BotMessage("Sorry, something went wrong on my side."),
                       placeholder if first else None, sender)
            first = False
        if first and placeholder:           # nothing to say: remove the placeholder
            _call(client.chat_delete, channel=channel, ts=placeholder)

    @staticmethod
    def _post(client: WebClient, channel: str, thread: str | None, message: BotMessage, replace_ts: str | None,
              sender: str) -> None:
        blocks = message_blocks(message, sender=sender)
        if replace_ts:
            _call(client.chat_update, channel=channel, ts=replace_ts, text=fallback_text(message), blocks=blocks)
        else:
            _call(client.chat_postMessage, channel=channel, thread_ts=thread, text=fallback_text(message),
                  blocks=blocks)
