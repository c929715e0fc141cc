"""The dialog as data: the node tree of `config/dialog.yml` (nodes, folders, frames with slots and
handlers, response conditions, next steps, digression settings), checked at load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bot.dialogue.conditions import Condition, ConditionError, parse_condition
from knowledge.settings import SettingsError, config_dir, read_config_file

_NODE_KEYS = {"id", "title", "user_label", "disambiguation_opt_out", "comment", "type", "condition", "context", "slots",
              "response", "responses", "handlers", "action",
              "next_step", "jump_to", "digressions", "digress_in", "digress_out", "digress_out_slots", "children"}
_SLOT_KEYS = {"id", "comment", "variable", "condition", "check_for", "prompt", "accept_text", "context", "found", "not_found",
              "handlers"}
_HANDLER_KEYS = {"id", "comment", "condition", "context", "response", "next_step"}
_RESPONSE_KEYS = {"text", "selection", "buttons", "title", "parts"}
_PART_KEYS = {"text", "selection", "buttons", "title", "pause", "image", "agent"}
_SELECTIONS = ("sequential", "random", "multiline")
_TYPES = ("standard", "folder", "frame")
_BEHAVIORS = ("jump_to", "skip_user_input", "get_user_input", "reprompt", "return", "skip_slot", "skip_all_slots")
_SELECTORS = ("condition", "body", "user_input")
_CHOICES = {"digress_in": ("returns", "does_not_return", "not_available"),
            "digress_out": ("allow_returning", "allow_all", "allow_all_never_return"),
            "digress_out_slots": ("not_allowed", "allow_returning", "allow_all")}
_MESSAGES = {"disambiguation": "Did you mean:", "none_of_the_above": "None of the above",
             "action_failed": "Sorry, something went wrong on my side. Please try again in a moment.",
             "action_slow": "This is taking longer than usual. I'm still on it…",
             "slot_retry": "Sorry, I didn't get that.", "slot_given_up": "Let's leave that. What else can I do for you?",
             "author_unknown": "the blog's author", "authors_many": "{count} authors, most often {names}",
             "list_and": "and", "example_question": "what did you write about {topic}?",
             "agent_handoff": "I'm passing you to a person who can help.",
             "store_unavailable": "Sorry, I can't reach my memory of our conversation right now. Please try again in a "
                                  "moment."}


@dataclass
class Part:
    """One piece of a response: text variants, buttons (an option list), an image, a pause or a
    hand-off to a person."""

    texts: list[str] = field(default_factory=list)
    selection: str = "sequential"
    buttons: list[tuple[str, str]] = field(default_factory=list)   # (label, value)
    title: str = ""
    image: str = ""
    pause_ms: int = 0
    agent: str | None = None          # connect_to_agent: what the reader is told


@dataclass
class Response:
    """What a node (or handler) says: its parts in order."""

    parts: list[Part]


@dataclass
class NextStep:
    """What happens after a node: wait (get_user_input), go on with its children at once
    (skip_user_input), jump_to another node (selector condition/body/user_input), return from a
    digression; in slot handlers reprompt, skip_slot, skip_all_slots."""

    behavior: str
    node: str | None = None
    selector: str = "body"


@dataclass
class Handler:
    """A conditional response: a node's response condition, a slot's found / not found response, a
    slot or frame handler. The first whose condition holds runs."""

    id: str
    condition: Condition
    context: dict = field(default_factory=dict)
    response: Response | None = None
    next_step: NextStep | None = None


@dataclass
class Slot:
    """A value a frame needs: the variable, the condition that finds it, the prompt (None: optional)."""

    variable: str
    check_for: Condition
    prompt: Response | None
    accept_text: bool = False
    id: str = ""
    condition: Condition | None = None     # the slot is active only while this holds
    context: dict = field(default_factory=dict)   # set when check_for holds (Watson's input handler)
    found: list[Handler] = field(default_factory=list)
    not_found: list[Handler] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)


@dataclass
class DialogNode:
    """One node of dialog.yml: when it runs (its condition) and what it does then."""

    id: str
    condition: Condition
    title: str = ""
    user_label: str = ""                 # what "Did you mean…" shows for the node, when not its title
    disambiguation_opt_out: bool = False
    type: str = "standard"               # standard | folder | frame (slots of a frame keep their values)
    context: dict = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    response: Response | None = None
    responses: list[Handler] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    action: str | None = None
    next_step: NextStep | None = None
    digress_in: str | None = None
    digress_out: str | None = None
    digress_out_slots: str | None = None
    children: list[DialogNode] = field(default_factory=list)
    parent: DialogNode | None = field(default=None, repr=False)

    def intents(self) -> list[str]:
        """Intents the condition names (#intent), for "Did you mean…" options."""
        return self.condition.intents()

    def label(self) -> str:
        """The node's name for readers ("Did you mean…"): its user_label, else its title; "" if neither."""
        return self.user_label or self.title


@dataclass
class DialogConfig:
    """The dialog: its root nodes in order, the initial context, the texts of the runtime's own messages."""

    nodes: list[DialogNode]
    context: dict
    messages: dict
    by_id: dict[str, DialogNode] = field(default_factory=dict, repr=False)

    def node(self, node_id: str) -> DialogNode:
        """The node with this id (anywhere in the tree)."""
        return self.by_id[node_id]

    def uses_blog(self, skill_fallback: str) -> bool:
        """Whether the dialog works with the blog: a node calls an action, or the skill's anything_else
        falls back to the blog's answers (`dialog.skill_fallback: blog`). A dialog that does neither (an
        imported skill) keeps none of the blog's bookkeeping (query, topic, last answer) in its context."""
        return skill_fallback == "blog" or any(node.action for node in self.walk())

    def walk(self) -> Iterator[DialogNode]:
        """Every node, depth first, in order."""
        def nodes(siblings: list[DialogNode]) -> Iterator[DialogNode]:
            for node in siblings:
                yield node
                yield from nodes(node.children)
        return nodes(self.nodes)


def load_dialog(path: Path | None = None) -> DialogConfig:
    """Read dialog.yml; every problem is a SettingsError naming the node and the key."""
    path = path or config_dir() / "dialog.yml"
    raw = read_config_file(path)
    if not isinstance(raw.get("nodes") or [], list):
        raise SettingsError(f"{path}: nodes must be a list")
    nodes = [_node(spec, index, str(path), None) for index, spec in enumerate(raw.get("nodes") or [], 1)]
    if not nodes:
        raise SettingsError(f"{path}: no nodes")
    config = DialogConfig(nodes, dict(raw.get("context") or {}),
                          {**_MESSAGES, **{str(k): "" if v is None else str(v) for k, v in (raw.get("messages") or {}).items()}})
    ids = [n.id for n in config.walk()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SettingsError(f"{path}: duplicate node id(s) {', '.join(duplicates)}")
    config.by_id = {n.id: n for n in config.walk()}
    for node in config.walk():
        steps = [node.next_step] + [h.next_step for h in node.responses + node.handlers]
        steps += [h.next_step for slot in node.slots for h in slot.found + slot.not_found + slot.handlers]
        for step in steps:
            if step is not None and step.behavior == "jump_to" and step.node not in config.by_id:
                raise SettingsError(f"{path}: node {node.id}: jump_to names no node: {step.node}")
    return config


def _node(spec: object, index: int, path: str, parent: DialogNode | None) -> DialogNode:
    where = f"{path}: node {spec.get('id') or index}" if isinstance(spec, dict) else f"{path}: node {index}"
    if not isinstance(spec, dict) or not spec.get("id") or "condition" not in spec:
        raise SettingsError(f"{where}: needs an id and a condition")
    _known(spec, _NODE_KEYS, where)
    kind = str(spec.get("type") or "standard")     # slots without type frame start empty each time
    if kind not in _TYPES:
        raise SettingsError(f"{where}: type must be one of {', '.join(_TYPES)}")
    next_step = _next_step(spec.get("next_step"), where)
    if spec.get("jump_to"):        # the short form: run that node's response and action next
        next_step = NextStep("jump_to", str(spec["jump_to"]), "body")
    digress_in = _choice(spec, "digress_in", where)
    if spec.get("digressions") is False:
        digress_in = "not_available"
    node = DialogNode(
        id=str(spec["id"]), condition=_condition(spec["condition"], where), title=str(spec.get("title") or ""),
        user_label=str(spec.get("user_label") or ""), disambiguation_opt_out=bool(spec.get("disambiguation_opt_out")),
        type=kind, context=_context(spec.get("context"), where),
        slots=[_slot(s, where) for s in _list(spec, "slots", where)],
        response=_response(spec.get("response"), where), action=spec.get("action"), next_step=next_step,
        responses=[_handler(h, where, "responses") for h in _list(spec, "responses", where)],
        handlers=[_handler(h, where, "handlers") for h in _list(spec, "handlers", where)],
        digress_in=digress_in, digress_out=_choice(spec, "digress_out", where),
        digress_out_slots=_choice(spec, "digress_out_slots", where), parent=parent)
    node.children = [_node(child, i, path, node) for i, child in enumerate(_list(spec, "children", where), 1)]
    return node


def _known(spec: dict, keys: set[str], where: str) -> None:
    unknown = set(spec) - keys
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")


def _list(spec: dict, key: str, where: str) -> list:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise SettingsError(f"{where}: {key} must be a list")
    return value


def _condition(text: object, where: str) -> Condition:
    text = str(text).lower() if isinstance(text, bool) else str(text)   # YAML reads true as True
    try:
        return parse_condition(text)
    except ConditionError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _context(value: object, where: str) -> dict:
    if not isinstance(value or {}, dict):
        raise SettingsError(f"{where}: context must be a mapping of variables to values")
    return dict(value or {})


def _choice(spec: dict, key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is not None and value not in _CHOICES[key]:
        raise SettingsError(f"{where}: {key} must be one of {', '.join(_CHOICES[key])}")
    return value


def _next_step(spec: object, where: str) -> NextStep | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("behavior") not in _BEHAVIORS:
        raise SettingsError(f"{where}: next_step needs a behavior: one of {', '.join(_BEHAVIORS)}")
    _known(spec, {"behavior", "node", "selector"}, f"{where}: next_step")
    selector = str(spec.get("selector") or "body")
    if spec["behavior"] == "jump_to" and (not spec.get("node") or selector not in _SELECTORS):
        raise SettingsError(f"{where}: next_step jump_to needs a node and a selector ({', '.join(_SELECTORS)})")
    return NextStep(spec["behavior"], str(spec["node"]) if spec.get("node") else None, selector)


def _handler(spec: object, where: str, key: str) -> Handler:
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: each of {key} must be a mapping with a condition")
    _known(spec, _HANDLER_KEYS, f"{where}: {key}")
    return Handler(str(spec.get("id") or ""), _condition(spec.get("condition", "true"), f"{where}: {key}"),
                   _context(spec.get("context"), where), _response(spec.get("response"), where),
                   _next_step(spec.get("next_step"), where))


def _slot(spec: object, where: str) -> Slot:
    if not isinstance(spec, dict) or not spec.get("variable") or not spec.get("check_for"):
        raise SettingsError(f"{where}: a slot needs variable and check_for (and a prompt unless it is optional)")
    where = f"{where}: slot {spec['variable']}"
    _known(spec, _SLOT_KEYS, where)
    prompt = spec.get("prompt")
    return Slot(
        variable=str(spec["variable"]).lstrip("$"), check_for=_condition(spec["check_for"], f"{where}: check_for"),
        prompt=_response({"text": prompt} if isinstance(prompt, str) else prompt, where),
        accept_text=bool(spec.get("accept_text", False)), id=str(spec.get("id") or ""),
        condition=_condition(spec["condition"], where) if spec.get("condition") else None,
        context=_context(spec.get("context"), where),
        found=[_handler(h, where, "found") for h in _list(spec, "found", where)],
        not_found=[_handler(h, where, "not_found") for h in _list(spec, "not_found", where)],
        handlers=[_handler(h, where, "handlers") for h in _list(spec, "handlers", where)])


def _response(spec: object, where: str) -> Response | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: response must be a mapping with text, selection, buttons (or parts)")
    _known(spec, _RESPONSE_KEYS, f"{where}: response")
    if "parts" in spec:
        if set(spec) != {"parts"} or not isinstance(spec["parts"], list):
            raise SettingsError(f"{where}: response: parts is a list, and the only key when given")
        return Response([_part(p, where) for p in spec["parts"]])
    return Response([_part(spec, where)])


def _part(spec: object, where: str) -> Part:
    if not isinstance(spec, dict):
        raise SettingsError(f"{where}: a response part must be a mapping")
    _known(spec, _PART_KEYS, f"{where}: response")
    texts = spec.get("text") or []
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, (str, int, float)) for t in texts):
        raise SettingsError(f"{where}: response text must be a string or a list of strings")
    selection = spec.get("selection", "sequential")
    if selection not in _SELECTIONS:
        raise SettingsError(f"{where}: response selection must be one of {', '.join(_SELECTIONS)}")
    buttons = []
    for button in spec.get("buttons") or []:
        if not isinstance(button, dict) or not button.get("label"):
            raise SettingsError(f"{where}: a button needs a label (and a value)")
        buttons.append((str(button["label"]), str(button.get("value") or button["label"])))
    agent = spec.get("agent")
    return Part([str(t) for t in texts], selection, buttons, str(spec.get("title") or ""), str(spec.get("image") or ""),
                int(spec.get("pause") or 0), None if agent is None else str(agent))
