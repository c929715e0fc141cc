"""Conversations in Redis (`dialog.tracker_store: redis://host:port/db`), shared by every replica.

A sender's turns run one at a time across replicas: a turn holds a lease on the sender (a Redis lock
that a thread of this process renews while the turn runs, so a replica that dies frees the sender
after `dialog.redis_lease_s`). A conversation is written only by the lease's holder (a Lua script
checks the lease and writes in one step); a turn whose lease was lost meanwhile adds its events to
what the new holder wrote instead of overwriting it. Keys expire by themselves a day after the
session timeout, like SQLite's pruning.

Redis unreachable: every call raises StoreUnavailable (the turn apologizes, /readyz says 503); the
client's connection pool reconnects on the next call once Redis is back.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

import redis
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError, TimeoutError as RedisTimeoutError

from bot.dialogue.tracker_store import Conversation, StoreUnavailable

log = logging.getLogger(__name__)

PREFIX = "blogbot:"
GRACE_S = 86400         # as sessions.GRACE_S: a conversation is kept a day past its timeout

_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"""
_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"""
_SAVE_IF_HOLDER = """if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1 end return 0"""


def connect(url: str) -> redis.Redis:
    """A client for the Redis at `url` (redis://[:password@]host:port/db), short timeouts so an
    unreachable Redis fails a turn in about a second instead of hanging it."""
    return redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=15,
                                decode_responses=True)


def shared_redis(store: object) -> redis.Redis | None:
    """The Redis client of a Redis tracker store, for what else replicas share (rate limits, Slack's
    delivered events); None for any other store."""
    return store.client if isinstance(store, RedisTrackerStore) else None


@contextmanager
def reachable() -> Iterator[None]:
    """Redis's connection errors as StoreUnavailable."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise StoreUnavailable(f"redis is unreachable: {exc}") from None


class RedisTrackerStore:
    """Conversations as `blogbot:conversation:<sender>` keys; leases as `blogbot:lease:<sender>`."""

    def __init__(self, client: redis.Redis, timeout_minutes: float, lease_s: float, wait_s: float):
        self.client = client
        self.ttl_s = int(timeout_minutes * 60 + GRACE_S)
        self.lease_ms = int(lease_s * 1000)
        self.wait_s = wait_s
        self._leases = threading.local()      # this thread's lease token per sender

    def _key(self, sender_id: str) -> str:
        return f"{PREFIX}conversation:{sender_id}"

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
        log.warning("tracker store: the lease on a conversation was lost during a turn; merging its events")
        tokens = self._leases.tokens
        lost = tokens.pop(conversation.sender_id)
        try:
            with self.lease(conversation.sender_id):      # a new lease, then merge and write through it
                current = self.load(conversation.sender_id)
                if current is not None:
                    seen = {_event_key(e) for e in current.events}
                    conversation.events = current.events + [e for e in conversation.events
                                                             if _event_key(e) not in seen]
                    conversation.turns = max(conversation.turns, current.turns + 1)
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
        """Whether Redis answers."""
        try:
            return bool(self.client.ping())
        except RedisError:
            return False

    def _lease_key(self, sender_id: str) -> str:
        return f"{PREFIX}lease:{sender_id}"

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
            waited = threading.Event()
            deadline = self.wait_s
            while not acquired and deadline > 0:
                waited.wait(0.05)
                deadline -= 0.05
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


def _event_key(event: dict) -> tuple:
    return event.get("event"), event.get("timestamp"), event.get("text"), event.get("name")
