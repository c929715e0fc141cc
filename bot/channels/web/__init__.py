"""The web channel: the chat HTTP API (FastAPI), the widget and its demo page."""
