"""Dialog node conditions, in Watson Assistant's expression language (`bot/dialogue/expressions`).

    #intent                 the turn's intent is `intent`
    @entity  @entity:value  an entity was found (its first value), or found with that value;
                            @entity:(two words) for a value with spaces
    $variable               a context variable (null when unset)
    'text' "text" 12 3.5    literals; also true, false, null
    == != > < >= <=         comparisons;  !x  x && y  x || y  ( )  a ? b : c
    anything_else           always true (the fallback node)
    conversation_start      true on the first turn of a conversation
    welcome                 true when the conversation opens, before the reader says anything
    irrelevant              true when no intent reached the threshold (or a counterexample won)
    input.text  intents[0].confidence  entities['x']  context['x']  and the language's methods

`parse_condition` checks the syntax once (at load); `Condition.evaluate(turn)` runs it on the turn's
`scope()`. A condition that fails at run time (a method of the wrong type) does not hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.dialogue.expressions import Expression, ExpressionError, Scope, parse_expression
from bot.dialogue.expressions import syntax_tree
from bot.dialogue.expressions.evaluator import FLAGS

log = logging.getLogger(__name__)

# The names a condition may use bare (Watson's globals and special conditions).
_GLOBALS = frozenset({"context", "input", "output", "entities", "intents", "intent", "true", "false", "null"}) | FLAGS


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message says where."""


class TurnFacts(Protocol):
    """What a condition can look at: the turn as an expression scope."""

    def scope(self) -> Scope:
        """The turn's context, input, entities, intents and flags."""


@dataclass
class Condition:
    """A parsed condition: its source text and its expression."""

    source: str
    expression: Expression

    def evaluate(self, facts: TurnFacts) -> bool:
        """Whether the condition holds for this turn; one that fails at run time does not."""
        try:
            return self.expression.holds(facts.scope())
        except ExpressionError as exc:
            log.warning("dialog: condition %r: %s", self.source, exc)
            return False

    def references(self) -> list[str]:
        """The entity names this condition tests, in order (slots take their value from these)."""
        return self.expression.entity_names()

    def intents(self) -> list[str]:
        """The intent names this condition tests, in order."""
        return self.expression.intent_names()


def parse_condition(text: str) -> Condition:
    """Compile a condition; a syntax error, or a bare word that names nothing, raises ConditionError."""
    source = str(text)
    try:
        expression = parse_expression(source)
    except ExpressionError as exc:
        raise ConditionError(f"{exc}") from None
    unknown = _unknown_name(getattr(expression, "_tree"))
    if unknown:
        raise ConditionError(f"unexpected {unknown!r} in condition {source!r}: not an #intent, @entity, $variable "
                             "or special condition (quote text: 'text')")
    return Condition(source, expression)


def _unknown_name(node: object) -> str | None:
    """The first bare word outside a projection that is not one of Watson's globals."""
    if isinstance(node, syntax_tree.Name):
        return None if node.name in _GLOBALS else node.name
    if isinstance(node, syntax_tree.Project):
        return _unknown_name(node.target)
    for value in vars(node).values():
        for item in value if isinstance(value, tuple) else (value,):
            if hasattr(item, "pos") and not isinstance(item, (int, str)):
                found = _unknown_name(item)
                if found:
                    return found
    return None
