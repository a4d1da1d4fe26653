"""One frozen settings object, built from a mapping; anything required and missing is an error."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}
DEFAULT_DATA_PROTECTION_URL = "https://intranet.example.org/using-technology-and-data-protection"
DEFAULT_SERVICE_EMAIL = "service@example.org"
DEFAULT_OUT_OF_HOURS_HELP = (
    "out of hours, call your local out-of-hours service (the number is on your appointment letter)"
    " or 999 in an emergency"
)


class SettingsError(ValueError):
    """The environment does not give the bot what it needs to start safely."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    app_id: str
    app_password: str
    app_type: str
    app_tenant_id: str
    host: str
    port: int
    data_dir: Path
    allowed_tenants: frozenset[str]
    local: bool
    data_protection_url: str
    case_reference_pattern: str | None = None
    allow_fictional_numbers: bool = False
    service_email: str = DEFAULT_SERVICE_EMAIL
    out_of_hours_help: str = DEFAULT_OUT_OF_HOURS_HELP
    templates_dir: Path | None = None

    def journey_config(self) -> dict[str, object]:
        """The settings the journeys and their templates may read."""
        return {
            "case_reference_pattern": self.case_reference_pattern,
            "allow_fictional_numbers": self.allow_fictional_numbers,
            "service_email": self.service_email,
            "out_of_hours_help": self.out_of_hours_help,
            "data_protection_url": self.data_protection_url,
        }

    @property
    def authenticates(self) -> bool:
        """Says whether inbound requests must carry a valid Bot Framework token."""
        return not self.local

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Builds settings from a mapping such as os.environ, refusing unsafe gaps."""
        local = _flag(environ, "SAFESESSION_LOCAL")
        app_type = _app_type(environ.get("MicrosoftAppType", ""))
        credentials = {
            name: environ.get(name, "").strip()
            for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId")
        }
        if not local:
            missing = [name for name in _required(app_type) if not credentials[name]]
            if missing:
                raise SettingsError(
                    "SafeSession will not start without Bot Framework credentials. Missing: "
                    + ", ".join(missing)
                    + ". Set them in the environment or .env, or set SAFESESSION_LOCAL=1 to run"
                    " locally without authentication (127.0.0.1 only)."
                )
        host = environ.get("HOST", "").strip() or ("0.0.0.0" if not local else LOOPBACK)
        if local and host not in (LOOPBACK, "localhost"):
            raise SettingsError(
                f"SAFESESSION_LOCAL=1 runs without authentication and binds {LOOPBACK} only;"
                f" HOST={host} is not allowed with it."
            )
        return cls(
            app_id="" if local else credentials["MicrosoftAppId"],
            app_password="" if local else credentials["MicrosoftAppPassword"],
            app_type=app_type,
            app_tenant_id=credentials["MicrosoftAppTenantId"],
            host=LOOPBACK if local else host,
            port=_port(environ.get("PORT", "3978")),
            data_dir=Path(environ.get("SAFESESSION_DATA", "").strip() or PROJECT_ROOT / "data"),
            allowed_tenants=frozenset(
                tenant.strip()
                for tenant in environ.get("SAFESESSION_ALLOWED_TENANTS", "").split(",")
                if tenant.strip()
            ),
            local=local,
            data_protection_url=environ.get("SAFESESSION_DATA_PROTECTION_URL", "").strip()
            or DEFAULT_DATA_PROTECTION_URL,
            case_reference_pattern=_pattern(environ.get("SAFESESSION_CASE_REFERENCE_PATTERN", "")),
            allow_fictional_numbers=_flag(environ, "SAFESESSION_ALLOW_FICTIONAL_NUMBERS"),
            service_email=environ.get("SAFESESSION_SERVICE_EMAIL", "").strip()
            or DEFAULT_SERVICE_EMAIL,
            out_of_hours_help=environ.get("SAFESESSION_OUT_OF_HOURS_HELP", "").strip()
            or DEFAULT_OUT_OF_HOURS_HELP,
            templates_dir=_folder(environ.get("SAFESESSION_TEMPLATES", "")),
        )


def load_environment(environ: Mapping[str, str], dotenv: Path | None = None) -> dict[str, str]:
    """Merges the .env file (SAFESESSION_DOTENV, default ./.env) under the real environment."""
    path = dotenv or Path(environ.get("SAFESESSION_DOTENV") or PROJECT_ROOT / ".env")
    from_file = {key: value for key, value in dotenv_values(path).items() if value is not None}
    return {**from_file, **environ}


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name} must be 1 or 0, not {value!r}.")


def _app_type(value: str) -> str:
    cleaned = value.strip().lower() or "multitenant"
    if cleaned not in APP_TYPES:
        raise SettingsError(
            f"MicrosoftAppType must be one of {', '.join(APP_TYPES.values())}, not {value!r}."
        )
    return APP_TYPES[cleaned]


def _required(app_type: str) -> tuple[str, ...]:
    if app_type == "SingleTenant":
        return ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId")
    if app_type == "UserAssignedMSI":
        return ("MicrosoftAppId", "MicrosoftAppTenantId")
    return ("MicrosoftAppId", "MicrosoftAppPassword")


def _pattern(value: str) -> str | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    try:
        re.compile(cleaned)
    except re.error:
        raise SettingsError(
            f"SAFESESSION_CASE_REFERENCE_PATTERN is not a valid regular expression: {cleaned!r}."
        ) from None
    return cleaned


def _folder(value: str) -> Path | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not Path(cleaned).is_dir():
        raise SettingsError(f"SAFESESSION_TEMPLATES must be an existing folder, not {cleaned!r}.")
    return Path(cleaned)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(f"PORT must be a number, not {value!r}.") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"PORT must be between 0 and 65535, not {port}.")
    return port
