"""A dialog skill's node tree as blogbot's dialog.yml nodes: ids, titles, conditions and context kept
as the export has them, Watson's node types and next steps in dialog.yml's own keys.

    standard / folder / frame   -> a node (`type: folder` / `type: frame`), `children:` in order
    response_condition children -> the node's `responses:` (first whose condition holds)
    slot + its event handlers   -> the frame's `slots:` (check_for and context from `input`, prompt from
                                   `focus`, `found:` from `filled`, `not_found:` from `nomatch`,
                                   `handlers:` from a slot's `generic`)
    frame event handlers        -> the frame's `handlers:` (event `generic`)
"""

from __future__ import annotations

import html
import re

from bot.watson.tree import SkillNode

_NEXT_STEPS = {"jump_to", "skip_user_input", "get_user_input", "reprompt", "return", "skip_slot", "skip_all_slots"}
_SELECTORS = {"condition", "body", "user_input", "client"}
_DIGRESS_IN = {"returns", "does_not_return", "not_available"}
_DIGRESS_OUT = {"allow_returning", "allow_all", "allow_all_never_return"}
_DIGRESS_OUT_SLOTS = {"not_allowed", "allow_returning", "allow_all"}


class NodeConverter:
    """Converts nodes, noting what it leaves out or cannot carry over (`notes`, each naming the node)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.counts: dict[str, int] = {}

    def convert(self, nodes: list[SkillNode]) -> list[dict]:
        """dialog.yml nodes for these sibling nodes (and everything under them), in order."""
        out = []
        for node in nodes:
            self.counts[node.type] = self.counts.get(node.type, 0) + 1
            if node.raw.get("disabled"):
                self.notes.append(f"{node.id}: disabled in the export; left out")
                continue
            if node.type in ("standard", "folder", "frame"):
                out.append(self._node(node))
            elif node.type in ("slot", "event_handler", "response_condition"):
                self.notes.append(f"{node.id}: a {node.type} outside a frame or node; left out")
            else:
                self.notes.append(f"{node.id}: node type {node.type!r} is not supported; left out")
        return out

    def _node(self, node: SkillNode) -> dict:
        raw = node.raw
        spec: dict = {"id": node.id}
        if raw.get("title"):
            spec["title"] = str(raw["title"])
        if raw.get("user_label"):
            spec["user_label"] = str(raw["user_label"])
        if raw.get("disambiguation_opt_out"):
            spec["disambiguation_opt_out"] = True
        own = blogbot_metadata(raw)
        if node.type != "standard" and not (node.type == "frame" and own.get("slots_start_empty")):
            spec["type"] = node.type
        spec["condition"] = _condition(raw)
        self._what_it_does(spec, raw, node.id)
        if raw.get("actions"):
            self.notes.append(f"{node.id}: node actions (webhooks, client actions) are not supported; left out")
        for key, allowed in (("digress_in", _DIGRESS_IN), ("digress_out", _DIGRESS_OUT),
                             ("digress_out_slots", _DIGRESS_OUT_SLOTS)):
            if raw.get(key) in allowed:
                spec[key] = raw[key]
            elif raw.get(key) is not None:
                self.notes.append(f"{node.id}: {key} {raw[key]!r} is not supported; left out")
        responses, slots, handlers, children = [], [], [], []
        for child in node.children:
            if child.raw.get("disabled"):
                self.counts[child.type] = self.counts.get(child.type, 0) + 1
                self.notes.append(f"{child.id}: disabled in the export; left out")
            elif child.type == "response_condition":
                self.counts[child.type] = self.counts.get(child.type, 0) + 1
                responses.append(self.handler(child))
            elif child.type == "slot":
                self.counts[child.type] = self.counts.get(child.type, 0) + 1
                slots.append(self._slot(child))
            elif child.type == "event_handler":
                self.counts[child.type] = self.counts.get(child.type, 0) + 1
                if child.raw.get("event_name") == "generic":
                    handlers.append(self.handler(child))
                else:
                    self.notes.append(f"{child.id}: a frame's {child.raw.get('event_name')!r} handler is not "
                                      "supported; left out")
            else:
                children.append(child)
        if responses:
            spec["responses"] = responses
        if slots:
            spec["slots"] = slots
        if own.get("action"):
            spec["action"] = str(own["action"])
        if handlers:
            spec["handlers"] = handlers
        if children:
            spec["children"] = self.convert(children)
        return spec

    def _slot(self, slot: SkillNode) -> dict:
        spec: dict = {"id": slot.id, "variable": str(slot.raw.get("variable") or "").lstrip("$")}
        if slot.raw.get("conditions"):
            spec["condition"] = slot.raw["conditions"]
        found, not_found, handlers = [], [], []
        for handler in slot.children:
            self.counts[handler.type] = self.counts.get(handler.type, 0) + 1
            event = handler.raw.get("event_name")
            if handler.raw.get("disabled"):
                self.notes.append(f"{handler.id}: disabled in the export; left out")
            elif event == "input":
                spec["check_for"] = _condition(handler.raw)
                if handler.raw.get("context"):
                    spec["context"] = handler.raw["context"]
            elif event == "focus":
                prompt = self.response(handler.raw.get("output"), handler.id)
                if prompt:
                    spec["prompt"] = prompt
            elif event == "filled":
                found.append(self.handler(handler))
            elif event == "nomatch":
                not_found.append(self.handler(handler))
            elif event == "generic":
                handlers.append(self.handler(handler))
            else:
                self.notes.append(f"{handler.id}: slot event {event!r} is not supported; left out")
        if blogbot_metadata(slot.raw).get("accept_text"):
            spec["accept_text"] = True
        if "check_for" not in spec:
            self.notes.append(f"{slot.id}: a slot without an input handler (check for) never fills")
            spec["check_for"] = "false"
        for key, items in (("found", found), ("not_found", not_found), ("handlers", handlers)):
            if items:
                spec[key] = items
        return spec

    def handler(self, node: SkillNode) -> dict:
        """A response condition or event handler: condition, context, response, next step."""
        raw = node.raw
        spec: dict = {"id": node.id, "condition": _condition(raw)}
        self._what_it_does(spec, raw, node.id)
        if node.children:
            self.notes.append(f"{node.id}: children of a {node.type} are not supported; left out")
        return spec

    def _what_it_does(self, spec: dict, raw: dict, node_id: str) -> None:
        """A node's or handler's context, response and next step, into its spec."""
        if raw.get("context"):
            spec["context"] = raw["context"]
        response = self.response(raw.get("output"), node_id)
        if response:
            spec["response"] = response
        self._keep_next_step(spec, raw, node_id)

    def _keep_next_step(self, spec: dict, raw: dict, node_id: str) -> None:
        step = raw.get("next_step")
        if not isinstance(step, dict) or not step.get("behavior"):
            return
        behavior = step["behavior"]
        if behavior not in _NEXT_STEPS:
            self.notes.append(f"{node_id}: next_step {behavior!r} is not supported; left out")
            return
        out = {"behavior": behavior}
        if behavior == "jump_to":
            selector = step.get("selector") or "body"
            out["selector"] = "body" if selector == "client" else selector
            out["node"] = step.get("dialog_node")
            if selector == "client":
                self.notes.append(f"{node_id}: jump_to selector 'client' runs as 'body'")
        spec["next_step"] = out

    def response(self, output: object, node_id: str) -> dict | None:
        """An `output` (text with values and selection_policy, the generic array, or the older
        string / list forms) as a dialog.yml response; None when it says nothing."""
        if isinstance(output, str) and output.strip():
            output = {"text": output}
        if not isinstance(output, dict) or not output:
            return None
        parts = []
        if "generic" in output and isinstance(output["generic"], list):
            for item in output["generic"]:
                part = self._generic(item, node_id)
                if part and set(part) == {"buttons"} and parts and "text" in parts[-1] and "buttons" not in parts[-1]:
                    parts[-1]["buttons"] = part["buttons"]      # options without a title belong to the text
                elif part:
                    parts.append(part)
        elif "text" in output:
            part = _text_part(output["text"])
            if part:
                parts.append(part)
        if "generic" in output and output.get("text"):
            self.notes.append(f"{node_id}: output has both text and generic; the generic array is used")
        other = set(output) - {"text", "generic"}
        if other:
            self.notes.append(f"{node_id}: output keys {', '.join(sorted(other))} are not supported; left out")
        if not parts:
            return None
        if len(parts) == 1 and ("text" in parts[0] or set(parts[0]) <= {"title", "buttons"}):
            return parts[0]
        return {"parts": parts}

    def _generic(self, item: object, node_id: str) -> dict | None:
        if not isinstance(item, dict):
            return None
        kind = item.get("response_type")
        if kind == "text":
            values = [v.get("text") for v in item.get("values") or [] if isinstance(v, dict)]
            return _text_part({"values": values, "selection_policy": item.get("selection_policy")})
        if kind == "option":
            buttons = []
            for option in item.get("options") or []:
                value = option.get("value") if isinstance(option, dict) else None
                text = ((value or {}).get("input") or {}).get("text") if isinstance(value, dict) else None
                if isinstance(option, dict) and option.get("label"):
                    label = markdown_from_html(str(option["label"])).replace("**", "")    # a button: plain text
                    buttons.append({"label": label, "value": str(text or option["label"])})
            part: dict = {"buttons": buttons}
            if item.get("title"):
                part = {"title": markdown_from_html(str(item["title"])), **part}
            return part
        if kind == "pause":
            return {"pause": int(item.get("time") or 0)}
        if kind == "image":
            part = {"image": str(item.get("source") or "")}
            if item.get("title"):
                part["title"] = markdown_from_html(str(item["title"]))
            return part
        if kind == "connect_to_agent":
            available = item.get("agent_available") or {}
            return {"agent": str(available.get("message") or item.get("message_to_human_agent") or "")}
        self.notes.append(f"{node_id}: response type {kind!r} is not supported; left out")
        return None


def blogbot_metadata(raw: dict) -> dict:
    """What `export-watson` put in an export object's `metadata.blogbot` (blogbot's own fields)."""
    metadata = raw.get("metadata")
    own = metadata.get("blogbot") if isinstance(metadata, dict) else None
    return own if isinstance(own, dict) else {}


def _condition(raw: dict) -> str:
    """The node's condition as the export has it; none (a folder, a handler) holds always."""
    condition = raw.get("conditions")
    return str(condition).strip() if condition not in (None, "") else "true"


def _text_part(text: object) -> dict | None:
    """`output.text` in any of its forms as {text: [...], selection: ...}; None when empty."""
    if isinstance(text, str):
        values, policy = [text], None
    elif isinstance(text, list):
        values, policy = text, None
    elif isinstance(text, dict):
        values, policy = text.get("values") or [], text.get("selection_policy")
    else:
        return None
    values = [markdown_from_html(str(v)) for v in values if v not in (None, "")]
    if not values:
        return None
    part: dict = {"text": values if len(values) > 1 else values[0]}
    if policy in ("random", "multiline"):
        part["selection"] = policy
    return part


_EXPRESSION = re.compile(r"(<\?.*?\?>)", re.DOTALL)
_LINK = re.compile(r"""<a\s[^<>]*?(?<![\w-])href\s*=\s*(?:"([^"]*)"|'([^']*)')[^<>]*>([^<]*(?:<(?!/?a[\s>])[^<]*)*)</a\s*>""",
                   re.IGNORECASE)
_BOLD = re.compile(r"</?(?:b|strong)(?:\s[^<>]*)?>", re.IGNORECASE)
_BREAK = re.compile(r"<br(?:\s[^<>]*)?/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</?p(?:\s[^<>]*)?>", re.IGNORECASE)
_PLAIN = re.compile(r"</?(?:i|em|u|span)(?:\s[^<>]*)?>", re.IGNORECASE)


def markdown_from_html(text: str) -> str:
    """The HTML Watson's web chat renders in texts as the Markdown blogbot's channels render: `<br>` a
    line break, `<p>` a paragraph, `<b>`/`<strong>` **bold**, `<a href>` a [link](…), `<i>`/`<em>`/
    `<u>`/`<span>` plain, entities (`&amp;`) their characters. Other markup, and `<? ?>` expressions,
    are left as they are."""
    parts = _EXPRESSION.split(text)
    for index in range(0, len(parts), 2):         # the odd parts are expressions
        part = _LINK.sub(lambda m: f"[{m.group(3)}]({m.group(1) if m.group(1) is not None else m.group(2)})",
                         parts[index])
        part = _PLAIN.sub("", _BOLD.sub("**", part)).replace("****", "")     # nested bold: once
        part = _PARAGRAPH.sub("\n\n", _BREAK.sub("\n", part))
        parts[index] = html.unescape(part)
    return re.sub(r"\n{3,}", "\n\n", "".join(parts)).strip()
