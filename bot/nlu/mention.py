"""One entity mention found in a message, with the fields Watson Assistant gives a mention."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entity:
    """An entity found in a text: its name, value and span, and extra fields (a date's from and to).

    `literal` is the text as typed ("" where the mention was not found in a text); `groups` a Watson
    pattern value's capture groups, the whole match first (None for a group that matched nothing);
    `confidence` is below 1 for a fuzzy match."""

    entity: str
    value: object
    start: int
    end: int
    extra: dict | None = None
    literal: str = ""
    groups: list[str | None] = field(default_factory=list)
    confidence: float = 1.0

    def as_json(self) -> dict:
        """The entity as a JSON-ready dict, its extra fields included; a pattern value's mention also
        has its literal and groups, a fuzzy one its confidence."""
        data = {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end, **(self.extra or {})}
        if self.groups:
            data["literal"] = self.literal
            data["groups"] = list(self.groups)
        if self.confidence != 1.0:
            data["confidence"] = round(self.confidence, 4)
        return data
