"""Channel-neutral messages as Slack Block Kit: Markdown to mrkdwn, sources, buttons, feedback."""

from __future__ import annotations

import json
import re

from bot.messages import BotMessage

SECTION_LIMIT = 3000        # Slack's limit for a section's text
BUTTON_TEXT_LIMIT = 75
CHOICE_ACTION = "blogbot_choice"
FEEDBACK_ACTION = "blogbot_feedback"

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def escape(text: str) -> str:
    """Slack's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Markdown (as the actions write it) to Slack mrkdwn: links, bold, bullets; the rest escaped."""
    out, last = [], 0
    for m in _LINK.finditer(markdown):
        out.append(_plain(markdown[last:m.start()]))
        out.append(f"<{m.group(2)}|{escape(m.group(1)).replace('|', '¦')}>")
        last = m.end()
    out.append(_plain(markdown[last:]))
    return "".join(out)


def _plain(text: str) -> str:
    text = escape(text)
    text = _BOLD.sub(r"*\1*", text)
    return re.sub(r"(?m)^(\s*)- ", r"\1• ", text)


def split_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line or word ends."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text.strip():
        pieces.append(text)
    return pieces


def message_blocks(message: BotMessage, feedback: bool = True, sender: str | None = None) -> list[dict]:
    """Section blocks for the text, a Sources context block, buttons (their value carries the
    conversation's `sender` id back), and 👍/👎."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
              for piece in split_sections(to_mrkdwn(message.text))]
    listed = all(c.url in message.text for c in message.citations)
    if message.citations and not listed:
        sources = "  ".join(f"<{c.url}|[{c.number or n}] {escape(c.title).replace('|', '¦')}>"
                            for n, c in enumerate(message.citations, 1))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*Sources:* {sources}"[:3000]}]})
    if message.buttons:
        blocks.append({"type": "actions", "block_id": f"choices-{message.id}", "elements": [
            {"type": "button", "action_id": f"{CHOICE_ACTION}_{n}",
             "text": {"type": "plain_text", "text": b.title[:BUTTON_TEXT_LIMIT]},
             "value": json.dumps({"payload": b.payload[:1500], "sender": sender})}   # < Slack's 2,000
            for n, b in enumerate(message.buttons[:25])]})
    if feedback and (message.citations or message.abstained is not None):
        blocks.append({"type": "actions", "block_id": f"feedback-{message.id}", "elements": [
            {"type": "button", "action_id": f"{FEEDBACK_ACTION}_up", "text": {"type": "plain_text", "text": "👍"},
             "value": json.dumps({"message_id": message.id, "rating": "up", "sender": sender})},
            {"type": "button", "action_id": f"{FEEDBACK_ACTION}_down", "text": {"type": "plain_text", "text": "👎"},
             "value": json.dumps({"message_id": message.id, "rating": "down", "sender": sender})}]})
    return blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": "…"}}]


def fallback_text(message: BotMessage) -> str:
    """The notification text that goes with the blocks."""
    text = re.sub(r"\s+", " ", _LINK.sub(r"\1", message.text)).strip()
    return text[:300] or "…"
