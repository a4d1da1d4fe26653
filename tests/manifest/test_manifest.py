"""The Teams app package: what an admin uploads must pass Microsoft's schema and match the bot."""

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from bot.commands import COMMANDS, PERSONAL, TEAM, build_table, match
from manifest.build import (
    COLOR_ICON,
    DEFAULT_TEAMS_APP_ID,
    OUTLINE_ICON,
    ManifestError,
    ManifestSettings,
    build_manifest,
    project_version,
)
from manifest.icons import draw_color, draw_outline, icon_problems
from manifest.package import main
from manifest.schema import schema_errors

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BOT_ID = "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
APP_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CONFIGURED = {"MicrosoftAppId": BOT_ID, "SAFESESSION_TEAMS_APP_ID": APP_ID}


def manifest_for(**environ: str) -> dict[str, Any]:
    return build_manifest(ManifestSettings.from_env(environ))


def test_the_configured_manifest_passes_microsofts_schema() -> None:
    assert schema_errors(manifest_for(**CONFIGURED)) == []


def test_a_broken_manifest_fails_the_schema_and_each_fault_is_named() -> None:
    broken = json.loads((FIXTURES / "broken_manifest.json").read_text())
    errors = "\n".join(schema_errors(broken))
    assert "$.manifestVersion: '1.30' was expected" in errors
    assert "$.developer: 'privacyUrl' is a required property" in errors
    assert "$.accentColor: 'teal' does not match" in errors
    assert "$.bots[0].botId: 'safesession-bot' does not match" in errors
    assert "$.bots[0].scopes[1]: 'meeting' is not one of" in errors
    assert "$.bots[0].commandLists[0].commands[0]: 'title' is a required property" in errors


@pytest.mark.parametrize("scope", [PERSONAL, TEAM])
def test_each_scopes_command_list_is_the_routers_table(scope: str) -> None:
    lists = manifest_for(**CONFIGURED)["bots"][0]["commandLists"]
    [entry] = [entry for entry in lists if entry["scopes"] == [scope]]
    expected = [command for command in COMMANDS if scope in command.scopes and command.in_menu]
    assert entry["commands"] == [
        {"title": command.name, "description": command.description} for command in expected
    ]
    table = build_table()
    for listed, command in zip(entry["commands"], expected, strict=True):
        assert match(listed["title"], table) is command, "picking it from the menu must route"


def test_the_bot_is_offered_in_personal_chat_and_teams_only() -> None:
    manifest = manifest_for(**CONFIGURED)
    assert manifest["bots"][0]["scopes"] == [PERSONAL, TEAM]
    assert [entry["scopes"] for entry in manifest["bots"][0]["commandLists"]] == [
        [PERSONAL],
        [TEAM],
    ]


def test_ids_and_publisher_details_come_from_configuration() -> None:
    manifest = manifest_for(
        **CONFIGURED,
        SAFESESSION_DEVELOPER_NAME="Synthetic Trust",
        SAFESESSION_PRIVACY_URL="https://charity.example.org/privacy",
    )
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["developer"]["name"] == "Synthetic Trust"
    assert manifest["developer"]["privacyUrl"] == "https://charity.example.org/privacy"
    assert manifest["version"] == project_version()


def test_without_configuration_the_app_id_is_fixed_and_the_bot_id_a_placeholder() -> None:
    settings = ManifestSettings.from_env({})
    assert build_manifest(settings)["id"] == DEFAULT_TEAMS_APP_ID
    assert not settings.has_real_bot_id
    assert ManifestSettings.from_env(CONFIGURED).has_real_bot_id


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MicrosoftAppId", "not-a-guid"),
        ("SAFESESSION_TEAMS_APP_ID", "{" + APP_ID + "}"),
        ("SAFESESSION_TERMS_URL", "http://www.example.org/terms"),
    ],
)
def test_a_bad_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ManifestError, match=name):
        ManifestSettings.from_env({**CONFIGURED, name: value})


def test_an_unknown_template_placeholder_is_an_error(tmp_path: Path) -> None:
    template = tmp_path / "manifest.template.json"
    template.write_text('{"id": "${{NO_SUCH_THING}}", "bots": [{}]}')
    with pytest.raises(ManifestError, match="NO_SUCH_THING"):
        build_manifest(ManifestSettings.from_env(CONFIGURED), template=template)


def test_make_package_writes_an_uploadable_zip(tmp_path: Path) -> None:
    out = tmp_path / "safesession.zip"
    environ = {**CONFIGURED, "SAFESESSION_DOTENV": str(tmp_path / "no.env")}
    assert main(["--out", str(out)], environ) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == COLOR_ICON.read_bytes()
        assert archive.read("outline.png") == OUTLINE_ICON.read_bytes()
    assert manifest == manifest_for(**CONFIGURED)
    assert schema_errors(manifest) == []


def test_the_bot_id_can_come_from_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"MicrosoftAppId={BOT_ID}\n")
    out = tmp_path / "safesession.zip"
    assert main(["--out", str(out)], {"SAFESESSION_DOTENV": str(dotenv)}) == 0
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == BOT_ID


def test_an_invalid_manifest_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "safesession.zip"
    environ = {**CONFIGURED, "SAFESESSION_DEVELOPER_NAME": "A developer name far over thirty-two"}
    assert main(["--out", str(out)], {**environ, "SAFESESSION_DOTENV": str(tmp_path / "no")}) == 1
    assert not out.exists()
    assert "$.developer.name" in capsys.readouterr().err


def test_the_icons_have_the_sizes_teams_requires() -> None:
    with Image.open(COLOR_ICON) as color, Image.open(OUTLINE_ICON) as outline:
        assert (color.format, color.size) == ("PNG", (192, 192))
        assert (outline.format, outline.size) == ("PNG", (32, 32))
    assert icon_problems() == []


def test_the_outline_icon_is_white_on_transparent() -> None:
    with Image.open(OUTLINE_ICON) as image:
        data = image.convert("RGBA").tobytes()
    pixels = [tuple(data[index : index + 4]) for index in range(0, len(data), 4)]
    assert all(
        alpha == 0 or (red, green, blue) == (255, 255, 255) for red, green, blue, alpha in pixels
    )
    solid = sum(1 for pixel in pixels if pixel[3] == 255)
    assert 0.2 < solid / len(pixels) < 0.8, "the shape should be visible, not a dot or a square"


def test_an_outline_icon_with_colour_in_it_is_caught(tmp_path: Path) -> None:
    grey = draw_outline()
    grey.putpixel((16, 16), (128, 128, 128, 255))
    grey.save(tmp_path / "outline.png")
    assert icon_problems(COLOR_ICON, tmp_path / "outline.png") == [
        "outline.png must be white on transparent, nothing else"
    ]


def test_the_committed_icons_are_what_the_icon_script_draws() -> None:
    with Image.open(COLOR_ICON) as color, Image.open(OUTLINE_ICON) as outline:
        assert ImageChops.difference(color.convert("RGB"), draw_color()).getbbox() is None
        assert ImageChops.difference(outline.convert("RGBA"), draw_outline()).getbbox() is None
