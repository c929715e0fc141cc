"""The scripted-conversation runner: `blogbot test` (report lines, failure transcripts, JSON lines,
JUnit XML, malformed files, exit codes) and `blogbot chat --record`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.testing.runner import Engines, run_script
from bot.testing.scripts import ScriptError, load_scripts
from helpers import TODAY, run_blogbot

PASSING = """\
name: greets and lists tekton posts
steps:
  - user: hello
    bot:
      intent: greeting
      text: /hello|hi/i
      buttons: []
  - user: do you have posts about tekton?
    bot:
      intent: find_posts
      cites: [tekton-pipelines]
      not_cites: [kafka]
      buttons: ["Summarize #1"]
      context: {topic: tekton}
  - click: "Summarize #1"
    bot:
      intent: summarize_post
      text: Tekton
      not_text: /sorry/i
"""

FAILING = """\
- name: expects the wrong post
  steps:
    - user: hi
      bot: {intent: greeting}
    - user: do you have posts about tekton?
      bot:
        cites: [vector-databases]
    - user: never reached
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def engines(demo_index, demo_engine):
    return Engines(demo_index, today=TODAY, default_engine=demo_engine)


def test_a_passing_script_passes(tmp_path, engines):
    script = load_scripts(write(tmp_path, "ok.yml", PASSING))[0]
    result = run_script(script, engines)
    assert result.passed, result.failure
    assert result.name == "greets and lists tekton posts"


def test_a_first_step_with_only_bot_checks_the_opening(tmp_path, engines):
    opening = "name: opening\nsteps:\n  - bot: {text: 'I answer questions about this blog', buttons: [Topics]}\n" \
              "  - user: hello\n    bot: {intent: greeting}\n"
    result = run_script(load_scripts(write(tmp_path, "open.yml", opening))[0], engines)
    assert result.passed, result.failure
    assert result.transcript[0] == "user: [opens the conversation]"
    wrong = opening.replace("I answer questions about this blog", "Welcome to the cafe")
    result = run_script(load_scripts(write(tmp_path, "wrong.yml", wrong))[0], engines)
    assert not result.passed and "step 1" in result.failure


def test_a_failing_script_stops_at_the_failing_turn_with_expected_and_actual(tmp_path, engines):
    script = load_scripts(write(tmp_path, "bad.yml", FAILING))[0]
    result = run_script(script, engines)
    assert not result.passed
    assert "step 2 (line 5)" in result.failure
    assert "expected a citation of 'vector-databases'" in result.failure
    assert "/article/tekton-pipelines/" in result.failure          # what it cited instead
    assert not any("never reached" in line for line in result.transcript)


def test_clicking_a_button_that_was_not_offered_fails_with_the_offered_labels(tmp_path, engines):
    script = load_scripts(write(tmp_path, "click.yml", "name: c\nsteps:\n  - user: hi\n  - click: 'Summarize #1'\n"))[0]
    result = run_script(script, engines)
    assert not result.passed
    assert "no button labelled 'Summarize #1'" in result.failure


def test_context_set_before_a_turn_is_used(tmp_path, engines):
    text = ("name: author\nsteps:\n  - user: who writes this blog?\n    context: {author: Jane Q. Doe}\n"
            "    bot: {intent: about_author, text: Jane Q. Doe}\n")
    assert run_script(load_scripts(write(tmp_path, "ctx.yml", text))[0], engines).passed


def test_each_conversation_starts_a_fresh_session(tmp_path, engines):
    first = "name: lists\nsteps:\n  - user: do you have posts about tekton?\n    bot: {intent: find_posts}\n"
    second = ("name: fresh\nsteps:\n  - user: hello\n    bot:\n      context: {knowledge_base_listed_objects: null, "
              "topic: null}\n")
    path = write(tmp_path, "two.yml", f"- {first.replace(chr(10), chr(10) + '  ')}\n- {second.replace(chr(10), chr(10) + '  ')}")
    scripts = load_scripts(path)
    results = [run_script(s, engines) for s in scripts]
    assert [r.passed for r in results] == [True, True], [r.failure for r in results]


@pytest.mark.parametrize("text, line, reason", [
    ("name: x\nsteps:\n  - user: hi\n    bot: {intnt: greeting}\n", 4, "unknown expectation(s) intnt"),
    ("name: x\nsteps:\n  - user: hi\n  - bot: {intent: greeting}\n", 4, "only the first step can be bot alone"),
    ("name: x\nsteps:\n  - user: hi\n    click: Go\n", 3, "one of user or click, not both"),
    ("name: x\nsteps:\n  - context: {a: 1}\n", 3, "needs user, click, or"),
    ("name: x\nsurprise: 1\nsteps:\n  - user: hi\n", 1, "unknown key(s) surprise"),
    ("name: [unclosed\n", 2, "not valid YAML"),
    ("steps:\n  - user: hi\n", 1, "needs a name"),
    ("name: x\nsteps: []\n", 1, "needs a list of steps"),
    ("name: x\nsteps:\n  - user: hi\n    bot: {text: '/(unclosed/'}\n", 4, "bad regular expression"),
    ("", 1, "empty"),
])
def test_malformed_files_name_file_line_and_reason(tmp_path, text, line, reason):
    path = write(tmp_path, "bad.yml", text)
    with pytest.raises(ScriptError) as caught:
        load_scripts(path)
    assert caught.value.file == path
    assert caught.value.line == line
    assert reason in caught.value.reason


@pytest.mark.slow
def test_cli_reports_each_conversation_and_exits_1_on_a_failure(tmp_path, demo_index):
    folder = tmp_path / "scripts"
    write(folder, "a_ok.yml", PASSING)
    write(folder, "b_fail.yml", FAILING)
    write(folder, "c_malformed.yml", "name: x\nsteps:\n  - user: hi\n  - bot: {intent: greeting}\n")
    done = run_blogbot("test", str(folder), "--junit", str(tmp_path / "out" / "junit.xml"), "--data-dir", str(demo_index), timeout=600)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "PASS  greets and lists tekton posts" in out
    assert "FAIL  expects the wrong post" in out
    assert "user: do you have posts about tekton?" in out                # the transcript up to the failure
    assert ">>> step 2 (line 5): expected a citation of 'vector-databases'" in out
    assert "c_malformed.yml:4: only the first step can be bot alone" in out
    assert "1 passed, 2 failed" in out
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert suite.get("tests") == "3"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["greets and lists tekton posts"].find("failure") is None
    assert "vector-databases" in cases["expects the wrong post"].find("failure").get("message")


@pytest.mark.slow
def test_cli_json_lines_and_exit_0_when_all_pass(tmp_path, demo_index):
    path = write(tmp_path, "ok.yml", PASSING)
    done = run_blogbot("test", str(path), "--json", "--data-dir", str(demo_index), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [{"name": "greets and lists tekton posts", "file": str(path), "passed": True, "failure": None}]


def test_cli_bad_usage_exits_2(tmp_path, demo_index):
    done = run_blogbot("test", str(tmp_path / "missing"), "--data-dir", str(demo_index), timeout=600)
    assert done.returncode == 2 and done.stderr.startswith("error: no such file or folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_blogbot("test", str(empty), "--data-dir", str(demo_index), timeout=600)
    assert done.returncode == 2 and "no .yml conversation files" in done.stderr
    done = run_blogbot("test", str(write(tmp_path, "ok.yml", PASSING)), "--data-dir", str(tmp_path / "no-index"), timeout=600)
    assert done.returncode == 2 and "no index" in done.stderr


@pytest.mark.slow
def test_chat_record_saves_a_script_that_passes(tmp_path, demo_index):
    script = tmp_path / "recorded" / "chat.yml"
    done = run_blogbot("chat", "--record", str(script), "--data-dir", str(demo_index), timeout=600,
                   stdin="hi\ndo you have posts about tekton?\n1\n")
    assert done.returncode == 0, done.stderr
    assert "saved the conversation" in done.stderr
    steps = load_scripts(script)[0].steps
    assert [s.user or f"click:{s.click}" for s in steps] == ["hi", "do you have posts about tekton?",
                                                             "click:Summarize #1"]
    assert steps[1].bot.intent == "find_posts" and steps[1].bot.cites == ["/article/tekton-pipelines/"]
    assert steps[2].bot.intent == "summarize_post"
    replay = run_blogbot("test", str(script), "--data-dir", str(demo_index), timeout=600)
    assert replay.returncode == 0, replay.stdout


def test_a_script_can_run_against_another_index(tmp_path, engines):
    """`data_dir` (relative to the file) picks another blog; the demo blog's engine stays itself."""
    from helpers import post_text, write_blog
    from knowledge.corpus.ingest import ingest
    from knowledge.settings import load_settings

    blog = write_blog(tmp_path / "other-blog", {
        "2024-02-02-sourdough-starter.md": post_text(
            "Keeping a Sourdough Starter Alive", "Feed the sourdough starter flour and water every day. "
            "A sourdough starter kept in the fridge needs feeding once a week.", date="2024-02-02")})
    ingest(blog, tmp_path / "other-index", load_settings())
    folder = tmp_path / "scripts"
    write(folder, "other.yml", "name: other blog\ndata_dir: ../other-index\nsteps:\n"
                               "  - user: do you have posts about sourdough?\n"
                               "    bot: {intent: find_posts, cites: [sourdough-starter]}\n")
    write(folder, "demo.yml", "name: demo blog\nsteps:\n  - user: do you have posts about tekton?\n"
                              "    bot: {cites: [tekton-pipelines], not_cites: [sourdough]}\n")
    results = [run_script(load_scripts(folder / name)[0], engines) for name in ("other.yml", "demo.yml")]
    assert [r.failure for r in results] == [None, None]
