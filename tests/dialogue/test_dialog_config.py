"""The dialog as data: config/dialog.yml loads and covers every intent; broken dialogs are refused
with a SettingsError that names the node."""

from __future__ import annotations


import pytest

from bot.dialogue.config import load_dialog
from bot.dialogue.expressions import Scope
from bot.nlu.intents import load_intents
from knowledge.settings import SettingsError


@pytest.fixture(scope="module")
def dialog():
    return load_dialog()


def test_shipped_dialog_loads(dialog):
    ids = [node.id for node in dialog.nodes]
    assert len(ids) == len(set(ids))
    assert ids[-1] == "anything_else" and dialog.nodes[-1].condition.evaluate(_AnyTurn())
    assert dialog.messages["disambiguation"]


def test_every_intent_has_a_node(dialog):
    named = {intent for node in dialog.nodes for intent in node.intents()}
    missing = sorted(set(load_intents()) - named)
    assert not missing, f"intents without a dialog node: {missing}"


def test_slots_check_for_entities(dialog):
    find_posts = dialog.node("find_posts")
    assert [slot.variable for slot in find_posts.slots] == ["subject"]
    assert find_posts.slots[0].check_for.references() == ["quoted_title", "subject", "topic"]
    assert dialog.node("posts_by_date").slots[0].check_for.references() == ["sys-date"]


class _AnyTurn:
    """A turn with nothing in it, where only the fallback flag holds."""

    def scope(self) -> Scope:
        return Scope({}, "", flags={"anything_else": True})


GOOD_NODE = """
  - id: hello
    condition: "#greeting"
    response:
      text: hi
"""

# (case, the broken part of the dialog, words the error must contain)
BROKEN = [
    ("missing id", """
  - condition: "#goodbye"
""", ["node 2", "id"]),
    ("missing condition", """
  - id: greet
    response:
      text: hi
""", ["node greet", "condition"]),
    ("unknown node key", """
  - id: greet
    condition: "#greeting"
    respons:
      text: hi
""", ["node greet", "respons"]),
    ("unknown response key", """
  - id: greet
    condition: "#greeting"
    response:
      text: hi
      voice: loud
""", ["node greet", "voice"]),
    ("bad condition", """
  - id: greet
    condition: "#greeting &&"
""", ["node greet", "#greeting &&"]),
    ("bad condition character", """
  - id: greet
    condition: "#greeting ? #hello"
""", ["node greet", "?"]),
    ("duplicate id", """
  - id: hello
    condition: "#goodbye"
""", ["hello", "duplicate"]),
    ("jump_to a missing node", """
  - id: greet
    condition: "#greeting"
    jump_to: nowhere
""", ["node greet", "jump_to", "nowhere"]),
    ("bad selection", """
  - id: greet
    condition: "#greeting"
    response:
      text: [a, b]
      selection: shuffled
""", ["node greet", "selection"]),
    ("slot without check_for", """
  - id: find
    condition: "#find_posts"
    slots:
      - variable: topic
        prompt: "Which topic?"
""", ["node find", "check_for"]),
    ("unknown slot key", """
  - id: find
    condition: "#find_posts"
    slots:
      - variable: topic
        check_for: "@topic"
        prompt: Which topic
        retries: 3
""", ["node find", "slot topic", "retries"]),
    ("bad slot condition", """
  - id: find
    condition: "#find_posts"
    slots:
      - variable: topic
        check_for: "@topic ||"
        prompt: Which topic
""", ["node find", "@topic ||"]),
    ("button without label", """
  - id: greet
    condition: "#greeting"
    response:
      text: hi
      buttons:
        - value: hello
""", ["node greet", "label"]),
]


def write_dialog(tmp_path, nodes: str):
    path = tmp_path / "dialog.yml"
    path.write_text("nodes:" + GOOD_NODE + nodes.lstrip("\n"), encoding="utf-8")
    return path


def test_good_node_alone_loads(tmp_path):
    config = load_dialog(write_dialog(tmp_path, ""))
    assert [node.id for node in config.nodes] == ["hello"]
    assert config.nodes[0].response.parts[0].texts == ["hi"]


@pytest.mark.parametrize("case, nodes, words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_dialog_names_the_node(tmp_path, case, nodes, words):
    path = write_dialog(tmp_path, nodes)
    with pytest.raises(SettingsError) as error:
        load_dialog(path)
    message = str(error.value)
    assert str(path) in message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


def test_no_nodes_and_bad_yaml(tmp_path):
    path = tmp_path / "dialog.yml"
    path.write_text("nodes: []\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="no nodes"):
        load_dialog(path)
    path.write_text("nodes: [\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        load_dialog(path)


@pytest.mark.parametrize("nodes", ["""
  - id: greet
    condition: "#greeting"
    context: [topic]
""", """
  - id: greet
    condition: "#greeting"
    response:
      text: 42
"""], ids=["context list", "response text number"])
def test_wrong_value_types_are_settings_errors(tmp_path, nodes):
    path = write_dialog(tmp_path, nodes)
    try:
        load_dialog(path)
    except SettingsError as exc:
        assert "node greet" in str(exc)
    except Exception as exc:   # noqa: BLE001 - the bug: any other exception escapes the loader
        pytest.fail(f"{type(exc).__name__} instead of SettingsError naming node greet: {exc}")
    else:
        pytest.fail("a broken node loaded without an error")
