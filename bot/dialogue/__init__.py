"""The dialogue layer: the turn loop and sessions, dialog config, conditions, follow-ups, tracker stores, the action protocol and the messages channels get."""
