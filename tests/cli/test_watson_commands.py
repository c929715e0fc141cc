"""`blogbot import-watson` and `export-watson` as a user runs them: files that are not dialog skills,
the import report, the real Banking export end to end under `blogbot test`, a round trip of blogbot's
own config, and the blog answering where a skill has nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run_blogbot

sys.path.insert(0, str(REPO / "tests" / "dialogue"))
from watson_skill import skill  # noqa: E402

BANK = REPO.parent / "shared" / "watson" / "bank_simple_workspace.json"
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("content, words", [
    ('{"name": "x", "type": "action", "workspace": {"actions": [{"action": "a", "steps": []}]}}', ["actions skill"]),
    ('{"assistant_id": "a1", "name": "My assistant", "skills": []}', ["assistant export"]),
    ('{"hello": "world"}', ["without intents or dialog_nodes"]),
    ('[1, 2, 3]', ["JSON array"]),
    ('{"name": "x", "intents": [{"intent": "a", "examples": [', ["ends early", "truncated"]),
    ("not json at all", ["not JSON"]),
])
def test_a_file_that_is_not_a_dialog_skill_is_refused_in_one_line(tmp_path, content, words):
    path = tmp_path / "skill.json"
    path.write_text(content, encoding="utf-8")
    result = run_blogbot("import-watson", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), result.stderr
    assert not (tmp_path / "out").exists()


def test_import_refuses_a_folder_that_holds_files_unless_forced(tmp_path):
    (tmp_path / "cafe.json").write_text(json.dumps(skill()), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = run_blogbot("import-watson", str(tmp_path / "cafe.json"), "--out", str(out))
    assert refused.returncode == 2 and "--force" in refused.stderr
    forced = run_blogbot("import-watson", str(tmp_path / "cafe.json"), "--out", str(out), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    report = json.loads(forced.stdout)
    assert report["counts"]["intents"] == 9 and report["counts"]["slot nodes"] == 3 and report["notes"] == []


def test_the_report_names_what_is_not_supported(tmp_path):
    data = skill()
    data["dialog_nodes"].append({"dialog_node": "odd", "type": "standard", "parent": None, "previous_sibling": "fallback",
                                 "conditions": "#help && $x.(", "output": {"text": "x"}})
    data["dialog_nodes"].append({"dialog_node": "vid", "type": "standard", "parent": None, "previous_sibling": "odd",
                                 "conditions": "false", "output": {"generic": [{"response_type": "video", "source": "v"}]}})
    (tmp_path / "skill.json").write_text(json.dumps(data), encoding="utf-8")
    result = run_blogbot("import-watson", str(tmp_path / "skill.json"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "odd: condition:" in result.stdout and "vid: response type 'video' is not supported" in result.stdout


@pytest.mark.skipif(not BANK.is_file(), reason="../shared/watson/bank_simple_workspace.json is absent")
def test_the_banking_export_runs_end_to_end_under_blogbot_test(tmp_path, demo_index):
    result = run_blogbot("import-watson", str(BANK), "--out", str(tmp_path / "bank"))
    assert result.returncode == 0, result.stderr
    assert "99 intents" in result.stdout and "3 frame nodes" in result.stdout
    script = tmp_path / "bank.yml"
    script.write_text(yaml.safe_dump({"name": "appointment with a banker", "steps": [
        {"bot": {"text": "Virtual Agent", "buttons": ["Booking an appointment with a banker"]}},
        {"click": "Booking an appointment with a banker",
         "bot": {"intent": "Business_Information-Make_Appointment", "text": "Which date would be best"}},
        {"user": "tomorrow", "bot": {"text": r"/Great, \w{3}, \w{3} \d+, \d{4}\.[\s\S]*What time/"}},
        {"user": "3pm", "bot": {"text": "/Okay, 3:00 PM\\.[\\s\\S]*zip code/"}},
        {"user": "10001", "bot": {"text": "/zip code 10001[\\s\\S]*required information[\\s\\S]*5 nearby/"}},
        {"user": "2", "bot": {"text": "/location 2 on the list[\\s\\S]*3:00 PM[\\s\\S]*purpose/"}},
        {"user": "to open a savings account", "bot": {"text": "appointment is confirmed", "context": {
            "app_zip": "10001", "app_purpose": "to open a savings account"}}},
        {"user": "purple elephants dance", "bot": {"text": "trouble understanding", "context": {"off_topic_counter": 1}}},
        {"user": "purple elephants dance", "bot": {"text": "Should I transfer you now?"}},
        {"user": "what are your business hours", "bot": {"text": "/Monday - Saturday[\\s\\S]*transfer you now/"}},
    ]}, sort_keys=False), encoding="utf-8")
    ran = run_blogbot("test", str(script), "--data-dir", str(demo_index), config_dir=tmp_path / "bank")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_blogbots_own_config_round_trips_through_a_skill(tmp_path):
    first = run_blogbot("export-watson", "--out", str(tmp_path / "skill.json"))
    assert first.returncode == 0, first.stderr
    imported = run_blogbot("import-watson", str(tmp_path / "skill.json"), "--out", str(tmp_path / "config"))
    assert imported.returncode == 0, imported.stderr
    second = run_blogbot("export-watson", "--out", str(tmp_path / "again.json"), config_dir=tmp_path / "config")
    assert second.returncode == 0, second.stderr
    before, after = (json.loads((tmp_path / name).read_text()) for name in ("skill.json", "again.json"))
    for exported in (before, after):
        exported.pop("description")
    assert after == before
    # And the imported dialog is blogbot's own, node for node (digression defaults written out).
    assert _dialog_facts(tmp_path / "config" / "dialog.yml") == _dialog_facts(REPO / "config" / "dialog.yml")
    for name in ("intents.yml", "entities.yml"):
        original, imported = (yaml.safe_load(path.read_text()) for path in (REPO / "config" / name,
                                                                            tmp_path / "config" / name))
        assert imported["intents" if name == "intents.yml" else "entities"] == \
            {key: {**value, **({"fuzzy": True} if name == "entities.yml" and "fuzzy" not in value else {})}
             for key, value in original["intents" if name == "intents.yml" else "entities"].items()}


def _dialog_facts(path: Path) -> list[tuple]:
    """What each node of a dialog.yml does, with blogbot's digression defaults filled in."""
    from bot.dialogue.config import load_dialog

    facts = []
    for node in load_dialog(path).walk():
        facts.append((node.id, node.title, node.type, node.condition.source, node.context, repr(node.response),
                      [(s.variable, s.check_for.source, repr(s.prompt), s.accept_text) for s in node.slots],
                      node.action, repr(node.next_step), node.digress_in or ("returns" if node.parent is None else None),
                      node.digress_out, node.digress_out_slots or ("allow_returning" if node.slots else None)))
    return facts


def test_the_blog_answers_where_the_skill_has_nothing(tmp_path, demo_index):
    (tmp_path / "cafe.json").write_text(json.dumps(skill()), encoding="utf-8")
    imported = run_blogbot("import-watson", str(tmp_path / "cafe.json"), "--out", str(tmp_path / "config"),
                           "--answer-from-blog")
    assert imported.returncode == 0, imported.stderr
    script = tmp_path / "fallback.yml"
    script.write_text(yaml.safe_dump({"name": "skill first, blog behind it", "steps": [
        {"user": "what are your opening hours", "bot": {"text": "We are open from 9 to 5."}},
        {"user": "Can I run an LLM on a CPU with llama.cpp?", "bot": {"intent": "anything_else", "cites": ["llama-cpp"]}},
    ]}, sort_keys=False), encoding="utf-8")
    ran = run_blogbot("test", str(script), "--data-dir", str(demo_index), config_dir=tmp_path / "config")
    assert ran.returncode == 0, ran.stdout + ran.stderr
