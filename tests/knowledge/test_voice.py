"""The author's first person in the assistant's voice: rewritten by rules that check themselves,
else quoted with attribution (fast: the rules and prompts.yml)."""

from __future__ import annotations

import pytest

from knowledge.answers.prompts import load_prompts
from knowledge.settings import load_settings
from knowledge.answers.voice import Voice


@pytest.fixture(scope="module")
def voice() -> Voice:
    return Voice(load_prompts().voice)


@pytest.mark.parametrize("sentence, expected", [
    ("I've done a couple of changes marked in the code.", "Niklas Heidloff has done a couple of changes marked in the code."),
    ("I do not have a data-centre GPU.", "Niklas Heidloff does not have a data-centre GPU."),
    ("I have Podman on my laptop.", "Niklas Heidloff has Podman on Niklas's laptop."),
    ("My team has created a demo.", "Niklas Heidloff's team has created a demo."),
    ("- I can run it on a CPU.", "- Niklas Heidloff can run it on a CPU."),
    ("Set the host to my.example.com and edit my.cnf.", "Set the host to my.example.com and edit my.cnf."),
    ("If you want more, check out my previous posts.", "If you want more, check out Niklas Heidloff's previous posts."),
    ("I'm using LoRA.", "Niklas Heidloff is using LoRA."),
    ("The I/O layer is fast.", "The I/O layer is fast."),
])
def test_singular_first_person_is_turned_into_the_third(voice, sentence, expected):
    assert voice.third_person(sentence, "Niklas Heidloff") == expected
    assert not voice.first_person(expected)


@pytest.mark.parametrize("sentence", [
    "Over the last year, we've seen how smaller models can be fine-tuned.",   # "we": whose?
    "I wrote about this before.",         # a past form: the rules do not guess
    "I use Podman.",                      # present or past, verb or not: not guessed either
    "I thought it was easy.",             # ("thoughts" is a word, but no verb here)
    "I need to fix it.",                  # ("-ed" is no sign of a past form)
    "I'd rather use Helm.",               # would or had
    "I taught myself Rust.",
])
def test_what_the_rules_cannot_turn_is_quoted_with_attribution(voice, sentence):
    assert voice.third_person(sentence, "Niklas Heidloff") is None
    assert voice.in_voice([sentence, "It works."], [], "Niklas Heidloff") == \
        ([sentence, "It works."], "Niklas Heidloff writes: “", "”")


def test_the_posts_own_authors_come_first_and_several_write(voice):
    sentences = ["We are happy to announce Rust 1.70."]
    assert voice.in_voice(sentences, ["The Rust Release Team"], "") == \
        (sentences, "The Rust Release Team writes: “", "”")
    assert voice.in_voice(["I built it."], ["Ann Lee", "Bob Roe"], "Site Owner") == \
        (["I built it."], "Ann Lee and Bob Roe write: “", "”")
    assert voice.in_voice(["Nothing personal here."], [], "") == (["Nothing personal here."], "", "")


def test_the_authors_name_counts_as_the_posts_own_words_when_an_answer_is_checked(voice):
    from knowledge.corpus.embedder import get_embedder
    from knowledge.answers.support import SourceSentence, SupportChecker

    settings = load_settings()
    sources = [SourceSentence("I've changed the code in a couple of places.", 1)]
    said = "Niklas Heidloff has changed the code in a couple of places."

    def checker(given: list[str] = ()) -> SupportChecker:
        return SupportChecker(sources, get_embedder(settings.embedder).encode, settings.answer.support_threshold,
                              settings.answer.support_word_coverage, given=given)
    assert checker().check(said) is None        # "niklas" and "heidloff" are not the passage's words
    # A team's name shares words with what it writes: only the added phrase is left out.
    release = SupportChecker([SourceSentence("We are happy to announce the Rust 1.70 release today.", 1)],
                             get_embedder(settings.embedder).encode, settings.answer.support_threshold,
                             settings.answer.support_word_coverage,
                             given=voice.added_phrases(["The Rust Release Team"], ""))
    assert release.check("The Rust Release Team writes: “We are happy to announce the Rust 1.70 release today.”")
    assert checker(voice.added_phrases([], "Niklas Heidloff")).check(said) is not None
    quoted = "Niklas Heidloff writes: “I've changed the code in a couple of places.”"
    assert checker(voice.added_phrases([], "Niklas Heidloff")).check(quoted) is not None


def test_a_quoted_run_is_checked_sentence_by_sentence():
    from knowledge.answers.support import answer_sentences

    text = ("Jane Doe writes: “We ship the new release of the tool today. It has three new features.” [1] "
            "The next release is planned for the spring of next year [2].")
    assert answer_sentences(text) == ["Jane Doe writes: “We ship the new release of the tool today.",
                                      "It has three new features.”", "The next release is planned for the spring of next year."]
