"""`python -m manifest.package`: writes build/safesession.zip, ready to upload in Teams.

The bot id is MicrosoftAppId and the app id SAFESESSION_TEAMS_APP_ID, from the environment or the
.env file the bot itself reads; the manifest is checked against Microsoft's schema before it is
written, so an invalid package is never produced.
"""

import argparse
import json
import os
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.settings import load_environment
from manifest.build import (
    COLOR_ICON,
    OUTLINE_ICON,
    PROJECT_ROOT,
    ManifestError,
    ManifestSettings,
    build_manifest,
)
from manifest.icons import icon_problems
from manifest.schema import schema_errors

DEFAULT_OUT = PROJECT_ROOT / "build" / "safesession.zip"
# Fixed timestamps make the same inputs give the same zip, byte for byte.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def package_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Everything that would make Teams refuse the package: schema errors and icon problems."""
    return schema_errors(manifest) + icon_problems(COLOR_ICON, OUTLINE_ICON)


def write_package(manifest: Mapping[str, Any], out: Path) -> Path:
    """Writes manifest.json, color.png and outline.png at the root of the zip."""
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode(),
        "color.png": COLOR_ICON.read_bytes(),
        "outline.png": OUTLINE_ICON.read_bytes(),
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Builds, checks and writes the package, or says exactly why it cannot."""
    parser = argparse.ArgumentParser(prog="python -m manifest.package", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the zip")
    args = parser.parse_args(argv)
    try:
        settings = ManifestSettings.from_env(load_environment(environ or dict(os.environ)))
        manifest = build_manifest(settings)
    except ManifestError as error:
        print(f"safesession package: {error}", file=sys.stderr)
        return 2
    problems = package_problems(manifest)
    if problems:
        print("safesession package: not written; Teams would refuse it:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    out = write_package(manifest, args.out)
    print(f"wrote {out} (Teams app id {settings.teams_app_id}, bot id {settings.bot_id})")
    if not settings.has_real_bot_id:
        print(
            "WARNING: MicrosoftAppId is not set, so the package carries a placeholder bot id and"
            " Teams cannot reach the bot. Set MicrosoftAppId (environment or .env) before"
            " uploading it.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
