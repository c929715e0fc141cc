"""Prompt templates and fixed answer texts from `config/prompts.yml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from knowledge.settings import SettingsError, config_dir, read_config_file


@dataclass
class Prompts:
    system: str
    user: str
    passage: str
    abstain: str
    abstain_with_related: str
    answer_intro: str = ""


def load_prompts(path: Path | None = None) -> Prompts:
    """Read prompts.yml; a missing key or placeholder is a SettingsError naming it."""
    path = path or config_dir() / "prompts.yml"
    raw = read_config_file(path)
    answer = raw.get("answer") or {}
    try:
        prompts = Prompts(system=answer.get("system") or "", user=answer["user"], passage=answer["passage"],
                          abstain=raw["abstain"], abstain_with_related=raw["abstain_with_related"],
                          answer_intro=raw.get("answer_intro") or "")
    except KeyError as exc:
        raise SettingsError(f"{path}: missing {exc.args[0]!r}") from None
    for field_name, needed in (("user", ("{passages}", "{question}")), ("passage", ("{text}",))):
        for placeholder in needed:
            if placeholder not in getattr(prompts, field_name):
                raise SettingsError(f"{path}: answer.{field_name} must contain {placeholder}")
    return prompts
