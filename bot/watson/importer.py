"""`blogbot import-watson`: a Watson Assistant dialog skill export as a blogbot config folder.

Writes settings.yml, intents.yml, entities.yml and dialog.yml from the export (names of intents,
entities, context variables and nodes kept as they are), and copies the default config's other files
(prompts, responses) so the folder is complete. Returns a report: what was imported, and what was
left out or will not run, each with its node id.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.dialogue.conditions import ConditionError, parse_condition
from bot.dialogue.expressions import problems as expression_problems
from bot.nlu.system_entities import SYSTEM_ENTITIES
from bot.watson.dialog_nodes import NodeConverter, blogbot_metadata
from bot.watson.skill import read_skill
from bot.watson.tree import build_tree
from knowledge.settings import DEFAULT_CONFIG_DIR

# Watson's intent confidence threshold: #intent holds only at or above it (IBM's documentation).
WATSON_INTENT_THRESHOLD = 0.2
_COPIED = ("prompts.yml", "responses.yml", "synthetic.yml")


class OutputNotEmpty(ValueError):
    """The output folder cannot be written as asked (it holds a config and --force was not given)."""


@dataclass
class ImportReport:
    """What an import did: counts, and notes on what was left out or will not run (with node ids)."""

    skill: str
    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The report as text for the terminal."""
        counts = ", ".join(f"{value} {key}" for key, value in self.counts.items())
        lines = [f"imported skill {self.skill!r} into {self.out_dir}: {counts}"]
        if self.notes:
            lines.append(f"{len(self.notes)} note(s) — left out or not supported:")
            lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def import_skill(skill_path: str | Path, out_dir: str | Path, answer_from_blog: bool = False,
                 force: bool = False) -> ImportReport:
    """Convert the export at `skill_path` into a config folder at `out_dir`. `answer_from_blog`
    makes the skill's anything_else go to the blog's question answering. Raises NotADialogSkill for
    a file that is not a dialog skill, OutputNotEmpty for an output folder that holds a config."""
    skill = read_skill(skill_path)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise OutputNotEmpty(f"{out_dir} is not empty; choose another folder or pass --force to overwrite")
    name = str(skill.get("name") or Path(skill_path).stem)
    report = ImportReport(name, out_dir)
    intents = _intents(skill, report)
    entities = _entities(skill, report)
    roots, problems = build_tree(skill.get("dialog_nodes") or [])
    report.notes += problems
    converter = NodeConverter()
    nodes = converter.convert(roots)
    _watson_defaults(nodes, root=True)
    report.notes += converter.notes
    report.notes += _expression_notes(nodes)
    report.notes += _jump_notes(nodes)
    report.counts.update({"intents": len(intents["intents"]),
                          "examples": sum(len(i["examples"]) for i in intents["intents"].values()),
                          "counterexamples": len(intents.get("counterexamples") or []),
                          "entities": len(entities["entities"]) + len(entities.get("system_entities") or []),
                          **{f"{kind} nodes": count for kind, count in sorted(converter.counts.items())}})
    own = blogbot_metadata(skill)
    entities.update(own.get("entities") or {})      # a skill blogbot exported: what Watson has no field for
    settings = _settings(skill, answer_from_blog)
    settings["nlu"].update(own.get("nlu") or {})
    header = (f"# Imported from the Watson Assistant dialog skill {name!r} by `blogbot import-watson` on "
              f"{dt.date.today().isoformat()}.\n# Edit freely; names are kept as in the export.\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "intents.yml", header, intents)
    _write(out_dir / "entities.yml", header, entities)
    messages = {**(own.get("messages") or {}), **_disambiguation_messages(skill, report)}   # as edited in Watson
    dialog = {"context": own.get("context") or {}, **({"messages": messages} if messages else {}), "nodes": nodes}
    _write(out_dir / "dialog.yml", header + _DIALOG_HELP, dialog)
    _write(out_dir / "settings.yml", header, settings)
    _write(out_dir / "followups.yml", header, {"rules": []})
    for file in _COPIED:
        shutil.copyfile(DEFAULT_CONFIG_DIR / file, out_dir / file)
    return report


_DIALOG_HELP = ("# Node types, slots, handlers and next steps follow Watson's dialog; see the README,\n"
                "# \"Running a Watson Assistant dialog skill\", for the format.\n")


def _watson_defaults(nodes: list[dict], root: bool) -> None:
    """Write out Watson's defaults where the export leaves digression settings out (blogbot's own
    defaults differ): a root node (or root folder) is digressed into without returning; a frame
    does not let its slots be left."""
    for node in nodes:
        if root:
            node.setdefault("digress_in", "does_not_return")
        if node.get("type") == "frame":
            node.setdefault("digress_out_slots", "not_allowed")
        _watson_defaults(node.get("children") or [], root=False)   # a folder's nodes inherit its settings


def _write(path: Path, header: str, data: dict) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(header + text, encoding="utf-8")


def _intents(skill: dict, report: ImportReport) -> dict:
    intents = {}
    for item in skill.get("intents") or []:
        if not isinstance(item, dict) or not item.get("intent"):
            report.notes.append(f"an intent without a name was left out: {str(item)[:80]}")
            continue
        examples = [str(e.get("text")) for e in item.get("examples") or [] if isinstance(e, dict) and e.get("text")]
        if not examples:
            report.notes.append(f"intent {item['intent']}: no examples; left out (it could never be recognized)")
            continue
        intents[str(item["intent"])] = {"label": str(item.get("description") or item["intent"]), "examples": examples}
    out: dict = {"intents": intents}
    counter = [str(c.get("text")) for c in skill.get("counterexamples") or [] if isinstance(c, dict) and c.get("text")]
    if counter:
        out["counterexamples"] = counter
    return out


def _entities(skill: dict, report: ImportReport) -> dict:
    entities, system = {}, []
    for item in skill.get("entities") or []:
        name = str(item.get("entity") or "") if isinstance(item, dict) else ""
        if not name:
            report.notes.append(f"an entity without a name was left out: {str(item)[:80]}")
            continue
        if name.startswith("sys-"):
            if name in SYSTEM_ENTITIES:
                system.append(name)
            else:
                report.notes.append(f"entity {name}: this system entity is not supported; left out")
            continue
        spec: dict = {}
        values, patterns = {}, []
        for value in item.get("values") or []:
            if not isinstance(value, dict) or value.get("value") in (None, ""):
                continue
            if value.get("type") == "patterns":
                patterns += [{"value": str(value["value"]), "pattern": str(p)} for p in value.get("patterns") or []]
            else:
                values[str(value["value"])] = [str(s) for s in value.get("synonyms") or []]
        own = blogbot_metadata(item)
        patterns = list(own.get("patterns") or []) + patterns
        if values:
            spec["values"] = values
        if patterns:
            spec["patterns"] = patterns
        spec.update({key: value for key, value in own.items() if key != "patterns"})
        spec["fuzzy"] = bool(item.get("fuzzy_match", False))     # Watson: off unless switched on
        if not values and not patterns:
            report.notes.append(f"entity {name}: no values or patterns; left out")
            continue
        entities[name] = spec
    return {"system_entities": system, "entities": entities}


def _settings(skill: dict, answer_from_blog: bool) -> dict:
    disambiguation = ((skill.get("system_settings") or {}).get("disambiguation") or {})
    nlu: dict = {"intent_threshold": WATSON_INTENT_THRESHOLD}
    dialog: dict = {"skill_fallback": "blog" if answer_from_blog else "none", "blog_facts": answer_from_blog}
    if disambiguation:
        nlu["disambiguation_enabled"] = bool(disambiguation.get("enabled", False))
        if disambiguation.get("max_suggestions"):
            nlu["disambiguation_options"] = int(disambiguation["max_suggestions"])
    else:
        nlu["disambiguation_enabled"] = False
    return {"nlu": nlu, "dialog": dialog}


def _disambiguation_messages(skill: dict, report: ImportReport) -> dict:
    """The texts of "Did you mean…" from system_settings.disambiguation; Watson shows no "none of the
    above" option unless the export names one."""
    disambiguation = ((skill.get("system_settings") or {}).get("disambiguation") or {})
    if not disambiguation:
        return {}
    for key, default in (("sensitivity", "auto"), ("randomize", False)):
        if disambiguation.get(key, default) != default:
            report.notes.append(f"system_settings.disambiguation.{key} {disambiguation[key]!r} is not supported; "
                                f"nlu.disambiguation_margin in settings.yml decides which intents are close")
    return {"disambiguation": str(disambiguation.get("prompt") or "Did you mean:"),
            "none_of_the_above": str(disambiguation.get("none_of_the_above_prompt") or "")}


def _condition_problem(condition: object) -> str | None:
    """Why a condition cannot be loaded (bad syntax, a name blogbot does not know), or None."""
    if not condition:
        return None
    try:
        parse_condition(str(condition))
    except ConditionError as exc:
        return str(exc)
    return None


def _jump_notes(nodes: list[dict]) -> list[str]:
    """jump_to steps whose target was left out (disabled) or is not a node (a response condition):
    dropped, each with a note, so the folder loads."""
    ids: set[str] = set()

    def collect(specs: list[dict]) -> None:
        for spec in specs:
            ids.add(str(spec.get("id")))
            collect(spec.get("children") or [])

    def check(specs: list[dict]) -> list[str]:
        notes = []
        for spec in specs:
            step = spec.get("next_step") or {}
            if step.get("behavior") == "jump_to" and step.get("node") not in ids:
                notes.append(f"{spec.get('id')}: jump_to {step.get('node')} names no node that was imported; "
                             "the jump is left out")
                del spec["next_step"]
            for key in ("responses", "found", "not_found", "handlers", "slots", "children"):
                notes += check(spec.get(key) or [])
        return notes

    collect(nodes)
    return check(nodes)


def _expression_notes(specs: list[dict], node_id: str | None = None) -> list[str]:
    """Conditions and <? ?> expressions the interpreter cannot read, each with its node id. A condition
    that cannot be read becomes `false` (the node never runs; the original is kept in `comment`); an
    expression in a context value or a text evaluates to nothing at run time."""
    notes = []
    for spec in specs:
        where_id = spec.get("id") or node_id
        for key in ("condition", "check_for"):
            problem = _condition_problem(spec.get(key))
            if problem:
                notes.append(f"{where_id}: {key}: {problem}; replaced by false (the original is in its comment)")
                spec["comment"] = f"Watson {key} that blogbot cannot read: {spec[key]}"
                spec[key] = "false"
        for key in ("context", "response", "prompt"):
            for problem in expression_problems(spec.get(key), condition=False) if spec.get(key) else []:
                notes.append(f"{where_id}: {key}: {problem} (evaluates to nothing at run time)")
        for key in ("responses", "found", "not_found", "handlers", "slots", "children"):
            notes += _expression_notes(spec.get(key) or [], where_id)
    return notes
