"""`blogbot export-watson`: the config folder's intents, entities and dialog as a Watson Assistant dialog
skill export (v1 workspace JSON) that `import-watson` reads back to the same config.

Conditions, context and texts are written as they are (blogbot's dialog language is Watson's);
blogbot's own additions, which Watson has no field for (a node's `action`, a slot's `accept_text`),
go into the node's `metadata.blogbot`, which Watson keeps and ignores.
"""

from __future__ import annotations

from pathlib import Path

from bot.dialogue.config import load_dialog
from bot.nlu.entities import load_system_entities
from knowledge.settings import config_dir, load_settings, read_config_file



def export_skill(config: Path | None = None, name: str = "blogbot") -> dict:
    """The dialog skill JSON of the config folder `config` (default: the one blogbot reads)."""
    folder = config or config_dir()
    intents = read_config_file(folder / "intents.yml")
    entities = read_config_file(folder / "entities.yml")
    dialog = read_config_file(folder / "dialog.yml")
    nodes: list[dict] = []
    _nodes(dialog.get("nodes") or [], None, nodes)
    nlu = load_settings(folder / "settings.yml", environ={}).nlu      # the folder's, not this process's
    system = load_system_entities(folder / "entities.yml")
    messages = load_dialog(folder / "dialog.yml").messages
    own = {"context": dialog.get("context") or {}, "messages": dialog.get("messages") or {},
           "nlu": {key: getattr(nlu, key) for key in ("intent_threshold", "disambiguation_enabled",
                                                      "disambiguation_margin", "disambiguation_options",
                                                      "out_of_domain_share")},
           "entities": {"sys_date_values": system.date_values}}
    return {
        "name": name, "language": "en", "description": f"exported from blogbot's config {folder}",
        "metadata": {"api_version": {"major_version": "v1", "minor_version": "2018-09-20"}, "digressions": True,
                     "blogbot": own},      # what Watson has no field for, so that import-watson restores it
        "intents": [{"intent": intent, "description": spec.get("label") or intent,
                     "examples": [{"text": str(e)} for e in spec.get("examples") or []]}
                    for intent, spec in (intents.get("intents") or {}).items()],
        "system_settings": {"disambiguation": {      # no none_of_the_above_prompt: Watson shows no such option
            "enabled": nlu.disambiguation_enabled, "max_suggestions": nlu.disambiguation_options,
            "prompt": messages["disambiguation"],
            **({"none_of_the_above_prompt": messages["none_of_the_above"]} if messages["none_of_the_above"] else {})}},
        "counterexamples": [{"text": str(t)} for t in intents.get("counterexamples") or []],
        "entities": _entities(entities, system.enabled),
        "dialog_nodes": nodes,
    }


def _entities(config: dict, system: tuple[str, ...]) -> list[dict]:
    out = [{"entity": name, "values": []} for name in system]
    for name, spec in (config.get("entities") or {}).items():
        values = [{"type": "synonyms", "value": value, "synonyms": [str(s) for s in synonyms or []]}
                  for value, synonyms in (spec.get("values") or {}).items()]
        by_value: dict[str, list[str]] = {}
        for pattern in spec.get("patterns") or []:
            if isinstance(pattern, dict):
                by_value.setdefault(str(pattern["value"]), []).append(str(pattern["pattern"]))
        values += [{"type": "patterns", "value": value, "patterns": patterns} for value, patterns in by_value.items()]
        entity = {"entity": name, "values": values, "fuzzy_match": bool(spec.get("fuzzy", True))}   # blogbot: on
        own = {key: value for key, value in spec.items() if key not in ("values", "patterns", "fuzzy")}
        own_patterns = [p for p in spec.get("patterns") or [] if not isinstance(p, dict)]
        if own_patterns:
            own["patterns"] = own_patterns        # blogbot's (?P<value>…) patterns: Watson has no such kind
        if own:
            entity["metadata"] = {"blogbot": own}
        out.append(entity)
    return out


def _nodes(specs: list[dict], parent: str | None, out: list[dict], previous: str | None = None) -> None:
    """Append the nodes (and everything under them) to `out` as export nodes, linked as siblings
    (after `previous`: one chain per parent, a node's handlers and slots first)."""
    for spec in specs:
        node = _base(spec, parent, previous)
        node["type"] = spec.get("type") or ("frame" if spec.get("slots") else "standard")
        for key in ("title", "user_label", "disambiguation_opt_out"):
            if spec.get(key):
                node[key] = spec[key]
        node["conditions"] = str(spec.get("condition"))
        for key in ("digress_in", "digress_out", "digress_out_slots"):
            if spec.get(key):
                node[key] = spec[key]
        if spec.get("digressions") is False:
            node["digress_in"] = "not_available"
        # blogbot's defaults, written out: Watson's differ when the keys are absent.
        if parent is None:
            node.setdefault("digress_in", "returns")
        if spec.get("slots"):
            node.setdefault("digress_out_slots", "allow_returning")
        if spec.get("jump_to"):
            node["next_step"] = {"behavior": "jump_to", "selector": "body", "dialog_node": spec["jump_to"]}
        extra = {key: spec[key] for key in ("action",) if spec.get(key)}
        if spec.get("slots") and spec.get("type") != "frame":
            extra["slots_start_empty"] = True
        if extra:
            node["metadata"] = {"blogbot": extra}
        out.append(node)
        previous = node["dialog_node"]
        last = _handlers(spec.get("responses") or [], node["dialog_node"], "response_condition", None, out)
        for number, slot in enumerate(spec.get("slots") or [], 1):
            last = _slot(slot, node["dialog_node"], last, out, number)
        last = _handlers(spec.get("handlers") or [], node["dialog_node"], "event_handler", last, out, event="generic")
        _nodes(spec.get("children") or [], node["dialog_node"], out, last)


def _base(spec: dict, parent: str | None, previous: str | None) -> dict:
    """What every export node has: id, parent, previous sibling, context, output, next step."""
    node: dict = {"dialog_node": str(spec.get("id")), "parent": parent, "previous_sibling": previous}
    if spec.get("context"):
        node["context"] = spec["context"]
    output = _output(spec.get("response"))
    if output:
        node["output"] = output
    if spec.get("next_step"):
        step = dict(spec["next_step"])
        if "node" in step:
            step["dialog_node"] = step.pop("node")
        node["next_step"] = step
    return {key: value for key, value in node.items() if value is not None or key == "previous_sibling"}


def _handlers(specs: list[dict], parent: str, kind: str, previous: str | None, out: list[dict],
              event: str | None = None) -> str | None:
    for number, spec in enumerate(specs, 1):
        spec = {**spec, "id": spec.get("id") or f"{parent}_{event or 'response'}_{number}"}
        node = _base(spec, parent, previous)
        node.update({"type": kind, "conditions": str(spec.get("condition", "true"))})
        if event:
            node["event_name"] = event
        out.append(node)
        previous = node["dialog_node"]
    return previous


def _slot(spec: dict, parent: str, previous: str | None, out: list[dict], number: int) -> str:
    slot_id = str(spec.get("id") or f"{parent}_slot_{number}_{spec['variable']}")
    node: dict = {"dialog_node": slot_id, "type": "slot", "parent": parent, "previous_sibling": previous,
                  "variable": f"${spec['variable']}"}
    if spec.get("condition"):
        node["conditions"] = spec["condition"]
    if spec.get("accept_text"):
        node["metadata"] = {"blogbot": {"accept_text": True}}
    out.append(node)
    handler = {"id": f"{slot_id}_input", "condition": spec["check_for"], "context": spec.get("context")}
    last = _handlers([handler], slot_id, "event_handler", None, out, event="input")
    prompt = spec.get("prompt")
    if prompt:
        last = _handlers([{"id": f"{slot_id}_focus", "condition": "true",
                           "response": {"text": prompt} if isinstance(prompt, str) else prompt}],
                         slot_id, "event_handler", last, out, event="focus")
    for key, event in (("found", "filled"), ("not_found", "nomatch"), ("handlers", "generic")):
        last = _handlers(spec.get(key) or [], slot_id, "event_handler", last, out, event=event)
    return slot_id


def _output(response: object) -> dict | None:
    if not isinstance(response, dict):
        return None
    parts = response["parts"] if "parts" in response else [response]
    generic = []
    for part in parts:
        texts = part.get("text")
        if texts:
            generic.append({"response_type": "text", "selection_policy": part.get("selection") or "sequential",
                            "values": [{"text": str(t)} for t in (texts if isinstance(texts, list) else [texts])]})
        if part.get("buttons"):
            generic.append({"response_type": "option", "title": part.get("title") or "",
                            "options": [{"label": b["label"], "value": {"input": {"text": b.get("value") or b["label"]}}}
                                        for b in part["buttons"]]})
        elif part.get("title") and not part.get("image"):
            generic.append({"response_type": "text", "values": [{"text": part["title"]}]})
        if part.get("pause"):
            generic.append({"response_type": "pause", "time": int(part["pause"])})
        if part.get("image"):
            generic.append({"response_type": "image", "source": part["image"], "title": part.get("title") or ""})
        if part.get("agent") is not None:
            generic.append({"response_type": "connect_to_agent", "agent_available": {"message": part["agent"]}})
    return {"generic": generic} if generic else None
