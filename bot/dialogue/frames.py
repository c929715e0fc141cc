"""Slots: a frame node collects values before it answers, Watson Assistant style.

Entering a frame, and at each input while one of its slots is asked for, every active slot whose
`check_for` holds is filled (its `context` applied, else the variable set from the entity found;
a filled slot takes a new value too); then the first `found` handler that holds of each slot filled
runs (`reprompt` clears the slot again, `skip_all_slots` goes to the frame's response). Input that
fills nothing goes, in order, to the slot's and the frame's `handlers`, to a digression, to the
slot's `not_found` handlers, else blogbot's own: the reader's words as the value (`accept_text`) or
"Sorry, I didn't get that" and the prompt again, giving up after a few tries. Then the first empty
slot with a prompt is asked for; when none is left the frame answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from bot.dialogue.config import DialogNode, Slot
from bot.dialogue.messages import BotMessage
from bot.dialogue.responses import response_messages

if TYPE_CHECKING:
    from bot.dialogue.config import DialogConfig, Handler, Response
    from bot.dialogue.turn import Turn

MAX_SLOT_TRIES = 3      # blogbot's retry, for slots with no not_found handler: then it lets the slot go


class Flow(Protocol):
    """What slot filling uses of the dialog flow (`bot/dialogue/flow.py`)."""

    config: DialogConfig
    say: Callable

    def speak(self, response: Response, turn: Turn, key: str) -> None:
        """Say a response now."""

    def run_handler(self, handlers: list[Handler], turn: Turn, key: str) -> Handler | None:
        """Run the first handler whose condition holds."""

    def apply_context(self, values: dict, turn: Turn) -> None:
        """Set context variables."""

    def complete(self, node: DialogNode, turn: Turn, depth: int = 0) -> Iterator:
        """Answer with a node whose slots are filled, then take its next step."""

    def digress(self, turn: Turn, pending: dict, origin: DialogNode, from_slot: bool) -> Iterator:
        """Try the input on the root nodes; whether one was taken."""


class Frames:
    """The slot filling of a DialogFlow."""

    def __init__(self, flow: Flow):
        self.flow = flow

    def enter(self, node: DialogNode, turn: Turn) -> Iterator:
        """Start a frame: fill what the input gives, ask for the first missing slot. Returns (as the
        generator's value) whether every slot is filled."""
        context = turn.conversation.context
        if node.type != "frame":        # a node of blogbot's own with slots: they start empty each time
            for slot in node.slots:
                context.pop(slot.variable, None)
        if node.id not in turn.used_input:      # a frame jumped to again this turn does not take the same input twice
            turn.used_input.add(node.id)
            if self.after_filling(node, self.fill(node, turn), turn):
                self._state(node, turn, [])
                return True
        done = yield from self._prompt_next(node, turn, [])
        self._state(node, turn, [])
        return done

    def ask_again(self, node: DialogNode, pending: dict, turn: Turn) -> Iterator:
        """Back from a digression: ask for the slot still missing (none missing: the frame answers)."""
        skipped = list(pending.get("skipped") or [])
        if (yield from self._prompt_next(node, turn, skipped)):
            self._state(node, turn, skipped)
            yield from self.flow.complete(node, turn)

    def resume(self, turn: Turn, pending: dict) -> Iterator:
        """The reader answers while a slot of the frame is asked for."""
        node = self.flow.config.node(pending["node"])
        slot = node.slots[pending["slot"]]
        skipped = list(pending.get("skipped") or [])
        turn.node = node.id
        turn.flags["slot_in_focus"] = True
        turn.used_input.add(node.id)
        filled = self.fill(node, turn)
        turn.flags.pop("slot_in_focus", None)
        if filled:
            if self.after_filling(node, filled, turn) or (yield from self._prompt_next(node, turn, skipped)):
                self._state(node, turn, skipped)
                yield from self.flow.complete(node, turn)
            return
        handler = self.flow.run_handler(slot.handlers + node.handlers, turn, node.id)
        if handler is not None:
            yield from self._step(node, slot, pending, handler.next_step.behavior if handler.next_step else "reprompt",
                                  turn, skipped)
            return
        taken = yield from self.flow.digress(turn, pending, node, from_slot=True)
        if taken:
            return
        handler = self.flow.run_handler(slot.not_found, turn, node.id)
        if handler is not None:
            yield from self._step(node, slot, pending, handler.next_step.behavior if handler.next_step else "wait",
                                  turn, skipped)
            return
        if node.type == "frame":
            yield from self._watson_fallback(node, slot, pending, turn)
        else:
            yield from self._own_fallback(node, slot, pending, turn, skipped)

    def fill(self, node: DialogNode, turn: Turn) -> list[Slot]:
        """Fill the active slots whose check_for holds; the slots filled, in order (a variable once)."""
        filled: list[Slot] = []
        for slot in node.slots:
            if slot.condition is not None and not slot.condition.evaluate(turn):
                continue
            if any(other.variable == slot.variable for other in filled) or not slot.check_for.evaluate(turn):
                continue
            self._set_value(slot, turn)
            filled.append(slot)
        return filled

    def after_filling(self, node: DialogNode, filled: list[Slot], turn: Turn) -> bool:
        """Run the found handlers of the slots just filled; True when one skips to the frame's response."""
        for slot in filled:
            handler = self.flow.run_handler(slot.found, turn, node.id)
            behavior = handler.next_step.behavior if handler is not None and handler.next_step else None
            if behavior == "reprompt":
                turn.conversation.context.pop(slot.variable, None)
            elif behavior == "skip_all_slots":
                return True
        return False

    def prompt(self, node: DialogNode, slot: Slot, turn: Turn) -> None:
        """Ask for a slot."""
        if slot.prompt is not None:
            self.flow.speak(slot.prompt, turn, f"{node.id}:{slot.variable}")

    def _prompt_next(self, node: DialogNode, turn: Turn, skipped: list[int]) -> Iterator:
        """Ask for the first active, required, empty slot not skipped; True (the generator's value)
        when there is none."""
        context = turn.conversation.context
        for index, slot in enumerate(node.slots):
            if slot.prompt is None or index in skipped or context.get(slot.variable) is not None:
                continue
            if slot.condition is not None and not slot.condition.evaluate(turn):
                continue
            turn.conversation.pending = {"kind": "slot", "node": node.id, "slot": index, "tries": 0,
                                         "skipped": skipped}
            self.prompt(node, slot, turn)
            return False
        yield from ()
        return True

    def _step(self, node: DialogNode, slot: Slot, pending: dict, behavior: str, turn: Turn,
              skipped: list[int]) -> Iterator:
        """After a handler: skip to the response, skip this slot, prompt again, or wait for input."""
        if behavior == "skip_all_slots":
            yield from self.flow.complete(node, turn)
            return
        if behavior == "skip_slot":
            if (yield from self._prompt_next(node, turn, skipped + [pending["slot"]])):
                yield from self.flow.complete(node, turn)
            return
        turn.conversation.pending = pending
        if behavior == "reprompt":
            self.prompt(node, slot, turn)

    def _watson_fallback(self, node: DialogNode, slot: Slot, pending: dict, turn: Turn) -> Iterator:
        """A frame's input that nothing took: the root anything_else node answers (and the frame is
        returned to if that node returns), or, where the frame keeps the reader, the prompt again."""
        fallback = next((n for n, _ in self.flow.candidates(self.flow.config.nodes, turn)
                         if n.condition.source.strip() == "anything_else"), None)
        allowed = node.digress_out_slots or "allow_returning"
        returns = fallback is not None and (fallback.digress_in or "returns") == "returns"
        if fallback is None or allowed == "not_allowed" or (allowed == "allow_returning" and not returns):
            turn.conversation.pending = pending         # the input is ignored; the slot is asked for again
            self.prompt(node, slot, turn)
            return
        if returns:
            turn.conversation.stack.append({"pending": pending, "node": node.id})
        yield from self.flow.visit(fallback, turn)

    def _state(self, node: DialogNode, turn: Turn, skipped: list[int]) -> None:
        """all_slots_filled and has_skipped_slots, for the frame's response and handlers."""
        context = turn.conversation.context
        turn.flags["all_slots_filled"] = all(context.get(s.variable) is not None for s in node.slots if s.prompt)
        turn.flags["has_skipped_slots"] = bool(skipped)

    def _own_fallback(self, node: DialogNode, slot: Slot, pending: dict, turn: Turn, skipped: list[int]) -> Iterator:
        """blogbot's slots: take the reader's words as the value (accept_text), else say so and ask
        again, up to MAX_SLOT_TRIES times."""
        text = turn.parse.text.strip()
        if slot.accept_text and text:
            context = turn.conversation.context
            context[slot.variable] = text
            context[f"{slot.variable}_entity"] = "text"
            context[f"{slot.variable}_text"] = text
            if (yield from self._prompt_next(node, turn, skipped)):
                yield from self.flow.complete(node, turn)
            return
        messages = self.flow.config.messages
        tries = pending.get("tries", 0) + 1
        if tries >= MAX_SLOT_TRIES:
            self.flow.say(turn, BotMessage(messages["slot_given_up"]))
            return
        turn.conversation.pending = {**pending, "tries": tries}
        prompts = response_messages(slot.prompt, turn.scope(), f"{node.id}:{slot.variable}",
                                    messages["agent_handoff"]) if slot.prompt is not None else []
        first = prompts[0] if prompts else BotMessage("")
        self.flow.say(turn, BotMessage(f"{messages['slot_retry']} {first.text}".strip(), buttons=first.buttons))
        for message in prompts[1:]:
            self.flow.say(turn, message)

    def _set_value(self, slot: Slot, turn: Turn) -> None:
        """The slot's value: its context (Watson's input handler) when it has one; else the first entity
        its check_for names that the input has, with the entity's name and the words it was found in."""
        context = turn.conversation.context
        if slot.context:
            self.flow.apply_context(slot.context, turn)
            if context.get(slot.variable) is not None:
                return
        parse = turn.parse
        for name in slot.check_for.references():
            entity = parse.entity(name)
            if entity is not None:
                context[slot.variable] = entity.value
                context[f"{slot.variable}_entity"] = name
                context[f"{slot.variable}_text"] = parse.text[entity.start:entity.end] if entity.end > entity.start \
                    else str(entity.value)
                return
        context[slot.variable] = parse.text.strip()
