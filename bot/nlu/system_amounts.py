"""System entities for amounts: `sys-currency` ("$20", "20 dollars", "€5.50", "twenty cents") and
`sys-percentage` ("15%", "15 percent"), as Watson Assistant's new system entities find them.

The value is the number (an int when whole), in base units ("20 cents" is 0.2 USD); the mention
also carries `numeric_value` and, for a currency, `unit` (the ISO 4217 code).
"""

from __future__ import annotations

import re

from bot.nlu.mention import Entity

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
# "twenty five", "twenty-five", "one hundred and ten", "a hundred": a number written in words.
WORD_NUMBER = (rf"(?:(?:{_WORD})\b|a(?=[\s-]+(?:hundred|thousand|million)\b))"
               rf"(?:[\s-]+(?:and[\s-]+)?(?:{_WORD}|hundred|thousand|million|billion)\b)*")
DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_NUMBER = rf"(?P<num>(?<![\w.,]){DIGITS}|\b{WORD_NUMBER})"
_SCALE = r"(?:\s*(?P<scale>k\b|thousand\b|million\b|mn\b|billion\b|bn\b))?"

_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "r$": "BRL"}
_NAMES = {"dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR",
          "pound": "GBP", "pounds": "GBP", "quid": "GBP", "yen": "JPY", "rupee": "INR", "rupees": "INR",
          "usd": "USD", "eur": "EUR", "gbp": "GBP", "jpy": "JPY", "inr": "INR", "chf": "CHF", "cad": "CAD",
          "aud": "AUD", "cent": "USD", "cents": "USD"}
_CODES = ("USD", "EUR", "GBP", "JPY", "INR", "CHF", "CAD", "AUD")
_SYMBOL = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_NAME = "|".join(sorted(_NAMES, key=len, reverse=True))
_CURRENCY = [
    # "$20", "€ 5.50", "US$1,234.56", "$5k"
    re.compile(rf"(?<![\w$])(?P<symbol>{_SYMBOL})\s?(?P<num>{DIGITS}){_SCALE}", re.I),
    # "20 dollars", "twenty euros", "5 million dollars", "50 cents", "20 USD"
    re.compile(rf"{_NUMBER}{_SCALE}\s*(?:(?P<symbol2>{_SYMBOL})(?![\d])|(?P<name>{_NAME})\b)", re.I),
    # "USD 20", "EUR 5.50"
    re.compile(rf"\b(?P<code>{'|'.join(_CODES)})\s?(?P<num>{DIGITS}){_SCALE}"),
]
_PERCENT_WORD = r"(?:%|\bper\s?cent\b|\bpct\b)"
_PERCENTAGE = re.compile(rf"{_NUMBER}\s*{_PERCENT_WORD}", re.I)
# "1-2%", "2 to 3 percent": both ends are percentages.
_PERCENT_RANGE = re.compile(rf"(?<![\w.,])(?P<first>{DIGITS})\s*(?:-|–|to)\s*(?P<num>{DIGITS})\s*{_PERCENT_WORD}", re.I)
_SCALE_VALUES = {"k": 1_000, "thousand": 1_000, "million": 1_000_000, "mn": 1_000_000, "billion": 1_000_000_000,
                 "bn": 1_000_000_000}


def word_number(words: str) -> float | None:
    """The value of a number written in words ("twenty five", "one hundred and ten"), None if it is not one."""
    total, current = 0, 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower().strip()):
        if word == "and":
            continue
        if word in _UNITS or word in _TENS:
            current += _UNITS.get(word, _TENS.get(word, 0))
        elif word == "a":
            current += 1
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def number_value(text: str) -> float | None:
    """The value of digits ("1,234.56") or of a number in words; None if it is neither."""
    text = text.strip()
    if re.fullmatch(DIGITS, text):
        return float(text.replace(",", ""))
    return word_number(text)


def _plain(value: float) -> int | float:
    value = round(value, 10)
    return int(value) if value.is_integer() else value


def find_currencies(text: str) -> list[Entity]:
    """`sys-currency` mentions: an amount with a currency symbol, name or code, in base units."""
    found: list[Entity] = []
    for pattern in _CURRENCY:
        for m in pattern.finditer(text):
            if any(e.start < m.end() and m.start() < e.end for e in found):
                continue
            value = number_value(m.group("num"))
            if value is None:
                continue
            groups = m.groupdict()
            scale = (groups.get("scale") or "").lower()
            value *= _SCALE_VALUES.get(scale, 1)
            unit = _unit(groups)
            if (groups.get("name") or "").lower() in ("cent", "cents"):
                value /= 100
            found.append(Entity("sys-currency", _plain(value), m.start(), m.end(),
                                {"numeric_value": _plain(value), "unit": unit}))
    return sorted(found, key=lambda e: e.start)


def _unit(groups: dict[str, str | None]) -> str:
    symbol = groups.get("symbol") or groups.get("symbol2")
    if symbol:
        return _SYMBOLS[symbol.lower()]
    if groups.get("code"):
        return groups["code"]
    return _NAMES[(groups.get("name") or "dollars").lower()]


def find_percentages(text: str) -> list[Entity]:
    """`sys-percentage` mentions: "15%", "15 percent", "fifteen per cent"."""
    found = []
    for m in _PERCENT_RANGE.finditer(text):
        for value, start, end in ((m.group("first"), m.start("first"), m.end("first")),
                                  (m.group("num"), m.start("num"), m.end())):
            number = _plain(float(value.replace(",", "")))
            found.append(Entity("sys-percentage", number, start, end, {"numeric_value": number}))
    for m in _PERCENTAGE.finditer(text):
        value = number_value(m.group("num"))
        if value is not None and not any(e.start < m.end() and m.start() < e.end for e in found):
            found.append(Entity("sys-percentage", _plain(value), m.start(), m.end(), {"numeric_value": _plain(value)}))
    return sorted(found, key=lambda e: e.start)
