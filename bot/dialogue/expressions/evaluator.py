"""Evaluation of an expression's syntax tree against a Scope.

Lenient where Watson's docs are silent (each choice is marked "lenient" below): a property, index or method
of null is null (as SpEL's `?.` would give) except `append`, which starts an array; null counts as 0 in
arithmetic and as "" when joined to text; comparisons with null (other than == / !=) are false; a number
and a numeric string compare (and subtract, multiply...) as numbers; `/` of two whole numbers is exact
(7 / 2 = 3.5, 10 / 5 = 2), not Java's integer division; an index past the end of an array is null.
"""

from __future__ import annotations

import datetime
import logging
import math
import operator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dialogue.expressions import syntax_tree as ast
from bot.dialogue.expressions.core import (EntityList, ExpressionError, IntentList, IntentValue, JavaType,
                                           MentionValue, Scope, as_number, export, plain, to_text, truthy)
from bot.dialogue.expressions.dates import now_text, today_text
from bot.dialogue.expressions.parser import parse_cached
from bot.dialogue.expressions.values import call_method, equal, regex, shorthand_match, text_arg

logger = logging.getLogger(__name__)

# Watson's special conditions; the dialog runtime sets them in Scope.flags.
FLAGS = frozenset({"anything_else", "conversation_start", "welcome", "irrelevant", "slot_in_focus",
                   "returning_from_digression", "all_slots_filled", "has_skipped_slots"})
_ORDER = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
_NEW = {"JsonArray": list, "JSONArray": list, "ArrayList": list, "JsonObject": dict, "JSONObject": dict,
        "HashMap": dict}
_NOTHING = object()


def get_member(target: object, name: str) -> object:
    """`target.name`: an object's property; a mention's (value, literal, location, values...); null on null."""
    if target is None:
        return None  # lenient: as if written `?.`
    if isinstance(target, MentionValue):
        if name == "values":
            return list(target.all_values)
        if name == "numeric_value":
            return as_number(target.get("value"))
        if name in target:
            return target[name]
        value = target.get("value")
        return value.get(name) if isinstance(value, dict) else None
    if isinstance(target, EntityList) and not target.filtered:
        return EntityList([m for m in target if m.get("entity") == name], filtered=True)
    if isinstance(target, (EntityList, IntentList)):  # "supports default access to the first element"
        return get_member(target[0], name) if target else None
    if isinstance(target, dict):
        return target.get(name)
    kind = "an array" if isinstance(target, list) else repr(plain(target))
    raise ExpressionError(f"{kind} has no property {name!r}")


def get_index(target: object, index: object) -> object:
    """`target[index]`: an array's item (null past the end), an object's key, `entities['name']`."""
    key = plain(index)
    if target is None:
        return None
    if isinstance(target, EntityList) and isinstance(key, str):
        return get_member(target, key)
    if isinstance(target, dict):
        return target.get(to_text(key))
    if isinstance(target, (list, str)):
        number = as_number(key) if not isinstance(key, str) else None
        if number is None or number != int(number):
            raise ExpressionError(f"cannot index {'an array' if isinstance(target, list) else 'a string'} "
                                  f"with {key!r}")
        position = int(number)
        return target[position] if 0 <= position < len(target) else None
    raise ExpressionError(f"cannot index {plain(target)!r}")


def compare(op: str, left: object, right: object) -> bool:
    """== != < > <= >= and `matches`."""
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    a, b = plain(left), plain(right)
    if a is None or b is None:
        return False  # lenient
    if op == "matches":
        return regex(b).fullmatch(text_arg(a)) is not None
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return _ORDER[op](na, nb)
    if isinstance(a, str) and isinstance(b, str):
        return _ORDER[op](a, b)
    raise ExpressionError(f"cannot compare {a!r} {op} {b!r}")


def arithmetic(op: str, left: object, right: object) -> object:
    """+ - * / %: `+` joins text when either side is a string (SpEL), or two arrays; the rest is numbers."""
    a, b = plain(left), plain(right)
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return to_text(a) + to_text(b)
    if op == "+" and isinstance(a, list) and isinstance(b, list):
        return export(a) + export(b)
    na = 0 if a is None else as_number(a)  # lenient: null is 0
    nb = 0 if b is None else as_number(b)
    if na is None or nb is None:
        raise ExpressionError(f"cannot compute {a!r} {op} {b!r}")
    whole = isinstance(na, int) and isinstance(nb, int)
    if op in "/%" and nb == 0:
        raise ExpressionError("division by zero")
    if op == "+":
        result = na + nb
    elif op == "-":
        result = na - nb
    elif op == "*":
        result = na * nb
    elif op == "/":
        result = na // nb if whole and na % nb == 0 else na / nb
    else:
        result = math.fmod(na, nb)  # Java's remainder: the sign of the dividend
        result = int(result) if whole else result
    return result


class Evaluator:
    """Walks a syntax tree against a scope; `names` are a filter's variables, `element` a projection's item."""

    def __init__(self, scope: Scope, names: dict | None = None, element: object = _NOTHING,
                 parent: Evaluator | None = None) -> None:
        self.scope = scope
        self.names = names or {}
        self.element = element
        self._mentions = parent._mentions if parent is not None else None

    def evaluate(self, node: object) -> object:
        """The value of a node."""
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise ExpressionError(f"cannot evaluate {type(node).__name__}")
        try:
            return handler(self, node)
        except ExpressionError as err:
            if err.position is None and err.source is None:
                raise ExpressionError(str(err), node.pos) from None
            raise

    def mentions(self) -> list[MentionValue]:
        """Every mention in the input, in order, as expressions see them."""
        if self._mentions is None:
            by_name: dict[str, list] = {}
            for mention in self.scope.entities:
                by_name.setdefault(mention.entity, []).append(mention.value)
            self._mentions = [MentionValue(m, by_name[m.entity]) for m in self.scope.entities]
        return self._mentions

    def first_mention(self, name: str) -> MentionValue | None:
        """The first mention of an entity (what `@name` stands for), None when there is none."""
        return next((m for m in self.mentions() if m.get("entity") == name), None)

    def top_intent(self) -> str | None:
        """The top intent's name when its confidence is at or above the threshold."""
        if not self.scope.intents:
            return None
        name, confidence = self.scope.intents[0]
        return name if (as_number(confidence) or 0) >= self.scope.intent_threshold else None

    def clock(self, zone: object = None) -> datetime.datetime:
        """Now, from scope.now (the real UTC clock when None), in `zone` or the context's `timezone`."""
        moment = self.scope.now or datetime.datetime.now(datetime.timezone.utc)
        explicit = plain(zone)
        name = explicit or (self.scope.context or {}).get("timezone")
        if not name or moment.tzinfo is None:  # a naive scope.now is taken as already local
            return moment
        try:
            return moment.astimezone(ZoneInfo(str(name)))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            if explicit:
                raise ExpressionError(f"unknown time zone {name!r}") from None
            logger.info("ignoring unknown $timezone %r", name)
            return moment

    # -- one handler per kind of node
    def _literal(self, node: ast.Literal) -> object:
        return node.value

    def _list(self, node: ast.ListLit) -> object:
        return [export(self.evaluate(item)) for item in node.items]

    def _map(self, node: ast.MapLit) -> object:
        return {key: export(self.evaluate(value)) for key, value in zip(node.keys, node.values)}

    def _var(self, node: ast.Var) -> object:
        value = (self.scope.context or {}).get(node.name)
        return value if node.text is None else shorthand_match(value, node.text, ignore_case=False)

    def _entity(self, node: ast.Entity) -> object:
        if node.text is None:
            return self.first_mention(node.name)
        return any(m.get("entity") == node.name and shorthand_match(m.get("value"), node.text, ignore_case=True)
                   for m in self.mentions())

    def _intent(self, node: ast.Intent) -> object:
        return self.top_intent() == node.name

    def _name(self, node: ast.Name) -> object:
        if node.name in self.names:
            return self.names[node.name]
        element = self.element
        if isinstance(element, dict) and node.name in element:
            return get_member(element, node.name)
        return self._global(node)

    def _global(self, node: ast.Name) -> object:
        name = node.name
        if name == "context":
            return self.scope.context if self.scope.context is not None else {}
        if name == "input":
            return {"text": self.scope.input_text}
        if name == "output":
            return self.scope.output
        if name == "entities":
            return EntityList(self.mentions())
        if name == "intents":
            return IntentList(IntentValue(n, c) for n, c in self.scope.intents)
        if name == "intent":
            return self.top_intent()
        if name in FLAGS:
            return bool(self.scope.flags.get(name, False))
        raise ExpressionError(f"unknown name {name!r}", node.pos)

    def _call(self, node: ast.Call) -> object:
        args = [self.evaluate(a) for a in node.args]
        if node.name in ("now", "today") and len(args) <= 1:
            moment = self.clock(args[0] if args else None)
            return now_text(moment) if node.name == "now" else today_text(moment)
        raise ExpressionError(f"unknown function {node.name}()", node.pos)

    def _member(self, node: ast.Member) -> object:
        if isinstance(node.target, ast.Entity) and node.target.text is None and node.name == "values":
            return [m.get("value") for m in self.mentions() if m.get("entity") == node.target.name]
        return get_member(self.evaluate(node.target), node.name)

    def _method(self, node: ast.MethodCall) -> object:
        target = self.evaluate(node.target)
        if target is None and node.safe:
            return None
        args = [self.evaluate(a) for a in node.args]
        if node.name == "filter" and isinstance(plain(target), list):
            return self._filter(plain(target), args)
        return call_method(target, node.name, args)

    def _filter(self, items: list, args: list) -> list:
        """`array.filter("x", "x.price > 5")`: the items for which the condition holds."""
        if len(args) != 2:
            raise ExpressionError("filter takes a variable name and a condition")
        variable, condition = text_arg(args[0]), parse_cached(text_arg(args[1]))
        return [item for item in items
                if truthy(Evaluator(self.scope, {**self.names, variable: item}, self.element, self)
                          .evaluate(condition))]

    def _index(self, node: ast.Index) -> object:
        return get_index(self.evaluate(node.target), self.evaluate(node.index))

    def _project(self, node: ast.Project) -> object:
        target = self.evaluate(node.target)
        if target is None:
            return None
        if not isinstance(target, list):
            raise ExpressionError("projection and selection work on arrays")
        results = []
        for item in target:
            value = Evaluator(self.scope, self.names, item, self).evaluate(node.expr)
            if not node.select:
                results.append(value)
            elif truthy(value):
                results.append(item)
        return results

    def _unary(self, node: ast.Unary) -> object:
        value = self.evaluate(node.operand)
        if node.op == "!":
            return not truthy(value)
        number = as_number(value)
        if number is None:
            raise ExpressionError(f"cannot apply unary {node.op} to {plain(value)!r}", node.pos)
        return -number if node.op == "-" else number

    def _binary(self, node: ast.Binary) -> object:
        if node.op == "&&":
            return truthy(self.evaluate(node.left)) and truthy(self.evaluate(node.right))
        if node.op == "||":
            return truthy(self.evaluate(node.left)) or truthy(self.evaluate(node.right))
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if node.op in ("==", "!=", "<", ">", "<=", ">=", "matches"):
            return compare(node.op, left, right)
        return arithmetic(node.op, left, right)

    def _ternary(self, node: ast.Ternary) -> object:
        return self.evaluate(node.then if truthy(self.evaluate(node.cond)) else node.other)

    def _elvis(self, node: ast.Elvis) -> object:
        value = self.evaluate(node.value)
        return value if plain(value) not in (None, "") else self.evaluate(node.fallback)

    def _type(self, node: ast.TypeRef) -> object:
        return JavaType(node.name)

    def _new(self, node: ast.New) -> object:
        kind = _NEW.get(node.name.rsplit(".", 1)[-1])
        if kind is None or node.args:
            raise ExpressionError(f"cannot create new {node.name}", node.pos)
        return kind()


_HANDLERS = {
    ast.Literal: Evaluator._literal, ast.ListLit: Evaluator._list, ast.MapLit: Evaluator._map,
    ast.Var: Evaluator._var, ast.Entity: Evaluator._entity, ast.Intent: Evaluator._intent,
    ast.Name: Evaluator._name, ast.Call: Evaluator._call, ast.Member: Evaluator._member,
    ast.MethodCall: Evaluator._method, ast.Index: Evaluator._index, ast.Project: Evaluator._project,
    ast.Unary: Evaluator._unary, ast.Binary: Evaluator._binary, ast.Ternary: Evaluator._ternary,
    ast.Elvis: Evaluator._elvis, ast.TypeRef: Evaluator._type, ast.New: Evaluator._new,
}
