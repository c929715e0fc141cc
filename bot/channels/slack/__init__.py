"""The Slack channel (slack-bolt): mentions and DMs answered in threads, with Block Kit."""
