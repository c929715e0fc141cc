"""The scripted conversations, one pytest test each: tests/conversations/ on the demo blog and
tests/conversations-real/ on the real corpus in ../shared (skipped where it is absent)."""

from __future__ import annotations

import pytest

from bot.testing.runner import Engines, format_result, run_script
from bot.testing.scripts import ScriptError, load_scripts, script_files
from helpers import REPO, TODAY


def _cases(folder):
    cases = []
    for file in script_files([folder]) if folder.is_dir() else []:
        try:
            scripts = load_scripts(file)
        except ScriptError as exc:
            cases.append(pytest.param(exc, id=f"{file.name}:malformed"))
            continue
        cases += [pytest.param(s, id=f"{file.stem}: {s.name}") for s in scripts]
    return cases


DEMO_CASES = _cases(REPO / "tests" / "conversations")
REAL_CASES = _cases(REPO / "tests" / "conversations-real")


@pytest.fixture(scope="session")
def demo_engines(demo_index, demo_engine):
    return Engines(demo_index, today=TODAY, default_engine=demo_engine)


@pytest.fixture(scope="session")
def real_engines(real_index):
    return Engines(real_index[0], today=TODAY)


def _run(script, engines):
    if isinstance(script, ScriptError):
        pytest.fail(f"malformed conversation file: {script}")
    result = run_script(script, engines)
    assert result.passed, format_result(result)


def test_there_are_enough_demo_conversations():
    assert len(DEMO_CASES) >= 25


@pytest.mark.parametrize("script", DEMO_CASES)
def test_demo_conversation(script, demo_engines):
    _run(script, demo_engines)


@pytest.mark.slow
@pytest.mark.parametrize("script", REAL_CASES)
def test_real_corpus_conversation(script, real_engines):
    _run(script, real_engines)
