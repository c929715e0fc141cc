"""The NLU on a real Watson Assistant export (../shared/watson/bank_simple_workspace.json, read from
there, never copied): its intents, entities, system entities and counterexamples written as blogbot's
intents.yml and entities.yml, with the real embedding model."""

from __future__ import annotations

import json

import pytest
import yaml

from bot.nlu.parser import load_nlu
from helpers import REPO, TODAY
from knowledge.settings import load_settings

WORKSPACE = REPO.parent / "shared" / "watson" / "bank_simple_workspace.json"


def intents_yml(skill: dict) -> dict:
    """Watson's intents (with their descriptions as labels) and counterexamples."""
    intents = {item["intent"]: {"label": item.get("description") or item["intent"],
                                "examples": [e["text"] for e in item.get("examples") or []]}
               for item in skill["intents"]}
    return {"intents": intents, "counterexamples": [c["text"] for c in skill.get("counterexamples") or []]}


def entities_yml(skill: dict) -> dict:
    """Watson's entities: synonym values, pattern values, fuzzy_match (off when absent, as in Watson),
    and the sys-* entries as the system entities that are on."""
    entities, system = {}, []
    for item in skill["entities"]:
        if item["entity"].startswith("sys-"):
            system.append(item["entity"])
            continue
        spec: dict = {"fuzzy": bool(item.get("fuzzy_match", False))}
        for value in item.get("values") or []:
            if value.get("type") == "patterns":
                spec.setdefault("patterns", []).extend({"value": value["value"], "pattern": p}
                                                       for p in value["patterns"])
            else:
                spec.setdefault("values", {})[value["value"]] = value.get("synonyms") or []
        entities[item["entity"]] = spec
    return {"system_entities": system, "entities": entities}


@pytest.fixture(scope="module")
def bank_nlu(tmp_path_factory):
    if not WORKSPACE.is_file():
        pytest.skip(f"the Watson export {WORKSPACE} is absent (the shared/ checkout next to the repo)")
    skill = json.loads(WORKSPACE.read_text(encoding="utf-8"))
    config = tmp_path_factory.mktemp("bank-config")
    for name, data in (("intents.yml", intents_yml(skill)), ("entities.yml", entities_yml(skill))):
        (config / name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    settings = load_settings()
    settings.nlu.intent_threshold = 0.2          # Watson's
    patch = pytest.MonkeyPatch()
    patch.setenv("BLOGBOT_CONFIG_DIR", str(config))
    try:
        yield load_nlu(tmp_path_factory.mktemp("bank-data"), settings)
    finally:
        patch.undo()


def mentions(parse, name: str) -> list:
    return [e for e in parse.entities if e.entity == name]


@pytest.mark.slow
def test_bank_skill_loads_with_its_names(bank_nlu):
    assert len(bank_nlu.intents) == 99
    assert "General_Conversation-Control_Go_Back" in bank_nlu.intents
    assert {"sys-currency", "sys-date", "sys-time", "sys-number", "sys-percentage", "CC_Types", "Address"} <= \
        set(bank_nlu.extractor.names)


@pytest.mark.slow
def test_bank_business_hours(bank_nlu):
    parse = bank_nlu.parse("what are your business hours", TODAY)
    assert parse.intent == "Business_Information-Business_Hours", parse.intent_ranking[:3]
    assert not parse.irrelevant


@pytest.mark.slow
def test_bank_zip_pattern(bank_nlu):
    parse = bank_nlu.parse("my zip is 10001", TODAY)
    [address] = mentions(parse, "Address")
    assert address.value == "zip" and "10001" in address.literal
    assert address.groups[0] == address.literal


@pytest.mark.slow
def test_bank_time_and_date(bank_nlu):
    parse = bank_nlu.parse("can I meet at 3pm tomorrow", TODAY)
    assert [e.value for e in mentions(parse, "sys-time")] == ["15:00:00"]
    assert [e.value for e in mentions(parse, "sys-date")] == ["2026-11-27"]
    assert mentions(parse, "sys-number") == []             # "3pm" is a time only


@pytest.mark.slow
def test_bank_currency(bank_nlu):
    parse = bank_nlu.parse("pay $25.50", TODAY)
    [money] = mentions(parse, "sys-currency")
    assert (money.value, money.extra["unit"], money.literal) == (25.5, "USD", "$25.50")
    assert mentions(parse, "sys-number") == []             # Watson's new system entities: a currency only


@pytest.mark.slow
def test_bank_synonyms_keep_watsons_values(bank_nlu):
    parse = bank_nlu.parse("I live in Texas and want a credit card", TODAY)
    assert [e.value for e in mentions(parse, "Valid_States")] == ["TX"]
    assert "CCard" in [e.value for e in mentions(parse, "BankingProduct")]
