"""Channels: the web API and widget, Slack, the terminal, and the admission control they share."""
