"""One frozen settings object, built from a mapping; anything required and missing is an error."""

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from botframework.connector.auth import AuthenticationConstants
from dotenv import dotenv_values

from safeguarding.retention import RETENTION_SETTINGS, RetentionPolicy
from safeguarding.self_care import SelfCarePolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}
DEFAULT_DATA_PROTECTION_URL = "https://intranet.example.org/using-technology-and-data-protection"
DEFAULT_SERVICE_EMAIL = "service@example.org"
DEFAULT_ON_CALL_NUMBER = "the on-call manager number on your service's contact sheet"
# Where the Bot Framework publishes the keys that sign its tokens (the SDK's own default).
DEFAULT_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
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
    admins: frozenset[str] = frozenset()
    managers: tuple[tuple[str, str], ...] = ()
    on_call_number: str = DEFAULT_ON_CALL_NUMBER
    renotify_minutes: float = 5.0
    renotify_tries: int = 3
    delivery_timeout: float = 10.0
    welfare_grace_hours: float = 24.0
    database_url: str = ""
    data_key: str = ""
    previous_data_key: str = ""
    openid_metadata_url: str = DEFAULT_OPENID_METADATA_URL
    rate_limit_per_minute: float = 60.0
    rate_limit_burst: int = 20
    break_after_sessions: int = 3
    break_after_minutes: float = 120.0
    space_between_minutes: float = 15.0
    session_minutes: float = 60.0
    sign_off_minutes: float = 15.0
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    def journey_config(self) -> dict[str, object]:
        """The settings the journeys and their templates may read."""
        return {
            "case_reference_pattern": self.case_reference_pattern,
            "allow_fictional_numbers": self.allow_fictional_numbers,
            "service_email": self.service_email,
            "out_of_hours_help": self.out_of_hours_help,
            "data_protection_url": self.data_protection_url,
            "managers": self.managers,
            "on_call_number": self.on_call_number,
            "self_care": self.self_care_policy(),
        }

    def self_care_policy(self) -> SelfCarePolicy:
        """The thresholds for breaks, space between contacts and the end-of-day sign-off."""
        return SelfCarePolicy(
            break_after_sessions=self.break_after_sessions,
            break_after_minutes=self.break_after_minutes,
            space_between_minutes=self.space_between_minutes,
            session_minutes=self.session_minutes,
            sign_off_minutes=self.sign_off_minutes,
        )

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
            admins=_ids(environ.get("SAFESESSION_ADMINS", "")),
            managers=_managers(environ.get("SAFESESSION_MANAGERS", "")),
            on_call_number=environ.get("SAFESESSION_ON_CALL_NUMBER", "").strip()
            or DEFAULT_ON_CALL_NUMBER,
            renotify_minutes=_positive(environ, "SAFESESSION_ESCALATION_RENOTIFY_MINUTES", 5.0),
            renotify_tries=int(_positive(environ, "SAFESESSION_ESCALATION_RENOTIFY_TRIES", 3)),
            delivery_timeout=_positive(environ, "SAFESESSION_DELIVERY_TIMEOUT_SECONDS", 10.0),
            welfare_grace_hours=_positive(environ, "SAFESESSION_WELFARE_GRACE_HOURS", 24.0),
            database_url=environ.get("DATABASE_URL", "").strip(),
            data_key=_data_key(environ, "SAFESESSION_DATA_KEY", required=not local),
            previous_data_key=_data_key(environ, "SAFESESSION_PREVIOUS_DATA_KEY", required=False),
            openid_metadata_url=_metadata_url(environ.get("SAFESESSION_OPENID_METADATA_URL", "")),
            rate_limit_per_minute=_positive(environ, "SAFESESSION_RATE_LIMIT_PER_MINUTE", 60.0),
            rate_limit_burst=max(1, int(_positive(environ, "SAFESESSION_RATE_LIMIT_BURST", 20))),
            break_after_sessions=int(_positive(environ, "SAFESESSION_BREAK_AFTER_SESSIONS", 3)),
            break_after_minutes=_positive(environ, "SAFESESSION_BREAK_AFTER_MINUTES", 120.0),
            space_between_minutes=_positive(environ, "SAFESESSION_SPACE_BETWEEN_MINUTES", 15.0),
            session_minutes=_positive(environ, "SAFESESSION_SESSION_MINUTES", 60.0),
            sign_off_minutes=_positive(environ, "SAFESESSION_SIGN_OFF_MINUTES", 15.0),
            retention=retention_policy(environ),
        )


def retention_policy(environ: Mapping[str, str]) -> RetentionPolicy:
    """Reads the retention periods (whole days); each missing one keeps its default."""
    days: dict[str, int] = {}
    for name, period in RETENTION_SETTINGS.items():
        raw = environ.get(name, "").strip()
        if raw:
            if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
                raise SettingsError(
                    f"{name} must be a whole number of days, 1 or more, not {raw!r}."
                )
            days[period] = int(raw)
    return RetentionPolicy(**days)


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


def _data_key(environ: Mapping[str, str], name: str, *, required: bool) -> str:
    """Reads a data key: 32 random bytes, url-safe base64; required outside local mode."""
    value = environ.get(name, "").strip()
    if not value:
        if required:
            raise SettingsError(
                f"SafeSession will not start without {name}: every name, address and safe word is"
                " encrypted at rest with it. Make one with `python -m storage.rotate_key --new-key`"
                " and keep it in your secret store."
            )
        return ""
    try:
        decoded = base64.urlsafe_b64decode(value.encode())
    except ValueError:
        decoded = b""
    if len(decoded) != 32:
        raise SettingsError(f"{name} must be 32 bytes of url-safe base64 (44 characters).")
    return value


def _ids(value: str) -> frozenset[str]:
    return frozenset(item.strip() for item in value.split(",") if item.strip())


def _managers(value: str) -> tuple[tuple[str, str], ...]:
    """Reads 'entra-id:Display Name' pairs; the names are what workers pick from."""
    managers = []
    for item in value.split(","):
        if not item.strip():
            continue
        manager_id, _, name = item.partition(":")
        if not manager_id.strip() or not name.strip():
            raise SettingsError(
                "SAFESESSION_MANAGERS must be comma-separated 'entra-object-id:Name' pairs."
            )
        managers.append((manager_id.strip(), name.strip()))
    return tuple(managers)


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}.") from None
    if value <= 0:
        raise SettingsError(f"{name} must be more than 0, not {raw!r}.")
    return value


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


def _metadata_url(value: str) -> str:
    """The signing keys come over HTTPS; plain HTTP only from this machine (tests)."""
    cleaned = value.strip()
    if not cleaned:
        return DEFAULT_OPENID_METADATA_URL
    parts = urlsplit(cleaned)
    loopback = parts.scheme == "http" and parts.hostname in (LOOPBACK, "localhost")
    if not (parts.scheme == "https" and parts.hostname) and not loopback:
        raise SettingsError(
            "SAFESESSION_OPENID_METADATA_URL must be an https:// address"
            f" (or http:// on {LOOPBACK} for tests), not {cleaned!r}."
        )
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
