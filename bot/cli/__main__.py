"""`python -m bot.cli`: the `blogbot` command line."""

from bot.cli.main import run

run()
