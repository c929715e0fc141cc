"""Settings: settings.yml with its types checked, the environment's BLOGBOT_<SECTION>__<KEY> overrides on
top, and `blogbot config show` saying where each value came from."""

from __future__ import annotations

import json
import os

import pytest

from helpers import run_blogbot
from knowledge.settings import SettingsError, load_settings, settings_sources


def test_the_environment_overrides_any_setting_with_its_type(tmp_path):
    (tmp_path / "settings.yml").write_text("web:\n  workers: 2\n  port: 8100\n", encoding="utf-8")
    settings, sources = settings_sources(tmp_path / "settings.yml", environ={
        "BLOGBOT_WEB__WORKERS": "4", "BLOGBOT_DIALOG__TRACKER_STORE": "memory",
        "BLOGBOT_NLU__DISAMBIGUATION_ENABLED": "false", "BLOGBOT_GENERATOR__REMOTE__TIMEOUT_S": "12.5",
        "BLOGBOT_WEB__ALLOWED_ORIGINS": "https://blog.example, https://www.blog.example",
        "BLOGBOT_WEB__TRUSTED_PROXIES": "[127.0.0.1]", "BLOGBOT_SITE__BASE_URL": "0123",
        "BLOGBOT_CONFIG_DIR": "/elsewhere", "BLOGBOT_GENERATOR_API_KEY": "not a setting",
        "BLOGBOT_ADAPT__LEARNING_RATE": "3e-5", "BLOGBOT_SITE__SKIP_FILES": "[README.md, NOTES.md]"})
    assert settings.web.workers == 4 and settings.web.port == 8100 and settings.dialog.tracker_store == "memory"
    assert settings.nlu.disambiguation_enabled is False and settings.generator.remote.timeout_s == 12.5
    assert settings.web.allowed_origins == ["https://blog.example", "https://www.blog.example"]
    assert settings.web.trusted_proxies == ["127.0.0.1"] and settings.site.base_url == "0123"
    assert settings.adapt.learning_rate == 3e-5 and settings.site.skip_files == ["README.md", "NOTES.md"]
    ipv6 = load_settings(tmp_path / "settings.yml", environ={"BLOGBOT_WEB__TRUSTED_PROXIES": "[::1, 10.0.0.1]"})
    assert ipv6.web.trusted_proxies == ["::1", "10.0.0.1"]
    assert sources["web.workers"] == "environment: BLOGBOT_WEB__WORKERS"
    assert sources["generator.remote.timeout_s"] == "environment: BLOGBOT_GENERATOR__REMOTE__TIMEOUT_S"
    assert (sources["web.port"], sources["nlu.intent_threshold"]) == ("file", "default")


@pytest.mark.parametrize("variable, value, words", [
    ("BLOGBOT_WEB__WORKERZ", "2", "BLOGBOT_WEB__WORKERZ: no such setting (web.workerz)"),
    ("BLOGBOT_WEBB__WORKERS", "2", "no such setting (webb.workers)"),
    ("BLOGBOT_GENERATOR__REMOTE", "x", "names a section"),
    ("BLOGBOT_WEB__WORKERS", "two", "BLOGBOT_WEB__WORKERS (web.workers) must be a whole number, not 'two'"),
    ("BLOGBOT_WEB__WORKERS", "2.5", "must be a whole number"),
    ("BLOGBOT_NLU__DISAMBIGUATION_ENABLED", "maybe", "must be true or false"),
    ("BLOGBOT_NLU__INTENT_THRESHOLD", "[1]", "must be a number"),
    ("BLOGBOT_NLU__OUT_OF_DOMAIN_SHARE", "1.5", "nlu.out_of_domain_share must be at least 0 and below 1"),
    ("BLOGBOT_WEB__WORKERS", "null", "BLOGBOT_WEB__WORKERS (web.workers) is empty (null)"),
    ("BLOGBOT_WEB__ALLOWED_ORIGINS", "[[1], {a: 2}]", "must be a list of texts"),
    ("BLOGBOT_DIALOG__REDIS_LEASE_S", "0", "dialog.redis_lease_s must be above 0"),
])
def test_an_unknown_or_ill_typed_variable_is_an_error_naming_it(tmp_path, variable, value, words):
    with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_settings(tmp_path / "none.yml", environ={variable: value})


def test_the_file_is_type_checked_too(tmp_path):
    (tmp_path / "settings.yml").write_text("web:\n  workers: \"two\"\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"settings: web.workers must be a whole number, not 'two'"):
        load_settings(tmp_path / "settings.yml", environ={})
    (tmp_path / "settings.yml").write_text("nlu:\n  disambiguation_enabled: \"no\"\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="must be true or false"):
        load_settings(tmp_path / "settings.yml", environ={})


def test_config_show_prints_each_value_with_its_source_and_masks_secrets():
    env = dict(os.environ, BLOGBOT_WEB__WORKERS="3",
               BLOGBOT_DIALOG__ACTION_ENDPOINT="http://bot:s3cret-pw@127.0.0.1:5055/webhook",
               BLOGBOT_DIALOG__TRACKER_STORE="redis://127.0.0.1:6379/0?password=hunter2")
    shown = run_blogbot("config", "show", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    settings = json.loads(shown.stdout)["settings"]
    assert settings["web.workers"] == {"value": 3, "source": "environment: BLOGBOT_WEB__WORKERS"}
    assert settings["dialog.action_endpoint"]["value"] == "http://bot:****@127.0.0.1:5055/webhook"
    assert settings["web.port"]["source"] == "file" and "s3cret" not in shown.stdout
    assert settings["dialog.tracker_store"]["value"] == "redis://127.0.0.1:6379/0?password=****"
    assert "hunter2" not in shown.stdout
    text = run_blogbot("config", "show", env=env)
    assert "web.workers" in text.stdout and "= 3  (environment: BLOGBOT_WEB__WORKERS)" in text.stdout
    assert "s3cret" not in text.stdout


def test_a_bad_variable_stops_start_up_with_one_line(tmp_path, demo_index):
    env = dict(os.environ, BLOGBOT_WEB__WORKERS="many")
    script = tmp_path / "hello.yml"
    script.write_text("name: hello\nsteps:\n  - user: hi\n    bot:\n      intent: greeting\n", encoding="utf-8")
    for command in (["config", "show"], ["serve", "--data-dir", str(tmp_path)],
                    ["test", str(script), "--data-dir", str(demo_index)]):
        result = run_blogbot(*command, env=env, timeout=120)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "error: BLOGBOT_WEB__WORKERS (web.workers) must be a whole number, not 'many'"]
