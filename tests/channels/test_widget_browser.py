"""The chat widget in a real browser (Debian's Chromium through Playwright), talking to the real
assistant on the demo blog through a real uvicorn server.

One browser per module; each test gets a fresh browser context (a clean localStorage).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn

from bot.channels.web.app import create_app
from helpers import TODAY, free_port, post_text, wait_until_up, write_blog
from knowledge.feedback import FeedbackStore
from knowledge.corpus.ingest import ingest
from knowledge.settings import apply_overrides, load_settings

pytestmark = pytest.mark.slow     # a real browser

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSWER_WAIT_MS = 180_000           # a generated answer on a small CPU (a hang guard, not a speed check)
LORA_QUESTION = "How do I fine-tune an LLM on a small GPU?"
LORA = "/article/lora-qlora-small-gpu/"
TEKTON = "/article/tekton-pipelines/"
WELCOME = "I answer questions about this blog"

if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


# -- servers ------------------------------------------------------------------------------------------


class Served:
    """A real uvicorn server on 127.0.0.1 for an app, in a daemon thread."""

    def __init__(self, app, port: int, store: FeedbackStore):
        self.app, self.port, self.store = app, port, store
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until_up(f"{self.url}/healthz", self.thread.is_alive, timeout_s=60)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def serve_app(tmp_path_factory):
    """Factory: serve_app(engine, **web settings) -> a started Served; all stopped at the end."""
    started = []

    def start(engine, port: int | None = None, **web) -> Served:
        port = port or free_port()
        store = FeedbackStore(tmp_path_factory.mktemp("feedback"))
        settings = apply_overrides(load_settings(), {"web": web}) if web else load_settings()
        served = Served(create_app(engine, settings, store), port, store)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="module")
def blog_port() -> int:
    """The port of a blog site (another origin) that embeds the widget: see `blog_site`."""
    return free_port()


@pytest.fixture(scope="module")
def server(demo_engine, serve_app, blog_port) -> Served:
    """The demo blog's assistant. Its rate limit is out of reach of this module's requests, and the blog
    site at http://127.0.0.1:BLOG_PORT may embed the widget."""
    return serve_app(demo_engine, rate_limit_per_minute=10_000, rate_limit_burst=10_000,
                     allowed_origins=[f"http://127.0.0.1:{blog_port}"])


EMBED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>A blog post</title></head>
<body><h1>A post on the blog</h1>{canary}<script src="{widget}" defer></script></body></html>"""


@pytest.fixture(scope="module")
def blog_site(server, blog_port):
    """A plain web server for the blog, on another origin than the assistant: every page embeds the widget
    with one script tag from the assistant's server (`server`, or the one in ?assistant=URL). Yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            assistant = parse_qs(urlsplit(self.path).query).get("assistant", [server.url])[0]
            page = EMBED_PAGE.format(canary="", widget=f"{assistant}/widget.js").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    site = ThreadingHTTPServer(("127.0.0.1", blog_port), Handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{blog_port}"
    site.shutdown()
    site.server_close()


# -- browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Factory: a page in a fresh context (clean localStorage); options go to new_context."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def open_widget(page, url: str):
    """Load the page, open the chat and wait for the welcome."""
    page.goto(url)
    page.locator(".bb-launcher").click()
    page.locator(".bb-log .bb-bot", has_text=WELCOME).wait_for()


def ask(page, text: str):
    page.locator(".bb-input").fill(text)
    page.locator(".bb-input").press("Enter")


def bot_bubbles(page):
    return page.locator(".bb-log .bb-bot:not(.bb-draft)")


def wait_for_bots(page, count: int, timeout: float = ANSWER_WAIT_MS):
    bot_bubbles(page).nth(count - 1).wait_for(timeout=timeout)
    page.locator(".bb-typing").wait_for(state="hidden", timeout=timeout)


def local_storage(page) -> dict:
    return page.evaluate("() => Object.fromEntries(Object.entries(localStorage))")


def transcript(page) -> list[str]:
    """The text of each message in the log, without its buttons (only the last message keeps them)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.bb-log .bb-msg'), m => {
        const copy = m.cloneNode(true);
        copy.querySelectorAll('.bb-buttons').forEach(b => b.remove());
        return copy.textContent;
    })""")


def session_id(page) -> str:
    [value] = [v for k, v in local_storage(page).items() if k.endswith(":session")]
    return value.strip('"')


# -- opening, asking, answering -----------------------------------------------------------------------


def test_launcher_opens_the_welcome_with_starters(page, server):
    page.goto(server.url + "/")
    launcher = page.get_by_role("button", name="Open chat: Ask the blog")
    assert launcher.is_visible()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.locator(".bb-panel").is_hidden()

    launcher.click()
    welcome = page.locator(".bb-log .bb-bot", has_text=WELCOME)
    welcome.wait_for()
    assert launcher.get_attribute("aria-expanded") == "true"
    for starter in ("What's new?", "Topics", "What can you do?"):
        assert welcome.get_by_role("button", name=starter).is_visible()
    assert page.get_by_role("textbox", name="Your message").is_visible()
    assert page.dialogs == []


def test_question_streams_then_cites_the_right_post(page, server, tmp_path, tmp_path_factory, record_property):
    open_widget(page, server.url + "/")
    # record what the log shows while the answer is written
    page.evaluate("""() => {
        window.__seen = [];
        const log = document.querySelector('.bb-log');
        new MutationObserver(records => {
            for (const r of records) {
                const target = r.target.nodeType === 1 ? r.target : r.target.parentElement;
                if (target && target.closest('.bb-draft')) {
                    window.__seen.push({kind: 'draft', text: target.closest('.bb-draft').textContent});
                }
                for (const node of r.addedNodes) {
                    if (node.nodeType !== 1) continue;
                    if (node.classList.contains('bb-draft')) window.__seen.push({kind: 'draft', text: node.textContent});
                    else if (node.classList.contains('bb-bot')) window.__seen.push(
                        {kind: 'answer', sources: !!node.querySelector('.bb-sources'), text: node.textContent});
                }
            }
        }).observe(log, {childList: true, subtree: true, characterData: true});
    }""")
    ask(page, LORA_QUESTION)
    assert page.locator(".bb-log .bb-user").last.inner_text() == LORA_QUESTION
    page.locator(".bb-draft").wait_for(timeout=ANSWER_WAIT_MS)         # tokens are showing…
    answer = bot_bubbles(page).filter(has=page.locator(".bb-sources")).last
    answer.wait_for(timeout=ANSWER_WAIT_MS)                             # …then the whole answer
    page.locator(".bb-typing").wait_for(state="hidden")

    seen = page.evaluate("window.__seen")
    kinds = [event["kind"] for event in seen]
    assert "draft" in kinds and "answer" in kinds, seen
    first_answer = kinds.index("answer")
    drafts = [event["text"] for event in seen[:first_answer] if event["kind"] == "draft"]
    assert drafts and any(text.strip() for text in drafts), seen
    assert seen[first_answer]["sources"] is True
    assert page.locator(".bb-draft").count() == 0                      # the draft gave way to the answer

    source = answer.locator(f".bb-sources a[href*='{LORA}']")
    assert source.count() >= 1
    assert source.first.is_visible()
    assert "LoRA" in source.first.inner_text()
    assert source.first.get_attribute("target") == "_blank"
    assert answer.get_by_role("button", name="Helpful", exact=True).is_visible()

    shot = tmp_path / "widget.png"
    page.screenshot(path=str(shot))
    copy = tmp_path_factory.getbasetemp() / "widget.png"
    shutil.copyfile(shot, copy)
    record_property("screenshot", str(copy))
    print(f"\nscreenshot of the open widget: {shot} (copy: {copy})")
    assert page.dialogs == []


def test_pressing_a_button_answers_and_thumbs_up_is_recorded(page, server):
    open_widget(page, server.url + "/")
    page.get_by_role("button", name="What's new?").click()
    assert page.locator(".bb-log .bb-user").last.inner_text() == "What's new?"
    wait_for_bots(page, 2)
    reply = bot_bubbles(page).nth(1)
    assert reply.locator("a[href*='/article/']").count() >= 3           # the latest posts, linked
    assert "AI Agents" in reply.inner_text() or "agents" in reply.inner_text().lower()

    helpful = reply.get_by_role("button", name="Helpful", exact=True)
    not_helpful = reply.get_by_role("button", name="Not helpful")
    assert helpful.get_attribute("aria-pressed") == "false"
    helpful.click()
    page.wait_for_function("el => el.getAttribute('aria-pressed') === 'true'", arg=helpful.element_handle())
    assert not_helpful.get_attribute("aria-pressed") == "false"
    message_id = reply.get_attribute("data-message-id")
    rows = [r for r in server.store.all() if r["message_id"] == message_id]
    assert [r["rating"] for r in rows] == ["up"]
    assert rows[0]["session_id"].endswith(session_id(page))
    assert rows[0]["question"] == "What are the latest posts?"
    assert page.locator(".bb-error").count() == 0


def test_who_writes_the_blog_links_its_about_page(page, server):
    open_widget(page, server.url + "/")
    ask(page, "who writes this blog?")
    wait_for_bots(page, 2)
    reply = bot_bubbles(page).nth(1)
    assert "written by Alex Example" in reply.inner_text()
    about = reply.locator("a[href='https://blog.example.com/about/']")
    assert about.count() == 1 and about.inner_text() == "the about page"


def test_conversation_survives_reload_and_navigation(page, server):
    open_widget(page, server.url + "/")
    ask(page, "posts about tekton")
    wait_for_bots(page, 2)
    listing = bot_bubbles(page).nth(1)
    assert listing.locator(f"a[href*='{TEKTON}']").count() == 1
    session = session_id(page)
    before = transcript(page)

    page.reload()
    log = page.locator(".bb-log")
    log.locator(".bb-bot", has_text=WELCOME).wait_for()
    assert page.locator(".bb-panel").is_visible()                       # still open
    assert log.locator(".bb-user").all_inner_texts() == ["posts about tekton"]
    assert log.locator(f".bb-bot a[href*='{TEKTON}']").count() == 1
    assert session_id(page) == session

    page.goto(server.url + "/?another=page")
    log.locator(".bb-user", has_text="posts about tekton").wait_for()
    page.go_back()
    log.locator(".bb-user", has_text="posts about tekton").wait_for()
    assert page.url == server.url + "/"
    assert transcript(page) == before
    assert session_id(page) == session

    # the server still knows the conversation: "Summarize #1" refers to the Tekton listing
    page.get_by_role("button", name="Summarize #1").click()
    wait_for_bots(page, 3)
    summary = bot_bubbles(page).nth(2)
    assert summary.inner_text().startswith("Summary of")
    assert "Tekton" in summary.inner_text()
    assert session_id(page) == session


# -- keyboard, small screens, ARIA --------------------------------------------------------------------


def test_keyboard_only(page, server):
    page.goto(server.url + "/")
    page.locator(".bb-launcher").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('bb-launcher')")
    page.keyboard.press("Enter")
    page.locator(".bb-panel").wait_for()
    assert page.evaluate("document.activeElement.classList.contains('bb-input')")
    page.locator(".bb-log .bb-bot", has_text=WELCOME).wait_for()
    page.keyboard.type("hello")
    page.keyboard.press("Escape")
    page.locator(".bb-panel").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('bb-launcher')")
    assert page.locator(".bb-launcher").get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")                                         # and open again
    page.locator(".bb-panel").wait_for()
    assert page.evaluate("document.activeElement.classList.contains('bb-input')")


def test_phone_sized_viewport_fills_the_width(new_page, server, tmp_path_factory):
    page = new_page(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    open_widget(page, server.url + "/")
    box = page.locator(".bb-panel").bounding_box()
    assert box["x"] == 0 and box["width"] == 375
    assert box["y"] == 0 and box["height"] == 667
    form = page.locator(".bb-form").bounding_box()
    assert form["y"] + form["height"] <= 667                             # the input is on screen
    assert page.locator(".bb-input").is_visible()
    assert page.get_by_role("button", name="Close chat").is_visible()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "widget-phone.png"))


def test_aria_roles_and_labels(page, server):
    open_widget(page, server.url + "/")
    dialog = page.get_by_role("dialog", name="Ask the blog")
    assert dialog.is_visible()
    log = dialog.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    assert log.get_attribute("aria-label")
    launcher = page.locator(".bb-launcher")
    assert launcher.get_attribute("aria-controls") == dialog.get_attribute("id")
    assert dialog.get_by_role("textbox", name="Your message").is_visible()
    assert dialog.get_by_role("button", name="Send").is_visible()
    assert dialog.get_by_role("button", name="Close chat").is_visible()
    assert dialog.get_by_role("group", name="Choices").is_visible()


# -- errors -------------------------------------------------------------------------------------------


def test_busy_server_shows_error_and_retry_answers(page, demo_engine, serve_app):
    busy = serve_app(demo_engine, workers=1, queue_size=0)
    open_widget(page, busy.url + "/")
    release, freed = threading.Event(), threading.Event()
    holder = busy.app.state.pool.submit(release.wait, 120)              # the only worker is taken
    try:
        ask(page, "posts about tekton")
        error = page.get_by_role("alert")
        error.wait_for()
        # One turn ahead of the only worker (3 s a turn until one is measured): the wait the server gave.
        assert re.search(r"The assistant is busy right now\. Try again in [34] seconds\.", error.inner_text())
        assert error.get_by_role("button", name="Retry").is_visible()
    finally:
        release.set()
        holder.add_done_callback(lambda _: freed.set())
        assert freed.wait(30)
    page.get_by_role("alert").get_by_role("button", name="Retry").click()
    wait_for_bots(page, 2)
    assert bot_bubbles(page).nth(1).locator(f"a[href*='{TEKTON}']").count() == 1
    assert page.get_by_role("alert").count() == 0
    assert page.locator(".bb-log .bb-user").all_inner_texts() == ["posts about tekton"]   # asked once


def test_too_many_requests_shows_error_with_retry(page, demo_engine, serve_app):
    limited = serve_app(demo_engine, rate_limit_per_minute=1, rate_limit_burst=1)
    open_widget(page, limited.url + "/")                                 # the one request allowed
    ask(page, "posts about tekton")
    error = page.get_by_role("alert")
    error.wait_for()
    assert re.search(r"You're sending messages too fast\. Try again in \d+ seconds\.", error.inner_text())
    assert error.get_by_role("button", name="Retry").is_visible()
    assert page.locator(".bb-send").is_enabled()                         # not stuck busy


def test_unreachable_server_shows_error_and_retry_recovers(page, server):
    open_widget(page, server.url + "/")
    page.route("**/api/chat/stream", lambda route: route.abort())
    ask(page, "posts about tekton")
    error = page.get_by_role("alert")
    error.wait_for()
    assert "Can't reach the assistant" in error.inner_text()
    page.unroute("**/api/chat/stream")
    error.get_by_role("button", name="Retry").click()
    wait_for_bots(page, 2)
    assert bot_bubbles(page).nth(1).locator(f"a[href*='{TEKTON}']").count() == 1
    assert page.get_by_role("alert").count() == 0


def test_intercepted_503_shows_the_servers_retry_after(page, server):
    open_widget(page, server.url + "/")
    page.route("**/api/chat/stream", lambda route: route.fulfill(
        status=503, headers={"Retry-After": "7"}, content_type="application/json", body='{"error":"busy"}'))
    ask(page, "posts about tekton")
    error = page.get_by_role("alert")
    error.wait_for()
    assert "Try again in 7 seconds" in error.inner_text()
    assert error.get_by_role("button", name="Retry").is_visible()


STREAM_FAILS_MIDWAY = (
    'event: session\ndata: {"session_id": "%s", "new_session": false}\n\n'
    'event: token\ndata: {"text": "Half an answer that never"}\n\n'
    'event: error\ndata: {"error": "the assistant failed on this message; it was logged"}\n\n')


def test_a_turn_failing_midway_leaves_no_half_answer(page, server):
    """An `error` event after some tokens: the error with Retry, and the half-written draft gone."""
    open_widget(page, server.url + "/")
    body = STREAM_FAILS_MIDWAY % session_id(page)
    page.route("**/api/chat/stream", lambda route: route.fulfill(
        status=200, headers={"Cache-Control": "no-cache"}, content_type="text/event-stream", body=body))
    ask(page, "what is retrieval augmented generation?")
    error = page.get_by_role("alert")
    error.wait_for()
    assert "the assistant failed on this message" in error.inner_text()
    assert error.get_by_role("button", name="Retry").is_visible()
    assert "Half an answer" not in page.locator(".bb-log").inner_text()


def test_a_stream_cut_midway_says_so_and_offers_retry(page, server):
    """A stream that ends before its answer (connection cut): an error with Retry, not a half answer."""
    open_widget(page, server.url + "/")
    cut = (STREAM_FAILS_MIDWAY % session_id(page)).split("event: error")[0]
    page.route("**/api/chat/stream", lambda route: route.fulfill(
        status=200, headers={"Cache-Control": "no-cache"}, content_type="text/event-stream", body=cut))
    ask(page, "what is retrieval augmented generation?")
    page.locator(".bb-typing").wait_for(state="hidden")                  # the widget is done with the turn
    error = page.get_by_role("alert")
    assert error.count() == 1
    assert error.get_by_role("button", name="Retry").is_visible()
    assert "Half an answer" not in page.locator(".bb-log").inner_text()


# -- embedding on another site ------------------------------------------------------------------------


def test_widget_embedded_on_an_allowed_origin_talks_to_the_server(page, server, blog_site):
    open_widget(page, blog_site + "/2024/05/a-post/")                   # /api/chat/start across origins
    page.get_by_role("button", name="Topics").click()                    # and the event stream
    wait_for_bots(page, 2)
    assert page.get_by_role("alert").count() == 0
    assert page.locator(".bb-log .bb-user").all_inner_texts() == ["Topics"]
    assert bot_bubbles(page).nth(1).inner_text().strip()
    assert session_id(page)


def test_embedded_widget_tells_how_long_to_wait(page, demo_engine, serve_app, blog_site, blog_port):
    """Across origins the widget can read Retry-After only if the server exposes it (CORS)."""
    limited = serve_app(demo_engine, rate_limit_per_minute=1, rate_limit_burst=1,
                        allowed_origins=[f"http://127.0.0.1:{blog_port}"])
    open_widget(page, f"{blog_site}/2024/05/a-post/?assistant={limited.url}")   # the one request allowed
    ask(page, "posts about tekton")
    error = page.get_by_role("alert")
    error.wait_for()
    assert "You're sending messages too fast" in error.inner_text()
    assert re.search(r"Try again in \d+ seconds", error.inner_text()), error.inner_text()


def test_widget_on_an_origin_not_allowed_says_it_cannot_reach_the_assistant(page, server, blog_site):
    page.goto(blog_site.replace("127.0.0.1", "localhost") + "/2024/05/a-post/")   # http://localhost:P: not allowed
    page.locator(".bb-launcher").click()
    error = page.get_by_role("alert")
    error.wait_for()
    assert "Can't reach the assistant" in error.inner_text()
    assert error.get_by_role("button", name="Retry").is_visible()


# -- hostile content ----------------------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> Tekton tricks"


@pytest.fixture(scope="module")
def hostile_server(demo_index, demo_engine, serve_app, tmp_path_factory):
    """A blog with a hostile post, its own index and assistant, served."""
    from bot.assistant import build

    root = tmp_path_factory.mktemp("hostile")
    blog = write_blog(root / "blog", {
        "2024-02-01-tekton-tricks.md": post_text(HOSTILE_TITLE, """
            Tekton tricks for faster pipelines. <img src=x onerror=alert(1)>

            Read the [click](javascript:alert(1)) guide before you start.

            Tekton runs every step of a task as a container in a pod. Cache the build tools in a
            workspace, run independent tasks in parallel, and keep pipelines small and reusable.
            """, date="2024-02-01", tags=["tekton", "kubernetes"]),
        "2023-06-10-kubernetes-basics.md": post_text("Kubernetes basics", """
            Kubernetes schedules containers onto nodes. Pods are the smallest unit; deployments keep
            a number of pods running, and services give them a stable address.
            """, date="2023-06-10", tags=["kubernetes"]),
    })
    data = root / "data"
    report = ingest(blog, data, load_settings())
    assert report.indexed == 2, report.summary()
    (data / "models").symlink_to(demo_index / "models", target_is_directory=True)   # the converted generator
    engine = build(data, load_settings(), tracker_store="memory", today=TODAY).engine
    return serve_app(engine, rate_limit_per_minute=10_000, rate_limit_burst=10_000)


def test_hostile_post_and_message_are_shown_as_text(page, hostile_server):
    # A page without the demo page's Content-Security-Policy, like many blogs: the widget alone must keep
    # content inert. The canary shows that inline handlers do run on this page.
    post = f"{hostile_server.url}/2024/05/a-post/"
    page.route(post, lambda route: route.fulfill(status=200, content_type="text/html", body=EMBED_PAGE.format(
        canary='<img id="canary" src="x" onerror="window.__canary=1">', widget="/widget.js")))
    open_widget(page, post)
    assert page.evaluate("window.__canary") == 1

    ask(page, "posts about tekton")
    wait_for_bots(page, 2)
    listing = bot_bubbles(page).nth(1)
    assert HOSTILE_TITLE in listing.inner_text()
    ask(page, "summarize the first one")
    wait_for_bots(page, 3)
    summary = bot_bubbles(page).nth(2)
    assert "Tekton tricks" in summary.inner_text()
    hostile_message = "look <img src=x onerror=window.__xss=1> and <script>window.__xss=1</script>"
    ask(page, hostile_message)
    wait_for_bots(page, 4)

    log = page.locator(".bb-log")
    assert log.locator(".bb-user").last.inner_text() == hostile_message
    assert log.get_by_text(HOSTILE_TITLE).first.is_visible()             # the literal <script> shows as text
    assert "<script>" in log.inner_text()
    assert log.locator("img").count() == 0
    assert log.locator("script").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []


def test_a_typed_payload_and_an_echoed_topic_show_no_link_or_markup(page, server):
    """A reader cannot make the bot say a link: a typed button payload is text, and the words the bot
    repeats (a quoted topic) are shown exactly as typed."""
    link = "[win a GPU](https://evil.example/phish)"
    open_widget(page, server.url + "/")
    ask(page, '/find_posts{"topic": "' + link + ' <b>x</b>"}')
    wait_for_bots(page, 2)
    ask(page, f'find posts about "{link} <b>x</b>"')
    wait_for_bots(page, 3)
    echoed = bot_bubbles(page).nth(2).inner_text()
    assert f"{link} <b>x</b>" in echoed                      # the reader's words, as typed
    assert "\\" not in echoed                                # no escape characters shown
    assert page.locator('.bb-log a[href*="evil.example"]').count() == 0
    assert page.locator(".bb-log b").count() == 0


def test_a_single_line_break_stays_one_and_a_blank_line_starts_a_paragraph(page, server):
    """Multiline responses and the <br> of imported Watson texts arrive as single line breaks."""
    open_widget(page, server.url + "/")
    message = {"id": "m1", "text": "Shirts\nMugs\n\nAsk about **either**.", "citations": [], "buttons": [],
               "abstained": None}
    body = ('event: session\ndata: {"session_id": "%s", "new_session": false}\n\n' % session_id(page)
            + "event: message\ndata: " + json.dumps(message) + "\n\n"
            + 'event: done\ndata: {"session_id": "%s", "intent": null}\n\n' % session_id(page))
    page.route("**/api/chat/stream", lambda route: route.fulfill(
        status=200, headers={"Cache-Control": "no-cache"}, content_type="text/event-stream", body=body))
    ask(page, "what do you sell?")
    answer = page.locator(".bb-bot").last
    answer.get_by_text("Ask about").wait_for()
    paragraphs = answer.locator("p")
    assert paragraphs.count() == 2
    assert paragraphs.nth(0).inner_text() == "Shirts\nMugs"          # a <br> between them
    assert paragraphs.nth(0).locator("br").count() == 1
    assert paragraphs.nth(1).locator("strong").inner_text() == "either"
