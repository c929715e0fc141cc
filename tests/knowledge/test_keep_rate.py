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


def test_the_record_outlives_the_process_for_the_same_generator_only(tmp_path):
    path = tmp_path / "generator-keep-record.json"
    first = KeepRate(window=3, min_rate=0.5, explore_every=1000, record_path=path, identity="model A")
    for _ in range(3):
        first.record(False)
    restarted = KeepRate(window=3, min_rate=0.5, explore_every=1000, record_path=path, identity="model A")
    assert restarted.rate() == 0.0 and not restarted.should_try()
    other_model = KeepRate(window=3, min_rate=0.5, explore_every=1000, record_path=path, identity="model B")
    assert other_model.rate() is None and other_model.should_try()


def test_an_unreadable_or_unwritable_record_is_counted_in_memory(tmp_path):
    path = tmp_path / "generator-keep-record.json"
    path.write_text("{not json")
    rate = KeepRate(window=2, min_rate=0.5, explore_every=1000, record_path=path, identity="m")
    assert rate.rate() is None
    read_only = KeepRate(window=2, min_rate=0.5, explore_every=1000, record_path=tmp_path / "missing" / "record.json",
                         identity="m")
    read_only.record(False)
    read_only.record(False)
    assert read_only.rate() == 0.0 and not (tmp_path / "missing").exists()


def test_a_server_remembers_the_record_and_an_evaluation_does_not(demo_index, settings, tmp_path):
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(demo_index, data_dir)
    (data_dir / "generator-keep-record.json").unlink(missing_ok=True)
    settings = dataclasses.replace(settings, generator=dataclasses.replace(
        settings.generator, keep_window=1, min_keep_rate=0.5, explore_every=1000))
    evaluation = AnswerComposer(data_dir, settings)
    evaluation.keep_rate.record(False)
    assert not (data_dir / "generator-keep-record.json").exists()
    server = AnswerComposer(data_dir, settings, remember_tries=True)
    server.keep_rate.record(False)
    restarted = AnswerComposer(data_dir, settings, remember_tries=True)
    answer = restarted.answer("How do I start a Tekton pipeline and follow the logs of the latest run?")
    assert answer.timings.get("generation_skipped") == 1 and answer.citations


def test_a_try_the_record_does_not_call_for_waits_for_a_question_asked_alone():
    rate = KeepRate(window=2, min_rate=0.5, explore_every=3)
    rate.record(False)
    rate.record(False)
    assert [rate.should_try(alone=False) for _ in range(5)] == [False] * 5      # busy: no try, however long
    assert rate.should_try(alone=True)                                          # the first question alone
    assert [rate.should_try(alone=True) for _ in range(3)] == [False, False, True]
    rate.record(True)                  # one of the last two kept: the record calls for every question
    assert rate.should_try(alone=False)



def test_an_exploring_try_gives_way_when_another_answer_starts(demo_index, settings):
    import threading
    import time

    settings = dataclasses.replace(settings, generator=dataclasses.replace(
        settings.generator, keep_window=2, min_keep_rate=0.5, explore_every=1))
    composer = AnswerComposer(demo_index, settings)
    composer.keep_rate.record(False)
    composer.keep_rate.record(False)       # the record says: explore, on spare CPU only
    answers = {}

    def ask(name, question):
        answers[name] = composer.answer(question)

    first = threading.Thread(target=ask, args=("exploring", "How do I start a Tekton pipeline and follow its logs?"))
    first.start()
    deadline = time.monotonic() + 60
    while composer.generations_in_flight == 0 and first.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert composer.generations_in_flight == 1          # the try is running
    ask("other", "What constant k is used in reciprocal rank fusion?")
    first.join(60)
    exploring = answers["exploring"]
    assert exploring.timings.get("generation_gave_way") == 1 and exploring.mode == "extractive"
    assert exploring.citations and answers["other"].citations
    assert answers["other"].timings.get("generation_skipped") == 1     # not alone when it began: no try
    assert composer.keep_rate.rate() == 0.0 and len(composer.keep_rate._kept) == 2   # the cut try is not counted


def test_a_try_that_gave_way_never_starts_its_answer():
    import threading

    from knowledge.answers.keep_rate import TryStop

    reader = threading.Event()
    stop = TryStop(reader)
    stop.give_way()
    assert stop.is_set() and stop.gave_way and not stop.begin_streaming()
    streaming = TryStop(reader)
    assert streaming.begin_streaming()
    streaming.give_way()                      # the reader already reads it: it goes on
    assert not streaming.is_set()
    reader.set()                              # the reader leaves: it stops, but did not give way
    assert streaming.is_set() and not streaming.gave_way
