"""The report of what readers asked and how it went, from the turn records and the ratings.

`build_report` gives one JSON-ready dict (the keys of `blogbot report --json`): conversations and
messages (per channel, per day), containment (conversations without an abstention, a rated-down
answer or a hand-off to a person), coverage (questions answered rather than abstained, per week),
content gaps and top questions (grouped by meaning, bot.analytics.clusters), the posts cited most
and those whose answers were rated down, feedback, latency and intents. Days and weeks are UTC. A
conversation is one sender's turns on one channel with no pause longer than the session timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from bot.analytics.clusters import group_questions
from bot.analytics.records import TurnRecord
from knowledge.corpus.embedder import EmbedderError
from knowledge.settings import Settings

log = logging.getLogger(__name__)


def period_of(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """Days given as YYYY-MM-DD (UTC, both included) as epoch seconds, `until` exclusive; a
    ValueError says what is wrong with them."""
    def day(value: str | None, name: str) -> dt.date | None:
        try:
            return None if value is None else dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None

    first, last = day(since, "since"), day(until, "until")
    if first and last and last < first:
        raise ValueError(f"until ({last}) is before since ({first})")
    try:
        start = dt.datetime.combine(first, dt.time(), dt.timezone.utc).timestamp() if first else None
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp() if last else None
    except OverflowError:
        raise ValueError(f"until ({last}) is too far ahead") from None
    return start, end


def last_days(days: int, now: float | None = None) -> tuple[float, None]:
    """The last `days` × 24 hours up to now, as (since, until) epoch seconds (until: open)."""
    return (time.time() if now is None else now) - days * 86_400, None


def day_of(ts: float) -> str:
    """The UTC day of a timestamp, as YYYY-MM-DD."""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).date().isoformat()


def week_of(ts: float) -> str:
    """The ISO week of a timestamp (UTC), as YYYY-Www."""
    year, week, _ = dt.datetime.fromtimestamp(ts, dt.timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def conversations_of(turns: list[TurnRecord], gap_s: float) -> list[list[TurnRecord]]:
    """The turns split into conversations: per sender and channel, a pause over `gap_s` starts a new one."""
    by_reader: dict[tuple[str, str], list[TurnRecord]] = defaultdict(list)
    for turn in sorted(turns, key=lambda t: t.ts):
        by_reader[(turn.channel, turn.sender)].append(turn)
    conversations = []
    for reader_turns in by_reader.values():
        current = [reader_turns[0]]
        for turn in reader_turns[1:]:
            if turn.ts - current[-1].ts > gap_s:
                conversations.append(current)
                current = []
            current.append(turn)
        conversations.append(current)
    return sorted(conversations, key=lambda c: c[0].ts)


def _percentiles(values: Iterable[float | None]) -> dict | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    p50, p95, p99 = np.percentile(present, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


def _posts(turns: Iterable[TurnRecord], limit: int) -> list[dict]:
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for turn in turns:
        for post in turn.cited:
            counts[post["url"]] += 1
            titles[post["url"]] = post.get("title") or post["url"]
    return [{"title": titles[url], "url": url, "count": n} for url, n in counts.most_common(limit)]


def latest_ratings(ratings: list[dict], turn_of_message: dict, until: float | None) -> list[dict]:
    """One rating per rated message (a reader's last word on it: 👎 then 👍 is 👍), oldest first;
    those given after `until` only for a turn of the period."""
    latest: dict[tuple, dict] = {}
    for rating in sorted(ratings, key=lambda r: r.get("created_at") or 0):
        if until is not None and rating["created_at"] >= until and rating.get("message_id") not in turn_of_message:
            continue
        key = (rating.get("session_id"), rating.get("message_id")) if rating.get("message_id") else ("id", rating.get("id"))
        latest[key] = rating
    return sorted(latest.values(), key=lambda r: r.get("created_at") or 0)


def build_report(turns: list[TurnRecord], ratings: list[dict], settings: Settings,
                 encode: Callable[[list[str]], np.ndarray] | None, since: float | None = None,
                 until: float | None = None) -> dict:
    """The report over `turns` and `ratings` (already limited to the period); `encode` embeds
    questions for grouping (None: no groups)."""
    cfg = settings.analytics
    shown = cfg.clusters_shown
    reader_turns = [t for t in turns if t.from_reader]
    questions = [t for t in reader_turns if t.answered]
    conversations = [c for c in conversations_of(reader_turns, settings.dialog.session_timeout_minutes * 60) if c]
    turn_of_message = {mid: t for t in turns for mid in t.message_ids}
    ratings = latest_ratings(ratings, turn_of_message, until)
    down = [r for r in ratings if r.get("rating") == "down"]
    down_turns = [turn_of_message[r["message_id"]] for r in down if r.get("message_id") in turn_of_message]
    rated_down = {t.id for t in down_turns}
    contained = [c for c in conversations
                 if not any(t.abstained or t.handoff or t.id in rated_down for t in c)]

    per_channel: dict[str, dict] = {}
    for conversation in conversations:
        channel = per_channel.setdefault(conversation[0].channel, {"conversations": 0, "messages": 0})
        channel["conversations"] += 1
        channel["messages"] += len(conversation)
    days: dict[str, Counter] = defaultdict(Counter)
    for turn in reader_turns:
        day = days[day_of(turn.ts)]
        day["messages"] += 1
        day["questions"] += turn.answered
        day["abstained"] += turn.abstained
    weeks: dict[str, Counter] = defaultdict(Counter)
    for turn in questions:
        weeks[week_of(turn.ts)]["questions"] += 1
        weeks[week_of(turn.ts)]["answered"] += not turn.abstained
    answered = sum(not t.abstained for t in questions)

    texts_kept = any(t.text for t in questions)
    groups = (lambda texts: [g.as_json() for g in group_questions(texts, encode, cfg.cluster_distance,
                                                                  cfg.examples_per_cluster)[:shown]]
              ) if encode is not None else (lambda texts: [])
    first = since if since is not None else (min(t.ts for t in turns) if turns else None)
    last = until if until is not None else (max(t.ts for t in turns) if turns else None)
    return {
        "period": {"since": day_of(first) if first is not None else None,
                   "until": day_of(last - (1 if until is not None else 0)) if last is not None else None},
        "conversations": len(conversations),
        "messages": len(reader_turns),
        "per_channel": per_channel,
        "per_day": [{"day": day, **{k: days[day][k] for k in ("messages", "questions", "abstained")}}
                    for day in sorted(days)],
        "containment_rate": round(len(contained) / len(conversations), 3) if conversations else None,
        "coverage": {"rate": round(answered / len(questions), 3) if questions else None,
                     "questions": len(questions), "answered": answered,
                     "per_week": [{"week": week, "questions": weeks[week]["questions"],
                                   "answered": weeks[week]["answered"],
                                   "rate": round(weeks[week]["answered"] / weeks[week]["questions"], 3)}
                                  for week in sorted(weeks)]},
        "texts_kept": texts_kept,
        "content_gaps": groups([t.text for t in questions if t.abstained and t.text]),
        "top_questions": groups([t.text for t in questions if t.text]),
        "cited_posts": _posts((t for t in questions if not t.abstained), shown),
        "feedback": {"up": sum(r.get("rating") == "up" for r in ratings), "down": len(down),
                     "comments": [{"rating": r["rating"], "comment": r["comment"], "day": day_of(r["created_at"])}
                                  for r in ratings if r.get("comment")][-shown * 5:],
                     "rated_down_posts": _posts(down_turns, shown),
                     "rated_down_answers": [{"question": t.text, "answer": t.answer, "day": day_of(t.ts)}
                                            for t in down_turns if t.text or t.answer][-shown:]},
        "latency": {"turn_s": _percentiles(t.latency_s for t in reader_turns),
                    "first_token_s": _percentiles(t.first_token_s for t in reader_turns)},
        "intents": [{"intent": name, "count": n} for name, n in
                    Counter(t.intent or "(none)" for t in reader_turns).most_common()],
    }


def report_of(turn_store, feedback_store, settings: Settings, since: float | None = None,
              until: float | None = None, group: bool = True) -> dict:
    """The report of the records in `turn_store` and `feedback_store` from `since` to `until`
    (epoch seconds, `until` exclusive; nothing older than analytics.retention_days, pruned or not);
    questions grouped with the configured embedder when `group` (and it loads)."""
    if settings.analytics.retention_days > 0:
        kept_since = time.time() - settings.analytics.retention_days * 86_400
        since = kept_since if since is None else max(since, kept_since)
    turns = turn_store.between(since, until)
    # Ratings of the period's last answers may come after it: within a session of its end.
    late = None if until is None else until + settings.dialog.session_timeout_minutes * 60
    ratings = feedback_store.between(since, late)
    encode = None
    if group and any(t.text for t in turns):
        encode = recorded_or_new_vectors(turns, settings)
    try:
        return build_report(turns, ratings, settings, encode, since, until)
    except EmbedderError as exc:
        log.warning("report: questions not grouped, the embedder does not load: %s", exc)
        return build_report(turns, ratings, settings, None, since, until)


def recorded_or_new_vectors(turns: list[TurnRecord], settings: Settings) -> Callable[[list[str]], np.ndarray]:
    """An encoder of questions that takes each text's embedding from its record when the configured
    embedder made it, and embeds (loading the embedder) only the others."""
    model = settings.embedder.model
    known: dict[str, np.ndarray] = {}
    for turn in turns:
        if turn.text and " ".join(turn.text.split()) not in known:
            vector = turn.embedding(model)
            if vector is not None:
                known[" ".join(turn.text.split())] = vector

    def encode(texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in known]
        if missing:
            from knowledge.corpus.embedder import get_embedder

            embedder = get_embedder(settings.embedder)
            for start in range(0, len(missing), 64):   # the embedder's lock is free between batches
                known.update(zip(missing[start:start + 64], embedder.encode(missing[start:start + 64])))
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    return encode


CSV_COLUMNS = ("time", "channel", "sender", "from_reader", "intent", "confidence", "answered", "abstained",
               "handoff", "latency_s", "first_token_s", "cited_urls", "text")


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: not a formula (= + - @ or a tab or return first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(turns: list[TurnRecord]) -> Iterable[list]:
    """The turn records as CSV rows (header first): one per turn, cited post addresses joined by spaces."""
    yield list(CSV_COLUMNS)
    for t in turns:
        yield [dt.datetime.fromtimestamp(t.ts, dt.timezone.utc).isoformat(timespec="seconds"), t.channel, t.sender,
               int(t.from_reader), _cell(t.intent or ""), t.confidence, int(t.answered), int(t.abstained),
               int(t.handoff), t.latency_s, "" if t.first_token_s is None else t.first_token_s,
               " ".join(p["url"] for p in t.cited), _cell(t.text or "")]
