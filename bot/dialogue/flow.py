"""Watson's dialog flow over the node tree: which node takes a turn and what runs after it.

A turn starts where the last one left off (`conversation.pending`): a slot being filled
(`bot/dialogue/frames.py`), the children of the node that answered last, or the node a
`jump_to … user_input` named; otherwise the root nodes, top to bottom. Folders are transparent, their
condition gating their nodes. When a node has run, its `next_step` decides: wait for the reader (its
children take the next input), go on to its children now (`skip_user_input`), `jump_to` a node
(selector `body`: run it; `condition`: try it and the siblings after it; `user_input`: wait, then try
it), or `return`. Input that the waiting node's children do not take goes to the root nodes, a
digression: `digress_in` / `digress_out` / `digress_out_slots` say where it may go and whether the
conversation comes back, which happens when the digression's branch ends (the interrupted node's
response or slot prompt is said again). Defaults where a key is absent are blogbot's (digressions
allowed and returning); `blogbot import-watson` writes Watson's defaults out explicitly.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterator

from bot.dialogue.config import DialogConfig, DialogNode, Handler, NextStep, Response
from bot.dialogue.expressions import resolve_context_value
from bot.dialogue.frames import Frames
from bot.dialogue.messages import BotMessage
from bot.dialogue.responses import response_messages

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn

log = logging.getLogger(__name__)

MAX_STEPS = 50          # nodes one turn may run: a guard against jump_to loops in a skill
FALLBACK_ACTION = "action_answer_question"


class DialogFlow:
    """Runs the dialog tree for a turn. `say` records a message; `call_action` runs an action and
    yields its streamed tokens; `skill_fallback` "blog" lets the blog answer where anything_else would."""

    def __init__(self, config: DialogConfig, say: Callable[[Turn, BotMessage], None],
                 call_action: Callable[[str, Turn], Iterator], skill_fallback: str = "none"):
        self.config = config
        self.say = say
        self.call_action = call_action
        self.skill_fallback = skill_fallback
        self.frames = Frames(self)

    # -- entry points ---------------------------------------------------------------------------

    def welcome(self, turn: Turn) -> Iterator:
        """The conversation opens, before the reader says anything (`welcome` and `conversation_start`
        hold): run the first root node whose condition holds, unless that is the anything_else node."""
        node = self.first(self.config.nodes, turn)
        if node is not None and node.condition.source.strip() != "anything_else":
            yield from self.visit(node, turn)
        yield from self.finish(turn)

    def respond(self, turn: Turn, pending: dict | None) -> Iterator:
        """Take the reader's input where the conversation was left (`pending`), then come back from a
        digression whose branch has ended."""
        conversation = turn.conversation
        conversation.pending = None
        kind = (pending or {}).get("kind")
        if kind == "slot" and not isinstance(pending.get("slot"), int):
            kind = None         # kept by an older blogbot (the slot by name): start over at the root
        if kind == "slot" and pending["node"] in self.config.by_id:
            yield from self.frames.resume(turn, pending)
        elif kind == "children" and pending["node"] in self.config.by_id:
            node = self.config.node(pending["node"])
            child = self.first(node.children, turn)
            if child is not None:
                yield from self.visit(child, turn)
            else:
                yield from self.digress(turn, pending, node, from_slot=False)
        elif kind == "at" and pending["node"] in self.config.by_id:
            yield from self.from_node(self.config.node(pending["node"]), turn, 0)
        else:
            node = self.first(self.config.nodes, turn)
            if node is not None:
                yield from self.visit(node, turn)
        yield from self.finish(turn)

    def finish(self, turn: Turn) -> Iterator:
        """When this turn ended a branch and a digression is to return: say the interrupted node's
        response (or its slot's prompt) again and wait where it waited."""
        conversation = turn.conversation
        turn.flags["returning_from_digression"] = True
        while conversation.pending is None and conversation.stack:
            entry = conversation.stack.pop()
            pending, node = entry["pending"], self.config.by_id.get(entry["node"])
            if node is None:
                continue
            if pending.get("kind") == "slot":
                # A frame asks for what it still needs; one that has all of it (filled another way
                # meanwhile) is not returned to.
                yield from self.frames.ask_again(node, pending, turn)
                continue
            conversation.pending = pending
            if node.response is not None:
                self.speak(node.response, turn, node.id)
            for index, handler in enumerate(node.responses):
                if handler.condition.evaluate(turn):
                    if handler.response is not None:
                        self.speak(handler.response, turn, handler.id or f"{node.id}:responses:{index}")
                    break
        turn.flags.pop("returning_from_digression", None)

    # -- choosing nodes -------------------------------------------------------------------------

    def candidates(self, siblings: list[DialogNode], turn: Turn, digress_in: str | None = None) -> Iterator[
            tuple[DialogNode, str | None]]:
        """(node, its digress_in, a folder's passed down) of the siblings in order, folders opened when
        their condition holds."""
        for node in siblings:
            inherited = node.digress_in or digress_in
            if node.type == "folder":
                if node.condition.evaluate(turn):
                    yield from self.candidates(node.children, turn, inherited)
            else:
                yield node, inherited

    def first(self, siblings: list[DialogNode], turn: Turn) -> DialogNode | None:
        """The first of the siblings (folders opened) whose condition holds."""
        return next((node for node, _ in self.candidates(siblings, turn) if node.condition.evaluate(turn)), None)

    def from_node(self, target: DialogNode, turn: Turn, depth: int) -> Iterator:
        """jump_to with selector condition: the target if its condition holds, else the first sibling
        after it that holds, else the root nodes."""
        after: list[DialogNode] = []
        node = target
        while True:         # the target and its next siblings, then (out of a folder) the folder's next siblings
            siblings = node.parent.children if node.parent is not None else self.config.nodes
            after += siblings[siblings.index(node) + (0 if node is target else 1):]
            if node.parent is None or node.parent.type != "folder":
                break
            node = node.parent
        chosen = self.first(after, turn) or self.first(self.config.nodes, turn)
        if chosen is not None:
            yield from self.visit(chosen, turn, depth + 1)

    def digress(self, turn: Turn, pending: dict, origin: DialogNode, from_slot: bool) -> Iterator:
        """Input the current node does not take, tried on the root nodes its digression settings allow;
        remembers to come back when the node taken returns. Returns whether a node was taken."""
        allowed = (origin.digress_out_slots or "allow_returning") if from_slot else (origin.digress_out or "allow_all")
        if allowed == "not_allowed":
            return False
        for node, digress_in in self.candidates(self.config.nodes, turn):
            digress_in = digress_in or "returns"
            if (node is origin and from_slot) or digress_in == "not_available":
                continue
            if allowed == "allow_returning" and digress_in != "returns":
                continue
            if from_slot and node.condition.source.strip() == "anything_else":
                continue
            if not node.condition.evaluate(turn):
                continue
            if digress_in == "returns" and allowed != "allow_all_never_return":
                turn.conversation.stack.append({"pending": pending, "node": origin.id})
            yield from self.visit(node, turn)
            return True
        return False

    # -- running nodes --------------------------------------------------------------------------

    def visit(self, node: DialogNode, turn: Turn, depth: int = 0) -> Iterator:
        """Run a node (its condition already decided): its slots first if it is a frame, then the rest."""
        if depth > MAX_STEPS:
            log.error("dialog: more than %d nodes in one turn at %s (a jump_to loop?); stopped", MAX_STEPS, node.id)
            return
        turn.node = node.id
        stack = turn.conversation.stack
        stack[:] = [entry for entry in stack if entry["node"] != node.id]   # entered again: nothing to return to
        if node.slots:
            complete = yield from self.frames.enter(node, turn)
            if not complete:
                return
        yield from self.complete(node, turn, depth)

    def complete(self, node: DialogNode, turn: Turn, depth: int = 0) -> Iterator:
        """A node whose slots are filled: its context, response (or the first response condition that
        holds), action, then its next step."""
        turn.node = node.id
        if self.skill_fallback == "blog" and node.condition.source.strip() == "anything_else":
            yield from self.call_action(FALLBACK_ACTION, turn)     # the blog answers where the skill has nothing
            return
        step = node.next_step
        self.apply_context(node.context, turn)
        if node.response is not None:
            self.speak(node.response, turn, node.id)
        chosen = self.run_handler(node.responses, turn, f"{node.id}:responses")
        if chosen is not None and chosen.next_step is not None:
            step = chosen.next_step
        if node.action:
            yield from self.call_action(node.action, turn)
        if turn.cancel is not None and turn.cancel.is_set():
            return
        yield from self.next_step(node, step, turn, depth)

    def next_step(self, node: DialogNode, step: NextStep | None, turn: Turn, depth: int) -> Iterator:
        """Wait (the node's children take the next input), go on to the children now, jump, or return."""
        behavior = step.behavior if step is not None else "get_user_input"
        conversation = turn.conversation
        if behavior == "jump_to":
            target = self.config.node(step.node)
            if step.selector == "user_input":
                conversation.pending = {"kind": "at", "node": target.id}
            elif step.selector == "condition":
                yield from self.from_node(target, turn, depth)
            else:
                yield from self.visit(target, turn, depth + 1)
        elif behavior == "skip_user_input":
            child = self.first(node.children, turn) or self.first(self.config.nodes, turn)
            if child is not None:
                yield from self.visit(child, turn, depth + 1)
        elif behavior != "return" and node.children and conversation.pending is None:
            conversation.pending = {"kind": "children", "node": node.id}

    def run_handler(self, handlers: list[Handler], turn: Turn, key: str) -> Handler | None:
        """The first handler whose condition holds: its context set, its response said. None if none holds."""
        for index, handler in enumerate(handlers):
            if handler.condition.evaluate(turn):
                self.apply_context(handler.context, turn)
                if handler.response is not None:
                    self.speak(handler.response, turn, handler.id or f"{key}:{index}")
                return handler
        return None

    def apply_context(self, values: dict, turn: Turn) -> None:
        """Set context variables, in order, each value evaluated as Watson does (<? ?>, $var, @entity);
        null removes a variable."""
        context = turn.conversation.context
        for name, value in values.items():
            resolved = resolve_context_value(value, turn.scope())
            if resolved is None:
                context.pop(name, None)
            elif isinstance(resolved, dict) and isinstance(context.get(name), dict):
                context[name] = {**context[name], **resolved}      # JSON objects are merged, as in Watson
            else:
                context[name] = resolved

    def speak(self, response: Response, turn: Turn, key: str) -> None:
        """Say a response now."""
        for message in response_messages(response, turn.scope(), key, self.config.messages["agent_handoff"]):
            self.say(turn, message)
