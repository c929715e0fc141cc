"""The report as one self-contained HTML page: tables and charts drawn by matplotlib as inline SVG
(questions per day, coverage per week, the biggest content gaps). No script, no stylesheet or font
from elsewhere: the page works offline and as a saved file. Every value from readers is escaped."""

from __future__ import annotations

import html
import io
import threading

_CHART_LOCK = threading.Lock()      # pyplot's state is global: one chart at a time per process
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#1f2328;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}td,th{border-bottom:1px solid #eaeef2;padding:.35rem .5rem;
text-align:left;vertical-align:top}th{font-weight:600}td.n{text-align:right;white-space:nowrap}
.figures{display:flex;flex-wrap:wrap;gap:1rem}.figure{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;
min-width:9rem}.figure b{display:block;font-size:1.5rem}.muted{color:#59636e}svg{max-width:100%;height:auto}
ul.examples{margin:.2rem 0 0 1rem;padding:0}
"""


def _chart(draw) -> str:
    """An SVG chart drawn by `draw(axes)`, as markup to inline (its text as text, not paths)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with _CHART_LOCK, matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                                             "axes.spines.right": False}):
        figure, axes = plt.subplots(figsize=(8, 2.6))
        try:
            draw(axes)
            figure.tight_layout()
            out = io.StringIO()
            figure.savefig(out, format="svg")
        finally:
            plt.close(figure)
    svg = out.getvalue()
    return svg[svg.index("<svg"):]          # without the XML prolog and doctype


def _plain(label: str) -> str:
    """A label matplotlib draws as it is (a reader's `$…$` is not math, which could fail to draw)."""
    return label.replace("$", r"\$")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _link(post: dict) -> str:
    url = str(post.get("url") or "")
    safe = url if url.startswith(("http://", "https://", "/")) else ""
    title = _e(post.get("title") or url)
    return f'<a href="{_e(safe)}">{title}</a>' if safe else title


def _groups_table(groups: list[dict], empty: str) -> str:
    if not groups:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = "".join(f"<tr><td class=n>{g['count']}</td><td><b>{_e(g['label'])}</b><ul class=examples>"
                   + "".join(f"<li>{_e(x)}</li>" for x in g["examples"]) + "</ul></td></tr>" for g in groups)
    return f"<table><tr><th>asked</th><th>questions</th></tr>{rows}</table>"


def _posts_table(posts: list[dict], empty: str) -> str:
    if not posts:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = "".join(f"<tr><td class=n>{p['count']}</td><td>{_link(p)}</td></tr>" for p in posts)
    return f"<table><tr><th>times</th><th>post</th></tr>{rows}</table>"


def charts(report: dict) -> dict[str, str]:
    """The report's charts as inline SVG, by name (only those with data)."""
    drawn = {}
    days = report["per_day"]
    if days:
        def per_day(axes):
            one_year = days[0]["day"][:4] == days[-1]["day"][:4]
            names = [d["day"][5:] if one_year else d["day"] for d in days]
            axes.bar(names, [d["questions"] - d["abstained"] for d in days], color="#2f81f7", label="answered")
            axes.bar(names, [d["abstained"] for d in days], bottom=[d["questions"] - d["abstained"] for d in days],
                     color="#d1242f", label="not covered")
            axes.set_ylabel("questions")
            axes.legend(frameon=False)
            step = max(1, len(names) // 12)
            axes.set_xticks(range(0, len(names), step), names[::step])
        drawn["questions per day"] = _chart(per_day)
    weeks = report["coverage"]["per_week"]
    if weeks:
        def coverage(axes):
            axes.plot([w["week"] for w in weeks], [100 * w["rate"] for w in weeks], marker="o", color="#1a7f37")
            axes.set_ylim(0, 100)
            axes.set_ylabel("% answered")
        drawn["coverage per week"] = _chart(coverage)
    gaps = report["content_gaps"]
    if gaps:
        def biggest(axes):
            shown = gaps[:8][::-1]
            axes.barh([_plain(g["label"][:40]) for g in shown], [g["count"] for g in shown], color="#d1242f")
            axes.set_xlabel("questions not covered")
        drawn["biggest content gaps"] = _chart(biggest)
    return drawn


def render_page(report: dict, title: str = "What readers asked") -> str:
    """The whole page."""
    coverage, feedback, latency = report["coverage"], report["feedback"], report["latency"]
    period = report["period"]
    turn = latency.get("turn_s") or {}
    figures = [("conversations", report["conversations"]), ("messages", report["messages"]),
               ("containment", _percent(report["containment_rate"])), ("coverage", _percent(coverage["rate"])),
               ("👍 / 👎", f"{feedback['up']} / {feedback['down']}"),
               ("turn p50 / p95", f"{turn.get('p50', '–')} / {turn.get('p95', '–')} s" if turn else "–")]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
             f'content="width=device-width,initial-scale=1"><title>{_e(title)}</title><style>{_STYLE}</style>'
             f"</head><body><h1>{_e(title)}</h1>",
             f'<p class=muted>{_e(period["since"] or "no turns")} – {_e(period["until"] or "")} (UTC). Containment: '
             "conversations with no unanswered question, no rated-down answer and no hand-off to a person. "
             "Coverage: questions answered from the blog rather than not covered.</p>",
             '<div class=figures>' + "".join(f"<div class=figure><b>{_e(v)}</b>{_e(k)}</div>" for k, v in figures)
             + "</div>"]
    if report["per_channel"]:
        rows = "".join(f"<tr><td>{_e(name)}</td><td class=n>{c['conversations']}</td><td class=n>{c['messages']}</td>"
                       "</tr>" for name, c in sorted(report["per_channel"].items()))
        parts.append(f"<h2>Channels</h2><table><tr><th>channel</th><th>conversations</th><th>messages</th></tr>"
                     f"{rows}</table>")
    for name, svg in charts(report).items():
        parts.append(f"<h2>{_e(name.capitalize())}</h2>{svg}")
    no_text = ("" if report.get("texts_kept", True) else
               " Readers' texts are not kept (analytics.store_text is off), so questions cannot be grouped.")
    parts.append("<h2>Content gaps: questions the blog could not answer</h2>"
                 + _groups_table(report["content_gaps"], "None in this period." + no_text))
    parts.append("<h2>Top questions</h2>" + _groups_table(report["top_questions"], "None in this period." + no_text))
    parts.append("<h2>Most cited posts</h2>" + _posts_table(report["cited_posts"], "No answers cited a post."))
    parts.append("<h2>Posts whose answers were rated down</h2>"
                 + _posts_table(feedback["rated_down_posts"], "No rated-down answer cited a post."))
    if feedback["rated_down_answers"]:
        rows = "".join(f"<tr><td>{_e(a['day'])}</td><td>{_e(a['question'])}</td><td>{_e(a['answer'])}</td></tr>"
                       for a in feedback["rated_down_answers"])
        parts.append(f"<h2>Rated-down answers</h2><table><tr><th>day</th><th>question</th><th>answer</th></tr>"
                     f"{rows}</table>")
    if feedback["comments"]:
        rows = "".join(f"<tr><td>{_e(c['day'])}</td><td>{'👍' if c['rating'] == 'up' else '👎'}</td>"
                       f"<td>{_e(c['comment'])}</td></tr>" for c in feedback["comments"])
        parts.append(f"<h2>Feedback comments</h2><table>{rows}</table>")
    first = latency.get("first_token_s") or {}
    parts.append("<h2>Latency</h2><table><tr><th></th><th>p50</th><th>p95</th><th>p99</th></tr>"
                 + "".join(f"<tr><td>{name}</td>" + "".join(f"<td class=n>{_e(v.get(k, '–'))} s</td>"
                                                            for k in ("p50", "p95", "p99")) + "</tr>"
                           for name, v in (("whole turn", turn), ("first token (streamed)", first)) if v)
                 + "</table>")
    if report["intents"]:
        rows = "".join(f"<tr><td>{_e(i['intent'])}</td><td class=n>{i['count']}</td></tr>" for i in report["intents"])
        parts.append(f"<h2>Intents</h2><table>{rows}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
