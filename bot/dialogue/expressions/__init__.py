"""Watson Assistant's expression language: a safe interpreter (tokenizer, parser, evaluator; no Python eval).

One language, three places, as in Watson's dialog skills:
  * node conditions:        parse_expression("@sys-number < 1 || #help").evaluate(scope) (or .holds(scope))
  * `<? expr ?>` in text:    render("Due on <? $due.reformatDateTime('MMM d') ?>", scope)
  * `$var` / `@entity` in text and context values: render("Hi $name"), resolve_context_value("@sys-date", scope)

The pieces: `parser` (tokens, grammar) -> `syntax_tree` (the tree) -> `evaluator` (evaluation) -> `values` /
`dates` / `java` (methods); `core` has the shared types.
`problems(value)` lists syntax errors for an import report without raising.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

from bot.dialogue.expressions import syntax_tree as ast
from bot.dialogue.expressions.core import ExpressionError, Mention, MentionValue, Scope, export, to_text, truthy
from bot.dialogue.expressions.evaluator import Evaluator, get_index, get_member
from bot.dialogue.expressions.parser import parse_cached

__all__ = ["Expression", "ExpressionError", "Mention", "Scope", "parse_expression", "problems", "render",
           "resolve_context_value"]

logger = logging.getLogger(__name__)

_CONVERT = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError, RecursionError, re.error)


class Expression:
    """A parsed expression: evaluate it against a Scope; list the entities and intents it names."""

    def __init__(self, source: str, tree: object) -> None:
        self.source = source
        self._tree = tree

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, scope: Scope) -> object:
        """The expression's value as plain JSON-like data (`@x` gives the mention's value); never the scope's own
        lists or dicts. Runtime problems (unknown method, type mismatch, bad date) raise ExpressionError."""
        try:
            return export(Evaluator(scope).evaluate(self._tree))
        except ExpressionError as err:
            if err.source is None:
                raise ExpressionError(str(err), source=self.source) from None
            raise
        except _CONVERT as err:
            raise ExpressionError(f"cannot evaluate ({type(err).__name__}: {err})", source=self.source) from None

    def holds(self, scope: Scope) -> bool:
        """Whether the expression holds as a condition (null, false, 0, "", empty lists do not)."""
        return truthy(self.evaluate(scope))

    def entity_names(self) -> list[str]:
        """The entities it names (@name, @name:value, entities['name'], entities.name), in order, once each."""
        names: list[str] = []
        for node in ast.walk(self._tree):
            name = None
            if isinstance(node, ast.Entity):
                name = node.name
            elif isinstance(node, ast.Index) and _is_entities(node.target) and isinstance(node.index, ast.Literal):
                name = node.index.value if isinstance(node.index.value, str) else None
            elif isinstance(node, ast.Member) and _is_entities(node.target):
                name = node.name
            if name is not None and name not in names:
                names.append(name)
        return names

    def intent_names(self) -> list[str]:
        """The intents it names (#name), in order, once each."""
        names: list[str] = []
        for node in ast.walk(self._tree):
            if isinstance(node, ast.Intent) and node.name not in names:
                names.append(node.name)
        return names


def _is_entities(node: object) -> bool:
    return isinstance(node, ast.Name) and node.name == "entities"


def parse_expression(text: str) -> Expression:
    """Parse an expression (a condition, or the inside of `<? ?>`); raises ExpressionError for bad syntax.

    A condition wholly wrapped in `<? ... ?>` is accepted too (the docs say the wrapper is not required there).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    source = text
    stripped = text.strip()
    if stripped.startswith("<?") and stripped.endswith("?>") and _single_expression(stripped) is not None:
        source = stripped[2:-2]
    return Expression(source, parse_cached(source))


# ---- text: <? ?> segments and shorthand ------------------------------------------------------------------


def _expression_end(text: str, start: int) -> int:
    """Index of the `?>` that closes the `<?` whose inside starts at `start` (quotes respected); -1 if none."""
    quote, i = None, start
    while i < len(text) - 1:
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif text.startswith("?>", i):
            return i
        i += 1
    return text.find("?>", start)  # unbalanced quotes: fall back to the first `?>`


def _pieces(text: str) -> Iterator[tuple[str, str]]:
    """("text", ...) and ("expr", ...) pieces of a template; ("open", rest) for an unterminated `<?`."""
    position = 0
    while True:
        start = text.find("<?", position)
        if start < 0:
            break
        end = _expression_end(text, start + 2)
        if end < 0:
            yield "text", text[position:start]
            yield "open", text[start:]
            return
        yield "text", text[position:start]
        yield "expr", text[start + 2:end]
        position = end + 2
    yield "text", text[position:]


def _single_expression(text: str) -> str | None:
    """The inside of a string that is exactly one `<? expr ?>`, else None."""
    pieces = [p for p in _pieces(text) if p != ("text", "")]
    return pieces[0][1] if len(pieces) == 1 and pieces[0][0] == "expr" else None


_SHORTHAND = re.compile(r"\\([$@#])|\$(?:\(([^)]*)\)|([A-Za-z_]\w*))|(?<!\w)@([A-Za-z0-9_][\w-]*)")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]|\[(?:'([^']*)'|\"([^\"]*)\")\]")
_EXACT = re.compile(r"(?:\$(?:\([^)]*\)|[A-Za-z_]\w*)|@[A-Za-z0-9_][\w-]*(?:\.[\w-]+)*)"
                    r"(?:\.[A-Za-z_]\w*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])*")


def _steps(value: object, text: str, position: int) -> tuple[object, int]:
    """Follow `.field`, `[0]`, `['key']` after a shorthand while they resolve; stop (as text) where not."""
    while match := _STEP.match(text, position):
        if match[1] is not None:
            name = match[1]
            known = isinstance(value, MentionValue) and name in ("values", "numeric_value")
            if not (known or isinstance(value, dict) and name in value):
                break
            value = get_member(value, name)
        else:
            key = match[2] if match[2] is not None else (match[3] if match[3] is not None else match[4])
            if isinstance(value, list) and match[2] is not None and int(key) < len(value):
                value = get_index(value, int(key))
            elif isinstance(value, dict) and key in value:
                value = value[key]
            else:
                break
        position = match.end()
    return value, position


def _entity_head(text: str, match: re.Match, evaluator: Evaluator) -> tuple[object, int]:
    """`@name` in text: the first mention (a dotted name only when such an entity was mentioned)."""
    name, end = match[4], match.end()
    mentioned = {m.entity for m in evaluator.scope.entities}
    while (more := re.match(r"\.([\w-]+)", text[end:])) and any(
            e == f"{name}.{more[1]}" or e.startswith(f"{name}.{more[1]}.") for e in mentioned):
        name, end = f"{name}.{more[1]}", end + more.end()
    if re.match(r"\.values(?!\w)", text[end:]):
        return [m.value for m in evaluator.scope.entities if m.entity == name], end + len(".values")
    return evaluator.first_mention(name), end


def _expand_shorthand(text: str, evaluator: Evaluator, escape: Callable[[str], str] = str) -> str:
    """Replace `$var`, `$(var)`, `@entity` (with `.field` / `[i]` steps) by their values; `\\$` `\\@` `\\#` escape."""
    out, position = [], 0
    while match := _SHORTHAND.search(text, position):
        out.append(text[position:match.start()])
        if match[1] is not None:
            out.append(match[1])
            position = match.end()
            continue
        if match[4] is not None:
            value, end = _entity_head(text, match, evaluator)
        else:
            name = (match[2] if match[2] is not None else match[3]).strip()
            value, end = (evaluator.scope.context or {}).get(name), match.end()
        value, position = _steps(value, text, end)
        out.append(escape(to_text(value)))
    out.append(text[position:])
    return "".join(out)


def _evaluate_logged(source: str, scope: Scope) -> tuple[bool, object]:
    """(ok, value) of an expression; a failure is logged at WARNING, never raised."""
    try:
        return True, parse_expression(source).evaluate(scope)
    except ExpressionError as err:
        logger.warning("expression %r failed: %s", source.strip(), err)
    except Exception:  # never let a template break a reply
        logger.warning("expression %r failed unexpectedly", source.strip(), exc_info=True)
    return False, None


def render(template: str, scope: Scope, escape: Callable[[str], str] = str) -> str:
    """Output text: `<? expr ?>` segments, `$var` and `@entity` shorthand replaced; never raises.

    A failing segment becomes "" (logged at WARNING). `\\$`, `\\@`, `\\#` give the character itself; `@` right
    after a letter or digit (an e-mail address) and `$` before a digit (`$150`) stay as they are. Each value
    put in goes through `escape` (the template's own text does not): a reader's words stay text.
    """
    if not isinstance(template, str):
        return to_text(template)
    evaluator, out = Evaluator(scope), []
    for kind, piece in _pieces(template):
        if kind == "expr":
            ok, value = _evaluate_logged(piece, scope)
            out.append(escape(to_text(value)) if ok else "")
        elif kind == "open":
            logger.warning("unterminated '<?' in %r", template)
            out.append(piece)
        else:
            try:
                out.append(_expand_shorthand(piece, evaluator, escape))
            except Exception:
                logger.warning("shorthand in %r failed", piece, exc_info=True)
                out.append(piece)
    return "".join(out)


def resolve_context_value(value: object, scope: Scope) -> object:
    """A context update's value, as Watson applies it; never raises (a failing expression gives null).

    Exactly one `<? expr ?>`, or exactly a shorthand (`@sys-date`, `$var`, `@Address.literal`, `$var.x`,
    `@city.values`): the value with its type (number, list, ...). Other strings: rendered text. Dicts and
    lists: item by item. Numbers, booleans, null: unchanged.
    """
    if isinstance(value, dict):
        return {key: resolve_context_value(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_context_value(item, scope) for item in value]
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    source = _single_expression(stripped) if stripped.startswith("<?") else None
    if source is None and _EXACT.fullmatch(stripped):
        source = stripped
    if source is None:
        return render(value, scope)
    ok, result = _evaluate_logged(source, scope)
    return export(result) if ok else None


def problems(value: object, *, condition: bool | None = None) -> list[str]:
    """The syntax errors in a condition, or in the `<? ?>` of a value (recursively in dicts/lists); [] when fine.

    condition=None: a string given directly is read as a condition, strings inside dicts and lists as text
    (context values, output). condition=True/False forces one reading for every string.
    """
    found: list[str] = []
    _collect(value, True if condition is None else condition, condition is None, found)
    return found


def _collect(value: object, as_condition: bool, auto: bool, found: list[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, False if auto else as_condition, auto, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, False if auto else as_condition, auto, found)
    elif isinstance(value, str) and as_condition:
        if value.strip():
            try:
                parse_expression(value)
            except ExpressionError as err:
                found.append(f"condition: {err}")
    elif isinstance(value, str):
        for kind, piece in _pieces(value):
            if kind == "open":
                found.append(f"unterminated '<?' in {value!r}")
            elif kind == "expr":
                try:
                    parse_expression(piece)
                except ExpressionError as err:
                    found.append(f"<? ?> expression: {err}")
