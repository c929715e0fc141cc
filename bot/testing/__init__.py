"""Scripted conversation tests: the script format, the runner and the recorder."""
