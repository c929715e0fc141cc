"""`blogbot config show`: the effective settings (settings.yml, the environment's BLOGBOT_<SECTION>__<KEY>
overrides, the defaults), each with where its value came from; secrets masked."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict

from bot.cli.common import UsageError

_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api_key)$", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"(?P<name>[?&][\w.-]*(?:password|passwd|token|secret|key)[\w.-]*=)(?P<value>[^&#\s]+)",
                           re.IGNORECASE)
MASK = "****"


def masked(key: str, value: object) -> object:
    """`value` fit to print: a secret-named key's value hidden, a password inside a URL or a secret
    in its query (password=, token=, api_key=…) hidden."""
    if _SECRET_KEY.search(key) and value not in ("", None):
        return MASK
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
        return _QUERY_SECRET.sub(lambda m: f"{m['name']}{MASK}", value)
    if isinstance(value, list):
        return [masked(key, item) for item in value]
    return value


def cmd_config_show(args: argparse.Namespace) -> int:
    """Print every setting as `section.key = value  (source)`, or as JSON with --json."""
    from knowledge.settings import SettingsError, config_dir, settings_sources

    try:
        settings, sources = settings_sources()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    values = _flat(asdict(settings))
    rows = [(key, masked(key, values[key]), sources[key]) for key in sorted(values)]
    if args.json:
        print(json.dumps({"config_dir": str(config_dir()),
                          "settings": {key: {"value": value, "source": source} for key, value, source in rows}},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"# config folder: {config_dir()}")
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        print(f"{key.ljust(width)} = {json.dumps(value, ensure_ascii=False)}  ({source})")
    return 0


def _flat(values: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in values.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `config show` to the command parser."""
    config = commands.add_parser("config", help="the effective settings")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print every setting with where its value came from "
                                           "(settings.yml, BLOGBOT_<SECTION>__<KEY>, default)")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(func=cmd_config_show)
