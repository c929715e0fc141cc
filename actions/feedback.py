"""action_feedback: the reader says the last answer was good or bad; store it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action

from actions.service import BlogAction

if TYPE_CHECKING:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher
    from rasa_sdk.types import DomainDict

log = logging.getLogger(__name__)


class ActionFeedback(BlogAction, Action):
    """`action_feedback`: stores the reader's rating of the last answer."""

    def name(self) -> str:
        """The action's name in the dialogue config."""
        return "action_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Record the rating (feedback_positive: up, else down) of the `last_answer` slot; no slot events."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating = "up" if intent == "feedback_positive" else "down"
        last = tracker.get_slot("last_answer") or {}
        self.knowledge.feedback.record(tracker.sender_id, rating, message_id=last.get("id"),
                                     comment=tracker.latest_message.get("text"), question=last.get("question"),
                                     answer=last.get("text"))
        return []
