"""Fills the manifest template from configuration and the bot's own command table."""

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.commands import COMMANDS, PERSONAL, TEAM, Command

MANIFEST_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = MANIFEST_DIR.parent
TEMPLATE = MANIFEST_DIR / "manifest.template.json"
COLOR_ICON = MANIFEST_DIR / "color.png"
OUTLINE_ICON = MANIFEST_DIR / "outline.png"

# Teams recognises an update to an uploaded app by this id, so it stays fixed unless configured.
DEFAULT_TEAMS_APP_ID = "ef0b97b2-81ba-401a-8c94-23ca379e7c8d"
# Stands in for the Azure Bot's app id when none is configured; Teams cannot reach such a bot.
PLACEHOLDER_BOT_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_DEVELOPER_NAME = "Example Children's Charity"
DEFAULT_WEBSITE_URL = "https://www.example.org/safesession"
DEFAULT_PRIVACY_URL = "https://www.example.org/safesession/privacy"
DEFAULT_TERMS_URL = "https://www.example.org/safesession/terms"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
# The manifest's scope names for where a conversation happens ("channel" is a team's).
MANIFEST_SCOPES = (PERSONAL, TEAM)


class ManifestError(ValueError):
    """The configuration or the template cannot make a manifest Teams would accept."""


@dataclass(frozen=True)
class ManifestSettings:
    """What the manifest takes from configuration at build time."""

    teams_app_id: str
    bot_id: str
    app_version: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str

    @property
    def has_real_bot_id(self) -> bool:
        """Says whether MicrosoftAppId was given, so Teams can reach the bot."""
        return self.bot_id != PLACEHOLDER_BOT_ID

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ManifestSettings":
        """Reads ids and publisher details from a mapping such as os.environ; refuses bad ones."""

        def value(name: str, default: str) -> str:
            return environ.get(name, "").strip() or default

        settings = cls(
            teams_app_id=value("SAFESESSION_TEAMS_APP_ID", DEFAULT_TEAMS_APP_ID),
            bot_id=value("MicrosoftAppId", PLACEHOLDER_BOT_ID),
            app_version=project_version(),
            developer_name=value("SAFESESSION_DEVELOPER_NAME", DEFAULT_DEVELOPER_NAME),
            website_url=value("SAFESESSION_WEBSITE_URL", DEFAULT_WEBSITE_URL),
            privacy_url=value("SAFESESSION_PRIVACY_URL", DEFAULT_PRIVACY_URL),
            terms_url=value("SAFESESSION_TERMS_URL", DEFAULT_TERMS_URL),
        )
        for name, guid in (
            ("SAFESESSION_TEAMS_APP_ID", settings.teams_app_id),
            ("MicrosoftAppId", settings.bot_id),
        ):
            if not _GUID.match(guid):
                raise ManifestError(f"{name} must be a GUID like {DEFAULT_TEAMS_APP_ID}.")
        for name, url in (
            ("SAFESESSION_WEBSITE_URL", settings.website_url),
            ("SAFESESSION_PRIVACY_URL", settings.privacy_url),
            ("SAFESESSION_TERMS_URL", settings.terms_url),
        ):
            if not url.startswith("https://"):
                raise ManifestError(f"{name} must be an https:// address.")
        return settings


def project_version() -> str:
    """The app version Teams needs raised for every update: pyproject's [project].version."""
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def command_lists(commands: tuple[Command, ...] = COMMANDS) -> list[dict[str, Any]]:
    """One command list per scope, straight from the router's table, so the two cannot drift."""
    lists = []
    for scope in MANIFEST_SCOPES:
        entries = [
            {"title": command.name, "description": command.description}
            for command in commands
            if scope in command.scopes and command.in_menu
        ]
        if entries:
            lists.append({"scopes": [scope], "commands": entries})
    return lists


def build_manifest(
    settings: ManifestSettings,
    *,
    commands: tuple[Command, ...] = COMMANDS,
    template: Path = TEMPLATE,
) -> dict[str, Any]:
    """Returns the manifest: the template with every placeholder filled and the command lists."""
    values = {
        "APP_VERSION": settings.app_version,
        "TEAMS_APP_ID": settings.teams_app_id,
        "BOT_ID": settings.bot_id,
        "DEVELOPER_NAME": settings.developer_name,
        "WEBSITE_URL": settings.website_url,
        "PRIVACY_URL": settings.privacy_url,
        "TERMS_URL": settings.terms_url,
    }
    manifest = _fill(json.loads(template.read_text(encoding="utf-8")), values)
    if not isinstance(manifest, dict) or len(manifest.get("bots", [])) != 1:
        raise ManifestError(f"{template.name} must be an object with exactly one bot.")
    manifest["bots"][0]["commandLists"] = command_lists(commands)
    return manifest


def _fill(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda found: _lookup(found.group(1), values), node)
    return node


def _lookup(name: str, values: Mapping[str, str]) -> str:
    if name not in values:
        raise ManifestError(f"the manifest template names an unknown placeholder ${{{{{name}}}}}.")
    return values[name]
