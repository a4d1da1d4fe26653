"""Settings: missing credentials refuse to start; local mode is explicit and loopback-only."""

from pathlib import Path

import pytest

from bot.commands import Command, build_table, match, normalise
from bot.settings import Settings, SettingsError, load_environment

KEY = {"SAFESESSION_DATA_KEY": "c2FmZXNlc3Npb24tdGVzdC1rZXktMzItYnl0ZXMhISE="}
CREDS = {"MicrosoftAppId": "app-id", "MicrosoftAppPassword": "synthetic-secret", **KEY}


def test_no_credentials_and_no_local_switch_names_what_is_missing() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({})
    assert "MicrosoftAppId, MicrosoftAppPassword" in str(refused.value)
    assert "SAFESESSION_LOCAL=1" in str(refused.value)


def test_an_empty_app_id_is_missing_not_authentication_off() -> None:
    with pytest.raises(SettingsError, match="MicrosoftAppId"):
        Settings.from_env({"MicrosoftAppId": "  ", "MicrosoftAppPassword": "x"})


def test_single_tenant_needs_the_tenant_id() -> None:
    with pytest.raises(SettingsError, match="MicrosoftAppTenantId"):
        Settings.from_env({**CREDS, "MicrosoftAppType": "SingleTenant"})


def test_managed_identity_needs_no_password() -> None:
    settings = Settings.from_env(
        {
            "MicrosoftAppId": "app-id",
            "MicrosoftAppType": "UserAssignedMSI",
            "MicrosoftAppTenantId": "t",
            **KEY,
        }
    )
    assert settings.app_type == "UserAssignedMSI" and settings.authenticates


def test_an_unknown_app_type_is_refused() -> None:
    with pytest.raises(SettingsError, match="MicrosoftAppType"):
        Settings.from_env({**CREDS, "MicrosoftAppType": "Anonymous"})


def test_credentials_give_an_authenticating_service_on_all_interfaces() -> None:
    settings = Settings.from_env(CREDS)
    assert settings.authenticates and settings.host == "0.0.0.0" and settings.port == 3978


def test_local_mode_binds_loopback_and_ignores_credentials() -> None:
    settings = Settings.from_env({"SAFESESSION_LOCAL": "1", **CREDS})
    assert settings.local and not settings.authenticates
    assert settings.host == "127.0.0.1" and settings.app_id == ""


def test_local_mode_refuses_a_public_host() -> None:
    with pytest.raises(SettingsError, match=r"127\.0\.0\.1"):
        Settings.from_env({"SAFESESSION_LOCAL": "1", "HOST": "0.0.0.0"})


@pytest.mark.parametrize("value", ["maybe", "2", "on"])
def test_a_switch_that_is_neither_on_nor_off_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="SAFESESSION_LOCAL"):
        Settings.from_env({"SAFESESSION_LOCAL": value})


@pytest.mark.parametrize("port", ["abc", "-1", "70000"])
def test_a_bad_port_is_refused(port: str) -> None:
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({**CREDS, "PORT": port})


def test_allowed_tenants_and_data_folder_are_read() -> None:
    settings = Settings.from_env(
        {
            **CREDS,
            "SAFESESSION_ALLOWED_TENANTS": " t-1, ,t-2 ",
            "SAFESESSION_DATA": "/srv/ss",
            "PORT": "8080",
        }
    )
    assert settings.allowed_tenants == frozenset({"t-1", "t-2"})
    assert settings.data_dir == Path("/srv/ss") and settings.port == 8080


def test_the_dotenv_file_fills_gaps_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("MicrosoftAppId=from-file\nMicrosoftAppPassword=from-file\nPORT=4000\n")
    merged = load_environment({"PORT": "5000", "SAFESESSION_DOTENV": str(dotenv), **KEY})
    settings = Settings.from_env(merged)
    assert settings.app_id == "from-file" and settings.port == 5000


def test_commands_match_whole_normalised_text_only() -> None:
    table = build_table()
    assert match("  Help! ", table) is not None
    assert match("help me", table) is None
    assert normalise("Plan   Session.") == "plan session"


def test_a_command_word_claimed_twice_is_refused() -> None:
    twice = (
        Command(name="help", description="a", scopes=frozenset()),
        Command(name="other", description="b", scopes=frozenset(), aliases=("help",)),
    )
    with pytest.raises(ValueError, match="claimed twice"):
        build_table(twice)


def test_outside_local_mode_the_data_key_is_required() -> None:
    without_key = {name: value for name, value in CREDS.items() if name != "SAFESESSION_DATA_KEY"}
    with pytest.raises(SettingsError, match="SAFESESSION_DATA_KEY"):
        Settings.from_env(without_key)


@pytest.mark.parametrize("key", ["short", "c2hvcnQ=", "!" * 44])
def test_a_malformed_data_key_is_refused(key: str) -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        Settings.from_env({**CREDS, "SAFESESSION_DATA_KEY": key})


def test_the_key_server_defaults_to_the_sdks_and_must_be_https() -> None:
    assert Settings.from_env(CREDS).openid_metadata_url == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    test_server = "http://127.0.0.1:8123/.well-known/openidconfiguration"
    configured = Settings.from_env({**CREDS, "SAFESESSION_OPENID_METADATA_URL": test_server})
    assert configured.openid_metadata_url == test_server
    for refused in ("http://keys.example.org/openid", "ftp://127.0.0.1/x", "keys"):
        with pytest.raises(SettingsError, match="SAFESESSION_OPENID_METADATA_URL"):
            Settings.from_env({**CREDS, "SAFESESSION_OPENID_METADATA_URL": refused})


def test_the_flood_limit_is_read_with_kind_defaults() -> None:
    defaults = Settings.from_env(CREDS)
    assert (defaults.rate_limit_per_minute, defaults.rate_limit_burst) == (60.0, 20)
    limited = Settings.from_env(
        {**CREDS, "SAFESESSION_RATE_LIMIT_PER_MINUTE": "30", "SAFESESSION_RATE_LIMIT_BURST": "5"}
    )
    assert (limited.rate_limit_per_minute, limited.rate_limit_burst) == (30.0, 5)
    with pytest.raises(SettingsError, match="SAFESESSION_RATE_LIMIT_PER_MINUTE"):
        Settings.from_env({**CREDS, "SAFESESSION_RATE_LIMIT_PER_MINUTE": "0"})
