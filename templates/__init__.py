"""Owns the Jinja environment: every user-facing string and card is rendered here."""

import json
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parent


class Templates:
    """Renders text and Adaptive Card templates, with an optional local override folder."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders = [FileSystemLoader(TEMPLATE_DIR)]
        if override_dir is not None:
            loaders.insert(0, FileSystemLoader(override_dir))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates are read once; checking every file's mtime on every render costs a stat.
            auto_reload=False,
        )

    def text(self, name: str, /, **context: Any) -> str:
        """Renders `text/<name>.txt` to a plain string."""
        return self._env.get_template(f"text/{name}.txt").render(**context).strip()

    def card(self, name: str, /, **context: Any) -> dict[str, Any]:
        """Renders `cards/<name>.json` and parses it, so a broken card fails here, not in Teams."""
        rendered = self._env.get_template(f"cards/{name}.json").render(**context)
        card: dict[str, Any] = json.loads(rendered)
        return card

    def warm(self) -> None:
        """Compiles every template now (about 0.2 s), so no turn stalls the others compiling
        one on first use."""
        names = [f"text/{name}.txt" for name in self.names("text")]
        names += [f"cards/{name}.json" for name in self.names("cards")]
        for name in names:
            self._env.get_template(name)

    def names(self, kind: str) -> list[str]:
        """Lists the template names of one kind ("text" or "cards"), sub-folders included."""
        suffix = ".txt" if kind == "text" else ".json"
        folder = TEMPLATE_DIR / kind
        return sorted(
            path.relative_to(folder).with_suffix("").as_posix()
            for path in folder.rglob(f"*{suffix}")
        )
