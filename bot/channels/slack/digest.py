"""The report's summary (bot.analytics.report) posted to a Slack channel (`blogbot report
--slack-channel C123`): Block Kit with the period, conversations, coverage and containment, the
biggest content gaps and the rated-down answers, sent with the bot token through slack_sdk.
Readers' words are shown as they are: every text object is `verbatim` (Slack links no address,
channel or @mention in it) and `<`, `>`, `&` are escaped."""

from __future__ import annotations

from bot.channels.slack.app import web_client

_SECTION_CHARS = 2900       # Slack refuses a section text over 3,000 characters


def _mrkdwn(text: str) -> str:
    """Reader's text made safe for mrkdwn (no <links> or <!mentions> of its own)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_SECTION_CHARS], "verbatim": True}}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def digest_blocks(report: dict, gaps: int = 5) -> tuple[list[dict], str]:
    """The Block Kit blocks of the summary, and its plain-text fallback."""
    period = report["period"]
    coverage, feedback = report["coverage"], report["feedback"]
    headline = (f"{report['conversations']} conversations, {report['messages']} messages; coverage "
                f"{_percent(coverage['rate'])} of {coverage['questions']} questions, containment "
                f"{_percent(report['containment_rate'])}, 👍 {feedback['up']} / 👎 {feedback['down']}")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What readers asked the blog"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True,
                                          "text": f"{period['since'] or '–'} – {period['until'] or '–'} (UTC)"}]},
        _section(_mrkdwn(headline)),
    ]
    if report["content_gaps"]:
        lines = [f"• *{_mrkdwn(g['label'])}* ({g['count']}): _{_mrkdwn(g['examples'][0])}_"
                 for g in report["content_gaps"][:gaps]]
        blocks.append(_section("*Not covered by the blog yet* (posts to write):\n" + "\n".join(lines)))
    else:
        blocks.append(_section("*Not covered by the blog yet:* nothing this period."))
    if feedback["rated_down_answers"] or feedback["rated_down_posts"]:
        lines = [f"• _{_mrkdwn(a['question'] or '(text not kept)')}_" for a in feedback["rated_down_answers"][-gaps:]]
        lines += [f"• <{p['url']}|{_mrkdwn(p['title'])}> ({p['count']})" for p in feedback["rated_down_posts"][:gaps]
                  if str(p["url"]).startswith(("http://", "https://"))]
        blocks.append(_section("*Rated down*:\n" + "\n".join(lines)))
    return blocks, headline


def post_digest(report: dict, channel: str, token: str, api_url: str | None = None) -> str:
    """Post the summary to `channel`; returns the message's ts. slack_sdk's errors propagate."""
    blocks, text = digest_blocks(report)
    response = web_client(token, api_url).chat_postMessage(channel=channel, blocks=blocks, text=text)
    return str(response.get("ts"))
