"""Channel-neutral messages as Slack Block Kit: Markdown to mrkdwn, sources, buttons, feedback.

A message's text is Markdown in which a reader's echoed words are backslash-escaped
(`knowledge.markup`): an escaped character is shown as typed and never forms a link or bold.
Slack's control characters `&`, `<`, `>` are escaped everywhere, so `<!channel>`, `<@U123>` or
`<https://…|…>` in any text is shown, never acted on.
"""

from __future__ import annotations

import json
import re

from bot.dialogue.messages import BotMessage
from knowledge.markup import unescape_markdown

SECTION_LIMIT = 3000        # Slack's limit for a section's text
FALLBACK_LIMIT = 300
BUTTON_TEXT_LIMIT = 75
CHOICE_ACTION = "blogbot_choice"
FEEDBACK_ACTION = "blogbot_feedback"

# Markdown the actions write, in one pass from left to right: a backslash escape (CommonMark:
# any ASCII punctuation), a link, bold. An escape is taken before anything can start at it.
_PUNCT = r"[!-/:-@\[-`{-~]"
_INLINE = re.compile(rf"\\(?P<escaped>{_PUNCT})"
                     r"|\[(?P<label>(?:\\.|[^\]\\])+)\]\((?P<url>https?://[^)\s]+)\)"
                     r"|\*\*(?P<bold>(?:\\.|[^*\\])+)\*\*")
_BULLET = re.compile(r"(?m)^(\s*)- ")


def escape(text: str) -> str:
    """Slack's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Markdown (as the actions write it) to Slack mrkdwn: links, bold, bullets; escapes honoured,
    everything else shown as written."""
    def render(text: str) -> str:
        out, last = [], 0
        for m in _INLINE.finditer(text):
            out.append(escape(text[last:m.start()]))
            if m["escaped"]:
                out.append(escape(m["escaped"]))
            elif m["url"]:
                url = escape(unescape_markdown(m["url"])).replace("|", "%7C")
                out.append(f"<{url}|{escape(unescape_markdown(m['label'])).replace('|', '¦')}>")
            else:
                out.append(f"*{render(m['bold'])}*")
            last = m.end()
        out.append(escape(text[last:]))
        return "".join(out)

    return render(_BULLET.sub(r"\1• ", markdown))


def plain_text(markdown: str) -> str:
    """Markdown as plain text: links as their text, no bold markers, escapes removed."""
    def render(text: str) -> str:
        return _INLINE.sub(lambda m: m["escaped"] or (unescape_markdown(m["label"]) if m["url"] else render(m["bold"])),
                           text)

    return render(markdown)


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
             "text": {"type": "plain_text", "text": unescape_markdown(b.title)[:BUTTON_TEXT_LIMIT]},
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
    """The notification text that goes with the blocks: plain text on one line, Slack-escaped."""
    text = " ".join(plain_text(message.text).split())
    return escape(text[:FALLBACK_LIMIT]) or "…"
