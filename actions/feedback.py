"""action_feedback: the reader says the last answer was good or bad; store it."""

from __future__ import annotations

import logging

from rasa_sdk import Action

from actions.service import BlogAction

log = logging.getLogger(__name__)


class ActionFeedback(BlogAction, Action):
    def name(self) -> str:
        return "action_feedback"

    def run(self, dispatcher, tracker, domain):
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating = "up" if intent == "feedback_positive" else "down"
        last = tracker.get_slot("last_answer") or {}
        self.knowledge.feedback.record(tracker.sender_id, rating, message_id=last.get("id"),
                                     comment=tracker.latest_message.get("text"), question=last.get("question"),
                                     answer=last.get("text"))
        return []
