"""Evidence selection, the support check and the word helpers, with a stub encoder: fast, no model.

The stub embeds a text as its bag of word stems (hashed), so similarity is word overlap; the rules
of evidence selection (where a run starts, where it stops, what it takes along) do not depend on
which encoder scores the sentences. tests/knowledge/test_answers.py runs the same code with the real model.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from knowledge.answers.evidence import EvidenceSelector
from knowledge.answers.support import SourceSentence, SupportChecker, answer_sentences, complete_sentences
from knowledge.words import content_words, is_stopword, query_words, stem

DIMENSION = 512
POINTER = re.compile(r"\b(find out more|check out)\b", re.IGNORECASE)


def stub_encode(texts: list[str]) -> np.ndarray:
    """Unit vectors of the texts' hashed word stems."""
    vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in content_words(text):
            vectors[row, zlib.crc32(word.encode()) % DIMENSION] += 1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def selector(sources: list[SourceSentence]) -> EvidenceSelector:
    return EvidenceSelector(sources, stub_encode([s.text for s in sources]), stub_encode, POINTER)


def select(sources: list[SourceSentence], question: str, max_words: int = 40, **options):
    options.setdefault("lexical_weight", 0.3)
    runs = selector(sources).select(question, stub_encode([question])[0], max_words, other_posts_score=0.8, **options)
    return [[s.text for s in run] for run in runs], runs


TEKTON = [
    SourceSentence("Tekton is a framework for building pipelines on Kubernetes.", 1, block=1),
    SourceSentence("You start a pipeline run with the tkn command line tool.", 1, block=1),
    SourceSentence("Then you follow the logs of the last pipeline run with tkn pipelinerun logs.", 1, block=1),
    SourceSentence("The logs stream until the run ends.", 1, block=1),
    SourceSentence("To find out more, check out the Tekton documentation.", 1, block=1),
    SourceSentence("Quarkus builds native images with GraalVM in a container.", 2, block=2),
]


def test_the_answer_starts_at_the_sentence_that_answers_and_reads_on_in_its_block():
    texts, _ = select(TEKTON, "How do I follow the logs of the last pipeline run?")
    # Not the introduction of the passage; the sentence after it belongs to the answer; the pointer
    # to the documentation and the other post's unrelated sentence do not.
    assert texts == [["Then you follow the logs of the last pipeline run with tkn pipelinerun logs.",
                      "The logs stream until the run ends."]]


def test_a_run_ends_before_a_sentence_that_would_overshoot_its_word_budget():
    texts, _ = select(TEKTON[:4], "What is Tekton, the framework for pipelines?", max_words=12)
    assert texts[0] == ["Tekton is a framework for building pipelines on Kubernetes."]


def test_the_anchor_passage_keeps_the_answer_in_one_post():
    # The first run comes from the anchor (the earliest post, for "when did he first…"), however much
    # better another post's sentence matches.
    texts, runs = select(TEKTON, "How do I build native images with GraalVM in a container?", anchor_passage=1)
    assert runs[0][0].passage == 1
    assert select(TEKTON, "How do I build native images with GraalVM in a container?")[1][0][0].passage == 2


def test_a_sentence_announcing_code_brings_the_code():
    sources = [SourceSentence("Install the operator lifecycle manager with this command:", 1, block=1,
                              code="operator-sdk olm install"),
               SourceSentence("Next the bundle is created.", 1, block=1, code="make bundle")]
    _, runs = select(sources, "How do I install the operator lifecycle manager?")
    assert runs[0][0].code == "operator-sdk olm install"


def test_a_list_the_answer_enters_is_shown_whole():
    # Longer than the budget: the sentence that announces the list would otherwise stand alone.
    items = [SourceSentence(f"- Step {n} sets the gateway's {part}.", 1, block=1)
             for n, part in enumerate(["listening port", "upstream hosts"], 1)]
    sources = [SourceSentence("The gateway is configured in two steps:", 1, block=1)] + items
    texts, _ = select(sources, "How is the gateway configured?", max_words=10)
    assert texts[0] == [s.text for s in sources]


def test_another_post_adds_its_best_sentence_when_it_answers_about_as_well():
    sources = TEKTON[:2] + [SourceSentence("Tekton pipelines run on Kubernetes as a framework of tasks.", 2, block=2)]
    texts, _ = select(sources, "Is Tekton a framework for pipelines on Kubernetes?", max_words=10)
    assert sorted(run[0] for run in texts) == sorted([sources[0].text, sources[2].text])


# -- the support check ----------------------------------------------------------------------------

def checker() -> SupportChecker:
    sources = [SourceSentence("The model was fine-tuned on a GPU with 16 GB of memory in three hours.", 1)]
    return SupportChecker(sources, stub_encode, threshold=0.5, word_coverage=0.75)


def test_a_sentence_saying_what_the_passage_says_is_supported():
    supported = checker().check("The model was fine-tuned in three hours on a GPU with 16 GB of memory.")
    assert supported is not None and supported.passage == 1


@pytest.mark.parametrize("sentence", [
    "The model was fine-tuned on a GPU with 2 GB of memory in three hours.",   # a number the passage lacks
    "Fine-tuned model.",                                                         # a fragment
])
def test_invented_numbers_and_fragments_are_not_supported(sentence):
    assert checker().check(sentence) is None


def test_a_sentence_close_in_meaning_but_with_words_the_passage_lacks_is_not_supported():
    lenient = checker()
    lenient.threshold = 0.0       # only the word coverage decides
    assert lenient.check("The model was trained on a TPU cluster with plenty of memory.") is None
    assert lenient.check("The model was fine-tuned on a GPU with plenty of memory.") is not None


def test_a_sentence_is_supported_once():
    check = checker()
    sentence = "The model was fine-tuned on a GPU with 16 GB of memory in three hours."
    assert check.check(sentence) is not None
    assert check.check(sentence) is None


def test_streamed_text_is_cut_into_finished_sentences():
    done, rest = complete_sentences("First sentence [1]. Second one is")
    assert done == ["First sentence [1]."] and rest == "Second one is"
    assert answer_sentences("One two three [1]. Four five six seven [2]. No.") == ["One two three.",
                                                                                   "Four five six seven."]


# -- words ----------------------------------------------------------------------------------------

def test_word_forms_meet():
    assert stem("quantization") == stem("quantiz") == "quantiz"
    assert stem("operators") == "operator" and stem("use") == "use"
    assert content_words("Quantizing the deployment") == content_words("quantization deploy")
    assert content_words("the operators, using it") == {"operat"}
    assert is_stopword("What's") and not is_stopword("tekton")
    assert query_words("How do I use Tekton 2 with node.js?", 3) == ["use", "tekton", "node.js"]


def test_the_lexical_weight_lets_a_sentence_with_the_questions_words_outrank_a_closer_one():
    # Vectors given by hand: the first sentence is closer to the question, the second holds its words.
    question = "Which port does Grafana listen on?"
    sources = [SourceSentence("The dashboard service answers on a fixed number by default.", 1, block=1),
               SourceSentence("Grafana will listen on port 3000 unless configured otherwise.", 1, block=2)]
    question_vector = np.array([1.0, 0.0], dtype=np.float32)
    vectors = np.array([[0.9, np.sqrt(1 - 0.81)], [0.8, 0.6]], dtype=np.float32)
    chooser = EvidenceSelector(sources, vectors, stub_encode, POINTER)
    by_cosine = chooser.ranked(question, question_vector, lexical_weight=0.0)
    with_words = chooser.ranked(question, question_vector, lexical_weight=0.3)
    assert [i for i, _ in by_cosine] == [0, 1]
    assert [i for i, _ in with_words] == [1, 0]
    assert with_words[0][1] == pytest.approx(0.8 + 0.3)     # it holds every content word of the question
    for weight, first in ((0.3, sources[1]), (0.0, sources[0])):   # what select starts the answer with
        runs = chooser.select(question, question_vector, 40, other_posts_score=2.0, lexical_weight=weight)
        assert [[s.text for s in run] for run in runs] == [[first.text]]
