"""The `blogbot` command line: one module per command group (`knowledge_commands`,
`dialogue_commands`), what they share (`common`), and the parser and entry point (`main`)."""
