"""The generator is tried only as often as its answers are kept (knowledge/answers/keep_rate.py), on its
own and in the composer with the real demo index and generator."""

from __future__ import annotations

import dataclasses

from knowledge.answers.composer import AnswerComposer
from knowledge.answers.keep_rate import KeepRate


def test_tries_every_question_until_the_window_is_full_then_one_in_explore_every():
    rate = KeepRate(window=4, min_rate=0.25, explore_every=3)
    for _ in range(4):
        assert rate.should_try()
        rate.record(False)
    assert [rate.should_try() for _ in range(6)] == [False, False, True, False, False, True]
    rate.record(True)                     # one of the last four kept: 25%, every question again
    assert rate.rate() == 0.25 and all(rate.should_try() for _ in range(3))


def test_min_rate_zero_always_tries():
    rate = KeepRate(window=1, min_rate=0.0, explore_every=5)
    rate.record(False)
    assert all(rate.should_try() for _ in range(10))


def test_the_composer_skips_the_generator_once_its_answers_are_rarely_kept(demo_index, settings):
    settings = dataclasses.replace(settings, generator=dataclasses.replace(
        settings.generator, keep_window=3, min_keep_rate=0.5, explore_every=1000))
    composer = AnswerComposer(demo_index, settings)
    for _ in range(3):
        composer.keep_rate.record(False)
    answer = composer.answer("How do I start a Tekton pipeline and follow the logs of the latest run?")
    assert answer.mode == "extractive" and answer.timings.get("generation_skipped") == 1
    assert "generation_s" not in answer.timings and answer.citations
