"""`GET /admin`: the report of what readers asked (bot.analytics) as a page for the blogger.

Only when BLOGBOT_ADMIN_TOKEN is set (otherwise the routes do not exist: 404); a token shorter
than MIN_TOKEN_CHARS is refused at start. The token is presented as `Authorization: Bearer <token>`
or through the login form, which sets an HttpOnly, SameSite=Strict cookie: the time of the sign-in
and an HMAC of it keyed by the token and a key of this process (never the token), good for
`analytics.admin_session_hours` and until the server restarts. Every refused try counts against the
client's rate limit (web.rate_limit_per_minute), so guessing is slow. The widget's CORS does not
apply here (see app.py), and the pages may not be framed or cached.
  GET  /admin[?since=YYYY-MM-DD&until=YYYY-MM-DD]   the page (or the login form, 401)
  GET  /admin/report.json, /admin/turns.csv         the same figures as JSON, the turns as CSV
  POST /admin/login (form: token), /admin/logout
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import secrets
import time
from typing import TYPE_CHECKING, Callable
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from bot.analytics.records import TurnRecorder
    from knowledge.settings import Settings

COOKIE = "blogbot_admin"
# 128 bits as hex (`openssl rand -hex 16`): a token the rate limit makes out of reach of guessing.
MIN_TOKEN_CHARS = 32
_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                       "form-action 'self'; frame-ancestors 'none'"}
_LOGIN = """<!doctype html><html lang=en><head><meta charset=utf-8><title>blogbot admin</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.4rem;margin:.3rem 0;width:100%}}.error{{color:#d1242f}}</style></head>
<body><h1>blogbot admin</h1>{error}<form method=post action="/admin/login">
<label for=token>Admin token</label><input id=token name=token type=password autocomplete=current-password required>
<button type=submit>Sign in</button></form></body></html>"""


class Sessions:
    """Sign-in cookies: `<issued>.<HMAC(token + process key, issued)>`, valid for `max_age_s`."""

    def __init__(self, token: str, max_age_s: float, clock: Callable[[], float] = time.time):
        self.key = token.encode() + secrets.token_bytes(16)
        self.max_age_s, self.clock = max_age_s, clock

    def new(self) -> str:
        issued = str(int(self.clock()))
        return f"{issued}.{self._sign(issued)}"

    def valid(self, value: str) -> bool:
        issued, _, signature = value.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(signature.encode(), self._sign(issued).encode()):
            return False
        return 0 <= self.clock() - int(issued) <= self.max_age_s

    def _sign(self, issued: str) -> str:
        return hmac.new(self.key, issued.encode(), hashlib.sha256).hexdigest()


def add_admin_routes(app: FastAPI, token: str, recorder: TurnRecorder, settings: Settings,
                     admit: Callable[[Request], None]) -> None:
    """The /admin routes, behind `token` (ValueError when it is too short to be safe); `admit(request)`
    counts a refused try against the client's rate limit (raising its 429)."""
    from bot.analytics.page import render_page
    from bot.analytics.report import csv_rows, period_of, report_of

    if len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"BLOGBOT_ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters "
                         "(make one with `openssl rand -hex 16`)")
    sessions = Sessions(token, settings.analytics.admin_session_hours * 3600)

    def presented_token(request: Request) -> bool:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())

    async def allowed(request: Request) -> bool:
        """The token or a valid sign-in cookie was presented; a wrong one counts against the rate."""
        if presented_token(request) or sessions.valid(request.cookies.get(COOKIE, "")):
            return True
        if request.headers.get("authorization") or request.cookies.get(COOKIE):
            await run_in_threadpool(admit, request)
        return False

    def login_form(error: str = "", status: int = 401) -> HTMLResponse:
        shown = f"<p class=error>{html.escape(error)}</p>" if error else ""
        return HTMLResponse(_LOGIN.format(error=shown), status_code=status,
                            headers={**_HEADERS, "WWW-Authenticate": 'Bearer realm="blogbot admin"'})

    def figures(request: Request) -> dict:
        since, until = period_of(request.query_params.get("since"), request.query_params.get("until"))
        return report_of(recorder.store, recorder.feedback, settings, since, until)

    async def report_for(request: Request) -> dict | Response:
        """The report the request asks for, or the response that refuses it (login form, 400)."""
        if not await allowed(request):
            return login_form()
        try:
            return await run_in_threadpool(figures, request)
        except ValueError as exc:
            return Response(json.dumps({"error": str(exc)}), status_code=400, media_type="application/json",
                            headers=_HEADERS)

    @app.get("/admin", include_in_schema=False)
    async def admin_page(request: Request):
        report = await report_for(request)
        if isinstance(report, Response):
            return report
        return HTMLResponse(await run_in_threadpool(render_page, report), headers=_HEADERS)

    @app.get("/admin/report.json", include_in_schema=False)
    async def admin_json(request: Request):
        report = await report_for(request)
        if isinstance(report, Response):
            return report
        return Response(json.dumps(report, ensure_ascii=False), media_type="application/json", headers=_HEADERS)

    @app.get("/admin/turns.csv", include_in_schema=False)
    async def admin_csv(request: Request):
        if not await allowed(request):
            return login_form()

        def written() -> str:
            since, until = period_of(request.query_params.get("since"), request.query_params.get("until"))
            out = io.StringIO()
            csv.writer(out).writerows(csv_rows(recorder.store.between(since, until)))
            return out.getvalue()

        try:
            text = await run_in_threadpool(written)
        except ValueError as exc:
            return Response(json.dumps({"error": str(exc)}), status_code=400, media_type="application/json",
                            headers=_HEADERS)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={**_HEADERS, "Content-Disposition": 'attachment; filename="turns.csv"'})

    @app.post("/admin/login", include_in_schema=False)
    async def admin_login(request: Request):
        await run_in_threadpool(admit, request)       # a guessing client meets the rate limit
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        presented = (form.get("token") or [""])[0]
        if not hmac.compare_digest(presented.encode(), token.encode()):
            return login_form("That is not the admin token.")
        response = RedirectResponse("/admin", status_code=303, headers=_HEADERS)
        response.set_cookie(COOKIE, sessions.new(), max_age=int(sessions.max_age_s), httponly=True,
                            samesite="strict", path="/admin", secure=request.url.scheme == "https")
        return response

    @app.post("/admin/logout", include_in_schema=False)
    async def admin_logout():
        response = RedirectResponse("/admin", status_code=303, headers=_HEADERS)
        response.delete_cookie(COOKIE, path="/admin")
        return response
