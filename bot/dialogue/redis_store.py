"""Conversations in Redis (`dialog.tracker_store: redis://host:port/db`), shared by every replica.

A sender's turns run one at a time across replicas: a turn holds a lease on the sender (a Redis lock
that a thread of this process renews while the turn runs, so a replica that dies frees the sender
after `dialog.redis_lease_s`). A turn runs on one thread (the lease's token is the thread's). A
conversation is written only by the lease's holder (a Lua script checks the lease and writes in one
step); a turn whose lease was lost meanwhile keeps the newer turn's state and adds its own events to
it, instead of overwriting it. Keys expire by themselves a day after the session timeout, like
SQLite's pruning. Every key starts with `dialog.redis_prefix`, so deployments can share a Redis.

Redis failing (unreachable, out of memory, read-only after a failover, …): every call raises
StoreUnavailable (the turn apologizes, /readyz says 503); the client's connection pool reconnects on
the next call once Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import redis
from redis.exceptions import RedisError

from bot.dialogue.sessions import GRACE_S
from bot.dialogue.tracker_store import Conversation, StoreUnavailable

log = logging.getLogger(__name__)


_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"""
_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"""
_SAVE_IF_HOLDER = """if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1 end return 0"""


def connect(url: str) -> redis.Redis:
    """A client for the Redis at `url` (redis://[:password@]host:port/db), short timeouts so an
    unreachable Redis fails a turn in about a second instead of hanging it."""
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=15,
                                decode_responses=True)


@dataclass(frozen=True)
class SharedRedis:
    """The Redis the replicas share and the prefix of this deployment's keys, for what else they
    share besides conversations (rate limits, Slack's delivered events)."""

    client: redis.Redis
    prefix: str


def shared_redis(store: object) -> SharedRedis | None:
    """What a Redis tracker store shares with the channels; None for any other store."""
    return SharedRedis(store.client, store.prefix) if isinstance(store, RedisTrackerStore) else None


@contextmanager
def reachable() -> Iterator[None]:
    """Redis's errors (unreachable, out of memory, read-only, …) as StoreUnavailable."""
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailable(f"redis: {type(exc).__name__}: {exc}") from None


class RedisTrackerStore:
    """Conversations as `<prefix>conversation:<sender>` keys; leases as `<prefix>lease:<sender>`.
    `history_events`: the events a merged conversation keeps (dialog.history_events)."""

    def __init__(self, client: redis.Redis, timeout_minutes: float, lease_s: float, wait_s: float,
                 prefix: str = "blogbot:", history_events: int = 60):
        self.client = client
        self.prefix = prefix
        self.ttl_s = int(timeout_minutes * 60 + GRACE_S)
        self.lease_ms = int(lease_s * 1000)
        self.wait_s = wait_s
        self.history_events = history_events
        self._leases = threading.local()      # this thread's lease token per sender

    def _key(self, sender_id: str) -> str:
        return f"{self.prefix}conversation:{sender_id}"

    def load(self, sender_id: str) -> Conversation | None:
        """The sender's conversation, or None (also for a value an incompatible version wrote)."""
        with reachable():
            raw = self.client.get(self._key(sender_id))
        if not raw:
            return None
        try:
            return Conversation.from_json(raw)
        except (ValueError, TypeError):
            return None

    def save(self, conversation: Conversation) -> None:
        """Write the conversation: at once without a lease, through the lease when this thread holds one
        (merging the events when the lease was lost to another replica meanwhile)."""
        key, text = self._key(conversation.sender_id), conversation.to_json()
        token = getattr(self._leases, "tokens", {}).get(conversation.sender_id)
        with reachable():
            if token is None:
                self.client.set(key, text, ex=self.ttl_s)
                return
            if self.client.eval(_SAVE_IF_HOLDER, 2, self._lease_key(conversation.sender_id), key, token, text,
                                self.ttl_s):
                return
        log.warning("tracker store: the lease on a conversation was lost during a turn; adding its events "
                    "to the newer turn's")
        tokens = self._leases.tokens
        lost = tokens.pop(conversation.sender_id)
        try:
            with self.lease(conversation.sender_id):      # a new lease, then merge and write through it
                current = self.load(conversation.sender_id)
                if current is not None:
                    # The newer turn's state stands; this turn's own events (since it began) are added.
                    mine = [e for e in conversation.events if (e.get("timestamp") or 0) >= conversation.turn_started]
                    current.events = (current.events + mine)[-self.history_events:]
                    current.turns += 1
                    current.updated_at = max(current.updated_at, conversation.updated_at)
                    conversation = current
                self.save(conversation)
        finally:
            tokens[conversation.sender_id] = lost          # the turn's own lease ends as it began

    def delete(self, sender_id: str) -> None:
        """Forget the sender's conversation."""
        with reachable():
            self.client.delete(self._key(sender_id))

    def prune(self, older_than: float) -> int:
        """Nothing to do: keys expire by themselves."""
        return 0

    def ping(self) -> bool:
        """Whether Redis takes a write now (not only answers: out of memory or read-only fails too)."""
        try:
            return bool(self.client.set(f"{self.prefix}ready", str(time.time()), ex=60))
        except RedisError:
            return False

    def _lease_key(self, sender_id: str) -> str:
        return f"{self.prefix}lease:{sender_id}"

    @contextmanager
    def lease(self, sender_id: str) -> Iterator[None]:
        """Hold the sender across replicas for the block: wait up to `wait_s` for another turn's lease
        (StoreUnavailable after that), renew it every third of the lease while the block runs."""
        tokens = self._leases.__dict__.setdefault("tokens", {})
        if sender_id in tokens:           # this thread holds it already (a save merging after a lost lease)
            yield
            return
        key, token = self._lease_key(sender_id), uuid.uuid4().hex
        with reachable():
            acquired = self.client.set(key, token, nx=True, px=self.lease_ms)
            deadline = time.monotonic() + self.wait_s
            while not acquired and time.monotonic() < deadline:
                time.sleep(0.05)
                acquired = self.client.set(key, token, nx=True, px=self.lease_ms)
        if not acquired:
            raise StoreUnavailable(f"another turn of this conversation held it for over {self.wait_s:g} s")
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(key, token, stop), daemon=True, name="lease-renewal")
        renewer.start()
        tokens[sender_id] = token
        try:
            yield
        finally:
            del tokens[sender_id]
            stop.set()
            renewer.join()
            try:
                self.client.eval(_RELEASE, 1, key, token)
            except RedisError:
                pass          # it expires by itself

    def _renew(self, key: str, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease_ms / 3000):
            try:
                if not self.client.eval(_RENEW, 1, key, token, self.lease_ms):
                    return
            except RedisError:
                continue      # Redis is away for now: try again; the lease may lapse
