"""Reading a Watson Assistant dialog skill export (the v1 workspace JSON that "Download skill" or the
workspace API gives) and telling it apart from what it is not: an actions skill, an assistant export,
other JSON, a truncated file."""

from __future__ import annotations

import json
from pathlib import Path


class NotADialogSkill(ValueError):
    """The file is not a dialog skill export; the message says what it is instead (one line)."""


def read_skill(path: str | Path) -> dict:
    """The export as a mapping, checked to be a dialog skill; NotADialogSkill otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotADialogSkill(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotADialogSkill(f"{path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _ends_early(text):
            raise NotADialogSkill(f"{path}: the JSON ends early (line {exc.lineno}): a truncated download?") from None
        raise NotADialogSkill(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    kind, skill = _kind(data)
    if skill is None:
        raise NotADialogSkill(f"{path}: {kind}, not a Watson Assistant dialog skill export")
    return skill


def _kind(data: object) -> tuple[str, dict | None]:
    """(what a parsed JSON document is, the dialog skill in it or None). A v2 skill export wraps the
    workspace in {"type": "dialog", "workspace": {...}}: the workspace inside is the skill."""
    if not isinstance(data, dict):
        return ("a JSON array" if isinstance(data, list) else "a JSON value"), None
    workspace = data.get("workspace")
    if isinstance(workspace, dict) and data.get("type") != "action" and "actions" not in workspace:
        return _kind(workspace)
    if data.get("type") == "action" or "actions" in data or isinstance(workspace, dict):
        return "an actions skill export (Watson Assistant actions, not dialog nodes)", None
    if "assistant_id" in data or "skills" in data or "assistant_skills" in data:
        return "an assistant export (download its dialog skill instead)", None
    if "dialog_nodes" in data or "intents" in data:
        for key in ("dialog_nodes", "intents", "entities", "counterexamples"):
            if not isinstance(data.get(key, []), list):
                return f"a dialog skill whose {key} is not a list", None
        return "a dialog skill", data
    return "JSON without intents or dialog_nodes", None


def _ends_early(text: str) -> bool:
    """Whether the text stops inside a string, an object or an array (what a cut-off download does)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return in_string or depth > 0
