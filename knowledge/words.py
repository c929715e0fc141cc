"""Words of English text as search and answers compare them: the stopword lists and the stemmer.

Two stopword lists, each measured for its job: search leaves out function words (STOPWORDS), and
the support check and evidence selection compare sentences on their content words, where a few of
those words still count ("after", "before", "get": SENTENCE_STOPWORDS). Comparing sentences with
the search list, or on stems instead of 6-letter keys, lowered keyword recall on the Heidloff and
Kubernetes development sets (0.637 -> 0.619 and 0.595; 0.550 -> 0.539).
"""

from __future__ import annotations

import calendar
import re

# Search's list: function words of English and the question words readers use; they say nothing of
# a subject.
STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both
but by can could did do does doing done down during each few for from further get got had has have having he
her here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
only or other our ours out over own same she should so some such than that the their theirs them then there
these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours he's i'm it's what's don't does doesn't did didn't can't
""".split())
# The support check's list: words that say nothing when a sentence is compared with a passage.
SENTENCE_STOPWORDS = frozenset("""the a an and or but of to in on for with by from as at is are was were be been
being this that these those it its you your we our they their he his she her i my me can could should would will
may might must do does did done has have had not no so than then there here also just more most very into about
over using use used via how what when where which who why all any each one two some such only own same too""".split())
# Capitalized, but they name a time, not a subject.
_CALENDAR_WORDS = frozenset(w.lower() for w in list(calendar.month_name[1:]) + list(calendar.day_name))
# A word of a query: letters, digits and the joiners of technical names ("node.js", "c++", "c#", "kube-rs").
WORD = re.compile(r"[\w][\w.+#-]*[\w+#]|\w", re.UNICODE)
_SUFFIXES = ("ations", "ation", "ings", "ing", "es", "s", "ed", "e")
# Content words compare on this many first letters: a noun and its verb share them more often than
# a suffix rule finds ("deployment", "deploy"); 6 is what the support check has always used.
CONTENT_KEY_LETTERS = 6


def is_stopword(word: str) -> bool:
    """A function word of English ("the", "about", "what's"): says nothing of a subject."""
    return word.lower() in STOPWORDS


def is_calendar_word(word: str) -> bool:
    """A month or day name ("March", "Monday")."""
    return word.lower() in _CALENDAR_WORDS


def stem(word: str) -> str:
    """The word without its ending ("quantization" -> "quantiz", "operators" -> "operator"); a stem
    keeps at least 4 letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)]
    return word


def query_words(text: str, min_length: int) -> list[str]:
    """The text's distinct lowercased words of at least `min_length` characters, stopwords and numbers
    left out, in order."""
    words = dict.fromkeys(m.group(0).lower() for m in WORD.finditer(text))
    return [w for w in words if len(w) >= min_length and not is_stopword(w) and not w.isdigit()]


_SENTENCE_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]")


def content_words(text: str) -> set[str]:
    """The text's words that carry meaning (3+ letters, not SENTENCE_STOPWORDS) as keys on which their
    forms meet: their first CONTENT_KEY_LETTERS letters ("quantize" meets "quantized", "deploy"
    "deployment")."""
    return {w[:CONTENT_KEY_LETTERS] for w in _SENTENCE_WORD.findall(text.lower())
            if w not in SENTENCE_STOPWORDS and len(w) > 2}
