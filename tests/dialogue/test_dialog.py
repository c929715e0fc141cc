"""The dialog layer on the demo blog: nodes, slots, digressions, disambiguation, follow-ups,
sessions, tracker stores and custom dialogs, with the real NLU and the real actions."""

from __future__ import annotations

import textwrap
import uuid

import pytest
import yaml

from bot.dialogue.engine import DialogEngine
from bot.dialogue.config import load_dialog
from bot.dialogue.followups import load_followup_rules
from bot.dialogue.messages import BotMessage, Token, TurnResult
from bot.dialogue.tracker_store import MemoryTrackerStore, open_tracker_store
from helpers import TODAY

TEKTON = "/article/tekton-pipelines/"
RAG = "/article/rag-basics/"
OPERATOR_2021 = "/article/kubernetes-operator-go/"
OPENSHIFT = "/article/openshift-helm-kustomize/"
NEWEST_FIVE = ["/2026/01/20/ai-agents-tool-calling/", "/2025/09/30/evaluating-llm-answers/",
               "/article/llm-on-cpu-llama-cpp/", "/article/vector-databases-compared/", "/article/lora-qlora-small-gpu/"]
WHICH_POST = "Which post? Give me its title or topic, or say “the second one” after a list."
FROM_WHEN = "From when? For example “2021”, “March 2023” or “last year”."
OUT_OF_SCOPE = "I can only help with this blog: its posts and the topics it covers."


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def texts(result: TurnResult) -> list[str]:
    return [m.text for m in result.messages]


def cited(message: BotMessage) -> list[str]:
    return [c.permalink for c in message.citations]


def only_message(result: TurnResult) -> BotMessage:
    assert len(result.messages) == 1, texts(result)
    return result.messages[0]


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def custom_engine(demo_engine, settings, dialog_yaml, tmp_path, clock=None, store=None) -> DialogEngine:
    """An engine on another dialog, sharing the session's NLU and in-process actions."""
    path = tmp_path / f"dialog-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(textwrap.dedent(dialog_yaml), encoding="utf-8")
    return DialogEngine(load_dialog(path), demo_engine.nlu, demo_engine.actions, store or MemoryTrackerStore(),
                        settings, load_followup_rules(), clock=clock or FakeClock(), today=TODAY)


# -- the nodes of config/dialog.yml -------------------------------------------------------------

def test_welcome_offers_buttons(demo_engine):
    result = demo_engine.respond(new_sender(), None)
    assert result.node == "welcome"
    message = only_message(result)
    assert message.text.startswith("Hi! I answer questions about this blog")
    assert [(b.title, b.payload) for b in message.buttons] == [
        ("What's new?", "What are the latest posts?"), ("Topics", "What topics do you write about?"),
        ("What can you do?", "help")]


def test_welcome_events_include_the_welcome_message(demo_engine):
    events = list(demo_engine.welcome(new_sender()))
    assert isinstance(events[-1], TurnResult)
    shown = [e.text for e in events if isinstance(e, BotMessage)]
    assert shown and shown[0].startswith("Hi! I answer questions about this blog"), (
        f"welcome() yielded no BotMessage event, only {[type(e).__name__ for e in events]}; "
        f"the TurnResult holds {texts(events[-1])}")


def test_greeting_events_and_sequential_variants(demo_engine):
    sender = new_sender()
    events = list(demo_engine.handle(sender, "hi"))
    assert [type(e) for e in events] == [BotMessage, TurnResult]
    assert events[0].text == "Hello! Ask me anything about the blog, or ask for posts on a topic."
    assert events[1].intent == "greeting" and events[1].node == "greeting"
    assert texts(demo_engine.respond(sender, "hello")) == ["Hi again! What would you like to know?"]
    assert texts(demo_engine.respond(sender, "hey there")) == ["Hi again! What would you like to know?"]


def test_help_lists_what_the_assistant_does_with_this_blogs_own_examples(demo_engine):
    sender = new_sender()
    result = demo_engine.respond(sender, "help")
    assert result.intent == "help" and result.node == "help"
    message = only_message(result)
    assert message.text.startswith("I know all 15 posts of Demo Tech Blog. You can:")
    # The examples are the blog's: its first topic, and a question about one of its topics.
    topics = [line for line in texts(demo_engine.respond(new_sender(), "What topics do you write about?"))[0].splitlines()
              if line.startswith("- ")]
    first_topic = topics[0][2:].rsplit(" (", 1)[0]
    assert f"“posts about {first_topic}”" in message.text
    example = message.buttons[0].payload
    assert f"“{example}”" in message.text and example != "$example_question"
    assert [b.payload for b in message.buttons[1:]] == ["What are the latest posts?", "What topics do you write about?"]
    # The example question is one the blog answers: pressing it cites a post.
    answer = demo_engine.respond(sender, example)
    assert any(cited(m) for m in answer.messages), texts(answer)


def test_about_author_fills_the_author_variable(demo_engine):
    result = demo_engine.respond(new_sender(), "who writes this blog?")
    assert result.intent == "about_author"
    # $blog_title and $author come from the demo blog's _config.yml (title, author.name), $about_url from its
    # about.md (permalink /about/), read at ingest
    assert texts(result) == ["Demo Tech Blog is written by Alex Example: more on [the about page]"
                             "(https://blog.example.com/about/). I'm its assistant: I answer from the posts "
                             "and link to them."]
    assert result.node == "about_author_with_page"


def test_out_of_scope(demo_engine):
    result = demo_engine.respond(new_sender(), "what's the weather like?")
    assert result.intent == "out_of_scope" and result.node == "out_of_scope"
    assert texts(result) == [OUT_OF_SCOPE]


def test_list_topics_and_pressing_a_topic_button(demo_engine):
    sender = new_sender()
    result = demo_engine.respond(sender, "what topics do you write about?")
    assert result.intent == "list_topics"
    message = only_message(result)
    lines = message.text.splitlines()
    assert lines[0] == "The blog writes most about:"
    assert lines[1] == "- llm (6)"          # the demo blog's most frequent topic
    assert 2 < len(lines) <= 13
    assert message.buttons[0].title == "llm" and message.buttons[0].payload == '/find_posts{"topic": "llm"}'
    pressed = demo_engine.respond(sender, message.buttons[0].payload)
    assert pressed.intent == "find_posts"
    listing = only_message(pressed)
    assert listing.text.startswith("Posts about llm:")
    assert listing.citations


def test_latest_posts_are_newest_first(demo_engine):
    result = demo_engine.respond(new_sender(), "what are the latest posts?")
    assert result.intent == "latest_posts"
    message = only_message(result)
    assert message.text.splitlines()[0] == "The newest posts:"
    assert cited(message) == NEWEST_FIVE
    assert [b.title for b in message.buttons] == [f"Summarize #{n}" for n in range(1, 6)]
    assert result.context["knowledge_base_listed_objects"] == NEWEST_FIVE


def test_posts_from_2021_is_the_one_2021_post(demo_engine):
    result = demo_engine.respond(new_sender(), "posts from 2021")
    assert result.intent == "posts_by_date"
    message = only_message(result)
    assert message.text.startswith("Posts from 2021:")
    assert cited(message) == [OPERATOR_2021]
    assert message.citations[0].title == "Writing a Kubernetes Operator in Go"


def test_find_posts_cites_the_tekton_post(demo_engine):
    result = demo_engine.respond(new_sender(), "posts about tekton")
    assert result.intent == "find_posts"
    message = only_message(result)
    assert message.text.startswith("Posts about tekton:")
    assert cited(message)[0] == TEKTON
    assert message.citations[0].url == "https://blog.example.com" + TEKTON
    assert message.buttons[0].payload == '/summarize_post{"mention": "1"}'


def test_uncovered_question_does_not_crash(demo_engine):
    result = demo_engine.respond(new_sender(), "how do I bake sourdough bread?")
    # The NLU calls it out of scope; the out_of_scope node answers.
    assert result.intent == "out_of_scope"
    assert texts(result) == [OUT_OF_SCOPE]


# -- slots ---------------------------------------------------------------------------------------

def test_summarize_asks_which_post_then_summarizes_it(demo_engine):
    sender = new_sender()
    asked = demo_engine.respond(sender, "summarize a post")
    assert asked.intent == "summarize_post"
    assert texts(asked) == [WHICH_POST]
    answered = demo_engine.respond(sender, "the one about RAG")
    message = only_message(answered)
    assert message.text.startswith("Summary of “Retrieval-Augmented Generation from Scratch")
    assert cited(message) == [RAG]


def test_date_slot_reasks_then_fills(demo_engine):
    sender = new_sender()
    assert texts(demo_engine.respond(sender, "show me posts by date")) == [FROM_WHEN]
    assert texts(demo_engine.respond(sender, "xyz")) == [f"Sorry, I didn't get that. {FROM_WHEN}"]
    filled = demo_engine.respond(sender, "2021")
    assert cited(only_message(filled)) == [OPERATOR_2021]


def test_date_slot_gives_up_after_three_failures(demo_engine):
    sender = new_sender()
    assert texts(demo_engine.respond(sender, "show me posts by date")) == [FROM_WHEN]
    assert texts(demo_engine.respond(sender, "xyz")) == [f"Sorry, I didn't get that. {FROM_WHEN}"]
    assert texts(demo_engine.respond(sender, "qwerty")) == [f"Sorry, I didn't get that. {FROM_WHEN}"]
    assert texts(demo_engine.respond(sender, "asdf")) == ["Let's leave that. What else can I do for you?"]
    # The slot is closed: the next message is a turn of its own.
    assert demo_engine.respond(sender, "hi").node == "greeting"


def test_posts_from_without_a_date_offers_choices_then_asks_for_the_date(demo_engine):
    sender = new_sender()
    asked = demo_engine.respond(sender, "posts from")
    assert asked.node == "disambiguation"
    message = only_message(asked)
    assert message.text == "Did you mean:"
    options = [(b.title, b.payload) for b in message.buttons]
    assert ("Find posts from a time", "/posts_by_date") in options
    assert options[-1] == ("None of the above", "/anything_else")
    when = demo_engine.respond(sender, "/posts_by_date")
    assert when.intent == "posts_by_date" and when.text == "posts from"
    assert texts(when) == [FROM_WHEN]
    assert texts(demo_engine.respond(sender, "xyz")) == [f"Sorry, I didn't get that. {FROM_WHEN}"]
    assert cited(only_message(demo_engine.respond(sender, "2021"))) == [OPERATOR_2021]


def test_summarize_the_second_listed_post(demo_engine):
    sender = new_sender()
    demo_engine.respond(sender, "what are the latest posts?")
    result = demo_engine.respond(sender, "summarize the second one")
    assert result.intent == "summarize_post"
    assert result.context["mention"] == "2"
    message = only_message(result)
    assert message.text.startswith("Summary of “How I Evaluate LLM Answers")
    assert cited(message) == [NEWEST_FIVE[1]]


def test_summarize_button_payload(demo_engine):
    sender = new_sender()
    listing = only_message(demo_engine.respond(sender, "what are the latest posts?"))
    payload = listing.buttons[0].payload
    assert payload == '/summarize_post{"mention": "1"}'
    result = demo_engine.respond(sender, payload)
    assert result.intent == "summarize_post"
    assert {"entity": "mention", "value": "1"}.items() <= result.entities[0].items()
    message = only_message(result)
    assert message.text.startswith("Summary of “AI Agents Without the Hype")
    assert cited(message) == [NEWEST_FIVE[0]]


def test_digression_during_a_slot_comes_back_to_it(demo_engine):
    sender = new_sender()
    assert texts(demo_engine.respond(sender, "summarize a post")) == [WHICH_POST]
    digressed = demo_engine.respond(sender, "what's the weather?")
    assert digressed.intent == "out_of_scope"
    assert texts(digressed) == [OUT_OF_SCOPE, WHICH_POST]
    filled = demo_engine.respond(sender, "the one about RAG")
    assert cited(only_message(filled)) == [RAG]


# -- disambiguation ------------------------------------------------------------------------------

def _disambiguation_dialog(intents) -> str:
    """find_posts as in dialog.yml; a titled node per other intent; a plain anything_else."""
    nodes = [{"id": "find_posts", "title": "Find posts on a topic", "condition": "#find_posts",
              "slots": [{"variable": "topic", "check_for": "@quoted_title || @topic", "prompt": "Which topic?"}],
              "action": "action_find_posts"}]
    nodes += [{"id": name, "title": f"Node {name}", "condition": f"#{name}", "response": {"text": f"This is {name}."}}
              for name in sorted(intents) if name != "find_posts"]
    nodes.append({"id": "anything_else", "condition": "anything_else", "response": {"text": "Nothing matched: $query"}})
    return yaml.safe_dump({"nodes": nodes}, sort_keys=False)


def test_disambiguation_options_and_choices(demo_engine, settings, tmp_path):
    settings.nlu.disambiguation_margin = 1.0
    settings.nlu.intent_threshold = 0.0       # the engine's disambiguation only; the shared NLU keeps its own
    engine = custom_engine(demo_engine, settings, _disambiguation_dialog(demo_engine.nlu.intents), tmp_path)
    sender = new_sender()
    question = "what did you write about tekton?"

    asked = engine.respond(sender, question)
    assert asked.node == "disambiguation"
    message = only_message(asked)
    assert message.text == "Did you mean:"
    assert len(message.buttons) == 4           # disambiguation_options (3) + "None of the above"
    assert (message.buttons[0].title, message.buttons[0].payload) == ("Find posts on a topic", "/find_posts")
    assert all(b.title.startswith("Node ") and b.payload.startswith("/") for b in message.buttons[1:3])
    assert (message.buttons[-1].title, message.buttons[-1].payload) == ("None of the above", "/anything_else")

    # Pressing an option runs its node on the original text (whose topic fills the slot).
    chosen = engine.respond(sender, "/find_posts")
    assert chosen.node == "find_posts" and chosen.intent == "find_posts" and chosen.text == question
    listing = only_message(chosen)
    assert listing.text.startswith("Posts about tekton:")
    assert cited(listing)[0] == TEKTON

    # "None of the above" goes to anything_else, still with the original text.
    assert engine.respond(sender, question).node == "disambiguation"
    none = engine.respond(sender, "/anything_else")
    assert none.node == "anything_else" and none.intent is None
    assert texts(none) == [f"Nothing matched: {question}"]


# -- follow-ups ----------------------------------------------------------------------------------

def test_tell_me_more_after_a_list_summarizes_the_post(demo_engine):
    sender = new_sender()
    demo_engine.respond(sender, "posts about tekton")
    result = demo_engine.respond(sender, "tell me more")
    assert result.intent == "summarize_post"
    message = only_message(result)
    assert message.text.startswith("Summary of “Tekton Pipelines on Kubernetes")
    assert cited(message) == [TEKTON]


def test_tell_me_more_refers_to_the_list_just_shown(demo_engine):
    sender = new_sender()
    assert cited(only_message(demo_engine.respond(sender, "summarize the one about RAG"))) == [RAG]
    assert cited(only_message(demo_engine.respond(sender, "posts about tekton"))) == [TEKTON]
    message = only_message(demo_engine.respond(sender, "tell me more"))
    assert cited(message) == [TEKTON], f"'tell me more' after the Tekton list summarized {cited(message)}"


def test_which_of_them_is_the_newest(demo_engine):
    sender = new_sender()
    listing = only_message(demo_engine.respond(sender, "posts about kubernetes"))
    listed = cited(listing)
    assert OPENSHIFT in listed and "/2026/01/20/ai-agents-tool-calling/" not in listed
    result = demo_engine.respond(sender, "which of them is the newest?")
    assert result.intent == "latest_posts"
    message = only_message(result)
    # Deploying to OpenShift (February 2022) is the newest of the listed posts, not of the blog.
    assert message.text == ("The newest of those is [Deploying to OpenShift: Helm or Kustomize?]"
                            "(https://blog.example.com/article/openshift-helm-kustomize/) (February 2022).")
    assert cited(message) == [OPENSHIFT]


def test_what_about_keeps_the_intent_with_a_new_topic(demo_engine):
    sender = new_sender()
    demo_engine.respond(sender, "posts about tekton")
    result = demo_engine.respond(sender, "what about kubernetes?")
    assert result.intent == "find_posts"
    assert result.context["topic"] == "kubernetes"
    message = only_message(result)
    assert message.text.startswith("Posts about kubernetes:")
    assert OPERATOR_2021 in cited(message) and len(cited(message)) > 1


# -- generated answers (a few seconds each) ------------------------------------------------------

@pytest.fixture(scope="module")
def rag_conversation(demo_engine):
    """A question, "what about fine-tuning?", then "tell me more": each turn's events."""
    sender = new_sender()
    return [list(demo_engine.handle(sender, text))
            for text in ("what is retrieval augmented generation?", "what about fine-tuning?", "tell me more")]


def test_answer_streams_tokens_then_a_cited_message(rag_conversation):
    events = rag_conversation[0]
    assert isinstance(events[-1], TurnResult) and events[-1].intent == "ask_question"
    kinds = [type(e) for e in events]
    assert Token in kinds and BotMessage in kinds
    assert max(i for i, k in enumerate(kinds) if k is Token) < kinds.index(BotMessage)
    final = [e for e in events if isinstance(e, BotMessage)][-1]
    assert final.abstained is False
    assert RAG in cited(final)
    for token in (e for e in events if isinstance(e, Token)):
        assert token.text.strip() in final.text      # the draft shown is what the answer says


def test_what_about_rewrites_the_question(rag_conversation):
    result = rag_conversation[1][-1]
    assert result.intent == "ask_question"
    query = result.context["query"]
    assert "fine-tuning" in query.lower() and "retrieval augmented generation" not in query.lower(), query
    answer = [e for e in rag_conversation[1] if isinstance(e, BotMessage)][-1]
    assert answer.citations


def test_tell_me_more_after_an_answer_summarizes_its_post(rag_conversation):
    answer = [e for e in rag_conversation[1] if isinstance(e, BotMessage)][-1]
    result = rag_conversation[2][-1]
    assert result.intent == "summarize_post"
    message = only_message(result)
    assert message.text.startswith("Summary of “")
    assert cited(message) == [answer.citations[0].permalink]


# -- sessions and tracker stores -----------------------------------------------------------------

def test_session_times_out(demo_engine, settings, tmp_path):
    clock = FakeClock()
    engine = DialogEngine(demo_engine.config, demo_engine.nlu, demo_engine.actions, MemoryTrackerStore(), settings,
                          load_followup_rules(), clock=clock, today=TODAY)
    timeout_s = settings.dialog.session_timeout_minutes * 60
    sender = new_sender()
    first = engine.respond(sender, "posts about tekton")
    assert first.new_session is True
    clock.now += timeout_s - 60
    within = engine.respond(sender, "hi")
    assert within.new_session is False
    assert within.context["knowledge_base_listed_objects"] == [TEKTON]
    clock.now += timeout_s + 60
    later = engine.respond(sender, "hi")
    assert later.new_session is True
    assert "knowledge_base_listed_objects" not in later.context and "topic" not in later.context
    assert later.context["author"] == "Alex Example"
    assert texts(later) == ["Hello! Ask me anything about the blog, or ask for posts on a topic."]   # counters reset


def test_sqlite_conversation_survives_a_restart(demo_engine, settings, tmp_path):
    def engine():
        return DialogEngine(demo_engine.config, demo_engine.nlu, demo_engine.actions, open_tracker_store("sqlite", tmp_path),
                            settings, load_followup_rules(), today=TODAY)

    sender = new_sender()
    listing = only_message(engine().respond(sender, "posts about kubernetes"))
    assert (tmp_path / "conversations.sqlite3").is_file()
    restarted = engine().respond(sender, "summarize the second one")
    assert restarted.new_session is False
    assert cited(only_message(restarted)) == [cited(listing)[1]]


# -- a custom dialog -----------------------------------------------------------------------------

CUSTOM_DIALOG = """\
context:
  reader: "Ada"
nodes:
  - id: vip
    condition: "#greeting && $vip"
    response:
      text: "Welcome back, $reader."
  - id: greeting
    condition: "#greeting"
    response:
      text: ["First hello, $reader.", "Second hello.", "Last hello."]
      selection: sequential
  - id: help
    condition: "#help"
    response:
      text: ["Line one.", "Line two."]
      selection: multiline
  - id: goodbye
    condition: "#goodbye"
    response:
      text: ["Bye.", "Farewell.", "See you."]
      selection: random
  - id: thanks
    condition: "#thanks"
    context:
      vip: true
    response:
      text: "You are a VIP now."
  - id: news
    condition: "#latest_posts"
    response:
      text: "Let me look."
    jump_to: landing
  - id: landing
    condition: "false"
    response:
      text: "Here is what's new, $reader:"
    action: action_latest_posts
  - id: anything_else
    condition: anything_else
    response:
      text: "Fallback."
"""


@pytest.fixture
def custom(demo_engine, settings, tmp_path):
    return custom_engine(demo_engine, settings, CUSTOM_DIALOG, tmp_path)


def test_sequential_cycles_then_stays_on_the_last(custom):
    sender = new_sender()
    said = [texts(custom.respond(sender, "hi")) for _ in range(4)]
    assert said == [["First hello, Ada."], ["Second hello."], ["Last hello."], ["Last hello."]]


def test_multiline_joins_the_variants(custom):
    assert texts(custom.respond(new_sender(), "help")) == ["Line one.\nLine two."]


def test_random_picks_a_variant(custom):
    sender = new_sender()
    for _ in range(3):
        assert texts(custom.respond(sender, "bye")) in (["Bye."], ["Farewell."], ["See you."])


def test_node_context_and_conditions_on_it(custom):
    sender = new_sender()
    assert custom.respond(sender, "hi").node == "greeting"
    thanked = custom.respond(sender, "thanks")
    assert texts(thanked) == ["You are a VIP now."] and thanked.context["vip"] is True
    assert texts(custom.respond(sender, "hi")) == ["Welcome back, Ada."]


def test_jump_to_runs_the_target_response_and_action(custom):
    result = custom.respond(new_sender(), "what are the latest posts?")
    assert result.intent == "latest_posts"
    assert result.node == "landing"
    assert [m.text.splitlines()[0] for m in result.messages] == ["Let me look.", "Here is what's new, Ada:",
                                                                  "The newest posts:"]
    assert cited(result.messages[-1]) == NEWEST_FIVE


def test_anything_else_catches_the_rest(custom):
    result = custom.respond(new_sender(), "xyz")
    assert result.intent is None and result.node == "anything_else"
    assert texts(result) == ["Fallback."]


def test_when_did_the_blog_first_write_about_gets_a_date_even_when_taken_for_a_search(demo_engine):
    """The NLU takes "when did you first write about X?" for a request for posts; the answer is still
    the earliest post about X with its month, not a list."""
    result = demo_engine.respond(new_sender(), "When did you first write about Tekton?")
    message = result.messages[-1]
    assert message.text.startswith("The earliest post I found on this is “Tekton Pipelines on Kubernetes")
    assert "(November 2020)" in message.text
    assert cited(message)[0] == "/article/tekton-pipelines/"
