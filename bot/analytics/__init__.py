"""What readers asked and how it went: every turn of the web and Slack channels recorded for the
blogger (`records`), and the report made of them (`report`: figures, content gaps grouped by
meaning in `clusters`, the page in `page`; the Slack digest is bot.channels.slack.digest)."""
