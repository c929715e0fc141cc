"""The `blogbot` command line: one module per command group (knowledge, dialogue), what they share
(common), and the parser and entry point (main)."""
