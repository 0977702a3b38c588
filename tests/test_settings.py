"""Settings fail loudly on bad values and every one of them is documented in README."""

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    missing = [env for env, _, _ in Settings.documented() if f"`{env}`" not in README]
    assert missing == []


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(SettingsError, match="XUEGONG_SECRET_KEYS"):
        Settings.from_env(environ={"XUEGONG_ENV": "production", "XUEGONG_VAR_DIR": str(tmp_path)})


def test_development_generates_one_key_and_keeps_it(tmp_path):
    first = Settings.from_env(environ={"XUEGONG_VAR_DIR": str(tmp_path)})
    second = Settings.from_env(environ={"XUEGONG_VAR_DIR": str(tmp_path)})
    assert first.secret_keys == second.secret_keys
    assert (tmp_path / "secret_key").exists()


def test_keys_are_listed_newest_first(tmp_path):
    settings = Settings.from_env(
        environ={"XUEGONG_SECRET_KEYS": "new-key-0123456789, old-key-0123456789"}
    )
    assert settings.secret_keys == ("new-key-0123456789", "old-key-0123456789")


@pytest.mark.parametrize(
    "env, value, message",
    [
        ("PORT", "eighty", "PORT"),
        ("XUEGONG_ENV", "staging", "XUEGONG_ENV"),
        ("XUEGONG_DATABASE_URL", "mysql://x", "XUEGONG_DATABASE_URL"),
        ("XUEGONG_BASE_URL", "ftp://college", "XUEGONG_BASE_URL"),
        ("XUEGONG_SECRET_KEYS", "short", "XUEGONG_SECRET_KEYS"),
        ("XUEGONG_DEBUG", "maybe", "XUEGONG_DEBUG"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path, env, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ={"XUEGONG_VAR_DIR": str(tmp_path), env: value})


def test_cookies_are_secure_behind_https(tmp_path):
    https = Settings.from_env(
        environ={"XUEGONG_VAR_DIR": str(tmp_path), "XUEGONG_BASE_URL": "https://xg.example.edu.cn"}
    )
    http = Settings.from_env(environ={"XUEGONG_VAR_DIR": str(tmp_path)})
    assert https.secure_cookies and not http.secure_cookies


def test_labels_follow_host_and_port_when_no_base_url_is_set():
    settings = Settings.from_env(
        environ={"HOST": "127.0.0.1", "PORT": "8080", "XUEGONG_SECRET_KEYS": "k" * 32}
    )
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.base_url_is_local


def test_a_public_base_url_is_not_local():
    settings = Settings.from_env(
        environ={"XUEGONG_BASE_URL": "https://xg.example.edu.cn/", "XUEGONG_SECRET_KEYS": "k" * 32}
    )
    assert settings.base_url == "https://xg.example.edu.cn" and not settings.base_url_is_local
