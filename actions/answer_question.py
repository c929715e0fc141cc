"""action_answer_question: answer from the posts, streaming the tokens, with citations."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions.service import BlogAction, Knowledge, last_post_events
from knowledge.answers.composer import Final
from knowledge.answers.output import Token
from knowledge.threads import in_thread

if TYPE_CHECKING:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher
    from rasa_sdk.types import DomainDict


class ActionAnswerQuestion(BlogAction, Action):
    """`action_answer_question`: the answer to the reader's question, from the posts, with citations."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Answer the `query` slot (else the message's text), streaming it; return the slot events."""
        return await answer_question(self.knowledge, tracker.get_slot("query") or tracker.latest_message.get("text") or "",
                                     dispatcher)


async def answer_question(kb: Knowledge, question: str, dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """Stream the composer's answer to `question` through the dispatcher; return the slot events."""
    composer = kb.composer
    answer = None
    cancel = threading.Event()      # set by in_thread when the action is cancelled (the reader left)
    async for event in in_thread(composer.stream_answer(question, cancel), cancel):
        if isinstance(event, Token):
            # `draft`: a piece of the text shown while it is written; the final message repeats it whole.
            await dispatcher.stream_chunk(text=event.text, draft=True)
        elif isinstance(event, Final):
            answer = event.answer
    await dispatcher.stream_end()
    cites = [{"number": c.number, "title": c.title, "url": c.url, "permalink": c.permalink} for c in answer.citations]
    events = [SlotSet("last_question", question)]
    buttons = []
    if answer.citations:
        events += last_post_events(answer.citations[0].permalink)
    if answer.abstained and answer.related:
        by_permalink = {p.permalink: p for p in kb.retriever.current_posts().values()}
        posts = [by_permalink[r.permalink] for r in answer.related if r.permalink in by_permalink]
        listing, cites, buttons = kb.post_list(posts, "")
        events.append(SlotSet("knowledge_base_listed_objects", [p.permalink for p in posts]))
        text = answer.text.rstrip() + "\n" + listing
    else:
        text = answer.text
        if answer.mode == "listed":   # "summarize the second one" refers to this list
            events.append(SlotSet("knowledge_base_listed_objects", [c.permalink for c in answer.citations]))
    dispatcher.utter_message(text=text, buttons=buttons,
                             json_message={"citations": cites, "abstained": answer.abstained, "mode": answer.mode,
                                           "timings": answer.timings})
    return events
