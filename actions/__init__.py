"""rasa-sdk action handlers. Thin: the work lives in `knowledge`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor

    from actions.service import Knowledge


def build_executor(knowledge: Knowledge) -> ActionExecutor:
    """rasa-sdk's executor with one instance of every action, each given the blog's `knowledge`
    (an `actions.service.Knowledge`)."""
    from rasa_sdk.executor import ActionExecutor

    from actions.answer_question import ActionAnswerQuestion
    from actions.feedback import ActionFeedback
    from actions.posts import ActionFindPosts, ActionLatestPosts, ActionListTopics, ActionPostsByDate
    from actions.summarize_post import ActionSummarizePost

    executor = ActionExecutor()
    for action in (ActionAnswerQuestion, ActionFeedback, ActionFindPosts, ActionLatestPosts, ActionListTopics,
                   ActionPostsByDate, ActionSummarizePost):
        executor.register_action(action(knowledge))
    return executor
