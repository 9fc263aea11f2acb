from __future__ import annotations

import pytest

from backend.settings import Settings, SettingsError


def test_development_defaults_use_sqlite_in_the_data_dir_and_keep_a_secret(tmp_path):
    settings = Settings.from_env({"PODIUM_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/podium.sqlite"
    assert not settings.is_postgres
    assert settings.redis_url is None
    assert settings.mail_dir == tmp_path / "mail"
    assert len(settings.secret_key) >= 32
    assert Settings.from_env({"PODIUM_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_postgres_redis_and_smtp_are_read(tmp_path):
    settings = Settings.from_env(
        {
            "PODIUM_DATA_DIR": str(tmp_path),
            "PODIUM_ENV": "production",
            "PODIUM_SECRET_KEY": "k" * 40,
            "PODIUM_DATABASE_URL": "postgresql://podium@db:5432/podium",
            "PODIUM_REDIS_URL": "redis://cache:6379/0",
            "PODIUM_SMTP_HOST": "smtp.example.org",
        }
    )
    assert settings.is_postgres
    assert settings.production
    assert (settings.smtp_security, settings.smtp_port) == ("starttls", 587)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PODIUM_ENV": "staging"}, "PODIUM_ENV must be one of development, production, got 'staging'"),
        ({"PODIUM_SECRET_KEY": "short"}, "PODIUM_SECRET_KEY must be at least 32 characters long"),
        (
            {"PODIUM_DATABASE_URL": "sqlite://relative.db"},
            "PODIUM_DATABASE_URL for SQLite must look like sqlite:///path/to/file.sqlite",
        ),
        (
            {"PODIUM_REDIS_URL": "http://cache"},
            "PODIUM_REDIS_URL must start with redis:// or rediss://, got 'http://cache'",
        ),
        ({"PODIUM_PORT": "70000"}, "PODIUM_PORT must be between 1 and 65535, got 70000"),
        (
            {"PODIUM_SMTP_SECURITY": "tls"},
            "PODIUM_SMTP_SECURITY must be one of none, starttls, ssl, got 'tls'",
        ),
        ({"PODIUM_MAIL_FROM": "nobody"}, "PODIUM_MAIL_FROM must be an e-mail address, got 'nobody'"),
        ({"PODIUM_DEFAULT_LOCALE": "fr"}, "PODIUM_DEFAULT_LOCALE must be one of zh, en, ru, got 'fr'"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, env, message):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"PODIUM_DATA_DIR": str(tmp_path), **env})
    assert str(info.value) == message
