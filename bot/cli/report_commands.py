"""`blogbot report`: what readers asked and how it went (bot.analytics), as text, JSON, an HTML page,
a CSV of the turns, or a digest posted to Slack."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
from pathlib import Path

from bot.cli.common import UsageError, checked_settings, data_dir_of, stderr


def _summary(report: dict) -> str:
    coverage, feedback = report["coverage"], report["feedback"]
    rate = (lambda v: "–" if v is None else f"{100 * v:.0f}%")
    lines = [f"{report['period']['since'] or '(no turns)'} – {report['period']['until'] or ''} (UTC)",
             f"conversations {report['conversations']}, messages {report['messages']}",
             f"containment {rate(report['containment_rate'])}, coverage {rate(coverage['rate'])} "
             f"({coverage['answered']} of {coverage['questions']} questions answered)",
             f"feedback: {feedback['up']} up, {feedback['down']} down"]
    if report["content_gaps"]:
        lines.append("content gaps (not covered by the blog):")
        lines += [f"  {g['count']:>4}  {g['label']}  e.g. {g['examples'][0]!r}" for g in report["content_gaps"]]
    elif not report.get("texts_kept", True) and coverage["questions"]:
        lines.append("content gaps: readers' texts are not kept (analytics.store_text is off)")
    return "\n".join(lines)


def cmd_report(args: argparse.Namespace) -> int:
    """Build the report of the recorded turns and print or write it as asked."""
    from bot.analytics.page import render_page
    from bot.analytics.records import open_feedback_store, open_turn_store
    from bot.analytics.report import csv_rows, last_days, period_of, report_of

    settings = checked_settings()
    try:
        since, until = period_of(args.since, args.until)
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    if args.slack_channel and not os.environ.get("SLACK_BOT_TOKEN"):
        raise UsageError("--slack-channel needs the bot token in SLACK_BOT_TOKEN (xoxb-…)")
    if args.slack_channel and since is None and until is None:
        since, until = last_days(settings.analytics.digest_days)      # a weekly digest covers its week
    data_dir = data_dir_of(args)
    if not settings.dialog.tracker_store.startswith(("redis://", "rediss://", "unix://")) and not data_dir.is_dir():
        raise UsageError(f"no data folder at {data_dir}: give the --data-dir `blogbot serve` uses")
    try:
        turns = open_turn_store(data_dir, settings)
        feedback = open_feedback_store(data_dir, settings)
        records = turns.between(since, until) if args.csv else []
        report = report_of(turns, feedback, settings, since, until) if (args.json or args.out or args.slack_channel
                                                                          or not args.csv) else None
    except OSError as exc:
        raise UsageError(f"cannot read the records in {data_dir}: {exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):
            raise UsageError(f"cannot read the records in Redis ({settings.dialog.tracker_store}): {exc}") from None
        raise
    try:
        if args.csv:
            with (contextlib.nullcontext(sys.stdout) if args.csv == "-" else
                  open(args.csv, "w", newline="", encoding="utf-8")) as out:
                csv.writer(out).writerows(csv_rows(records))
        if args.out:
            Path(args.out).write_text(render_page(report), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or args.out}: {exc.strerror or exc}") from None
    for written, what in ((args.csv, "turns"), (args.out, "report")):
        if written and written != "-":
            stderr(f"{what} written to {written}")
    if args.slack_channel:
        from slack_sdk.errors import SlackApiError

        from bot.channels.slack.digest import post_digest

        try:
            post_digest(report, args.slack_channel, os.environ["SLACK_BOT_TOKEN"], os.environ.get("SLACK_API_URL"))
        except SlackApiError as exc:
            stderr(f"error: Slack refused the digest: {exc.response.get('error')}")
            return 1
        stderr(f"digest posted to {args.slack_channel}")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    elif report is not None and not args.out and not args.slack_channel and args.csv != "-":
        print(_summary(report))
    return 0


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `report` to the command parser."""
    report = commands.add_parser("report", parents=[common], help="what readers asked: coverage, content gaps, "
                                 "feedback (text, --json, --out page.html, --csv, --slack-channel)")
    report.add_argument("--since", help="first day, YYYY-MM-DD (UTC; default: the first recorded turn)")
    report.add_argument("--until", help="last day, YYYY-MM-DD, included (default: the last recorded turn)")
    report.add_argument("--json", action="store_true", help="the figures as one JSON object")
    report.add_argument("--out", help="write the report as a self-contained HTML page")
    report.add_argument("--csv", help="write the turn records as CSV to this file (- for stdout)")
    report.add_argument("--slack-channel", help="post a summary to this Slack channel (SLACK_BOT_TOKEN); without "
                                                "--since/--until it covers the last analytics.digest_days days")
    report.set_defaults(func=cmd_report)
