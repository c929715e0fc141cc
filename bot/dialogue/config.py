"""The dialog as data: nodes, slots and responses from `config/dialog.yml`, checked at load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


from bot.dialogue.conditions import Condition, ConditionError, parse_condition
from knowledge.settings import SettingsError, config_dir, read_config_file

_NODE_KEYS = {"id", "title", "condition", "context", "slots", "response", "action", "jump_to", "digressions"}
_SLOT_KEYS = {"variable", "check_for", "prompt", "accept_text"}
_RESPONSE_KEYS = {"text", "selection", "buttons"}
_SELECTIONS = ("sequential", "random", "multiline")
_MESSAGES = {"disambiguation": "Did you mean:", "none_of_the_above": "None of the above",
             "action_failed": "Sorry, something went wrong on my side. Please try again in a moment.",
             "action_slow": "This is taking longer than usual. I'm still on it…",
             "slot_retry": "Sorry, I didn't get that.", "slot_given_up": "Let's leave that. What else can I do for you?",
             "author_unknown": "the blog's author", "authors_many": "{count} authors, most often {names}",
             "list_and": "and", "example_question": "what did you write about {topic}?"}


@dataclass
class Slot:
    variable: str
    check_for: Condition
    prompt: str
    accept_text: bool = False


@dataclass
class Response:
    texts: list[str]
    selection: str = "sequential"
    buttons: list[tuple[str, str]] = field(default_factory=list)   # (label, value)


@dataclass
class DialogNode:
    id: str
    condition: Condition
    title: str = ""
    context: dict = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    response: Response | None = None
    action: str | None = None
    jump_to: str | None = None
    digressions: bool = True

    def intents(self) -> list[str]:
        """Intents the condition names (#intent), for "Did you mean…" options."""
        return [token[1:] for token in self.condition.source.replace("(", " ").replace(")", " ").split()
                if token.startswith("#")]


@dataclass
class DialogConfig:
    nodes: list[DialogNode]
    context: dict
    messages: dict

    def node(self, node_id: str) -> DialogNode:
        return next(n for n in self.nodes if n.id == node_id)


def load_dialog(path: Path | None = None) -> DialogConfig:
    """Read dialog.yml; every problem is a SettingsError naming the node and the key."""
    path = path or config_dir() / "dialog.yml"
    raw = read_config_file(path)
    nodes = []
    for index, spec in enumerate(raw.get("nodes") or [], 1):
        where = f"{path}: node {spec.get('id') or index}" if isinstance(spec, dict) else f"{path}: node {index}"
        if not isinstance(spec, dict) or not spec.get("id") or "condition" not in spec:
            raise SettingsError(f"{where}: needs an id and a condition")
        unknown = set(spec) - _NODE_KEYS
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(spec.get("context") or {}, dict):
            raise SettingsError(f"{where}: context must be a mapping of variables to values")
        condition = spec["condition"]
        condition = str(condition).lower() if isinstance(condition, bool) else str(condition)  # YAML reads true as True
        try:
            nodes.append(DialogNode(
                id=str(spec["id"]), condition=parse_condition(condition), title=str(spec.get("title") or ""),
                context=dict(spec.get("context") or {}), slots=[_slot(s, where) for s in spec.get("slots") or []],
                response=_response(spec.get("response"), where), action=spec.get("action"),
                jump_to=spec.get("jump_to"), digressions=bool(spec.get("digressions", True))))
        except ConditionError as exc:
            raise SettingsError(f"{where}: {exc}") from None
    ids = [n.id for n in nodes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SettingsError(f"{path}: duplicate node id(s) {', '.join(duplicates)}")
    for node in nodes:
        if node.jump_to and node.jump_to not in ids:
            raise SettingsError(f"{path}: node {node.id}: jump_to names no node: {node.jump_to}")
    if not nodes:
        raise SettingsError(f"{path}: no nodes")
    messages = {**_MESSAGES, **{str(k): str(v) for k, v in (raw.get("messages") or {}).items()}}
    return DialogConfig(nodes, dict(raw.get("context") or {}), messages)


def _slot(spec, where: str) -> Slot:
    if not isinstance(spec, dict) or not spec.get("variable") or not spec.get("check_for") or not spec.get("prompt"):
        raise SettingsError(f"{where}: a slot needs variable, check_for and prompt")
    unknown = set(spec) - _SLOT_KEYS
    if unknown:
        raise SettingsError(f"{where}: slot {spec['variable']}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        check_for = parse_condition(str(spec["check_for"]))
    except ConditionError as exc:
        raise SettingsError(f"{where}: slot {spec['variable']}: check_for: {exc}") from None
    return Slot(str(spec["variable"]), check_for, str(spec["prompt"]), bool(spec.get("accept_text", False)))


def _response(spec, where: str) -> Response | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: response must be a mapping with text, selection, buttons")
    unknown = set(spec) - _RESPONSE_KEYS
    if unknown:
        raise SettingsError(f"{where}: response: unknown key(s) {', '.join(sorted(unknown))}")
    texts = spec.get("text") or []
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, (str, int, float)) for t in texts):
        raise SettingsError(f"{where}: response text must be a string or a list of strings")
    texts = [str(t) for t in texts]
    selection = spec.get("selection", "sequential")
    if selection not in _SELECTIONS:
        raise SettingsError(f"{where}: response selection must be one of {', '.join(_SELECTIONS)}")
    buttons = []
    for button in spec.get("buttons") or []:
        if not isinstance(button, dict) or not button.get("label"):
            raise SettingsError(f"{where}: a button needs a label (and a value)")
        buttons.append((str(button["label"]), str(button.get("value") or button["label"])))
    return Response(texts, selection, buttons)
