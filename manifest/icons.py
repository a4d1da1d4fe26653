"""Draws the app's two icons: colour 192×192 and outline 32×32 (white on transparent).

Run `python -m manifest.icons` to redraw manifest/color.png and manifest/outline.png; a designer's
own PNGs can replace them as long as the icon checks (and so `make test`) still pass.
"""

import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from manifest.build import COLOR_ICON, OUTLINE_ICON

COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = (0x0E, 0x6E, 0x6B)
WHITE = (255, 255, 255)
_SUPERSAMPLE = 8

Point = tuple[float, float]


def _bezier(start: Point, control: Point, end: Point, steps: int = 24) -> list[Point]:
    points = []
    for index in range(steps + 1):
        t = index / steps
        points.append(
            (
                (1 - t) ** 2 * start[0] + 2 * (1 - t) * t * control[0] + t**2 * end[0],
                (1 - t) ** 2 * start[1] + 2 * (1 - t) * t * control[1] + t**2 * end[1],
            )
        )
    return points


def _shield() -> list[Point]:
    """A shield outline in a unit box: flat-ish top, straight sides, curving to a point."""
    top = _bezier((0.06, 0.12), (0.5, 0.0), (0.94, 0.12))
    right = _bezier((0.94, 0.5), (0.92, 0.82), (0.5, 1.0))
    left = _bezier((0.5, 1.0), (0.08, 0.82), (0.06, 0.5))
    return top + right + left


def _tick() -> list[Point]:
    return [(0.27, 0.53), (0.44, 0.7), (0.74, 0.37)]


def _mask(size: int, box: tuple[float, float, float, float], *, tick: bool) -> Image.Image:
    """An anti-aliased mask of the shield (or of its tick) drawn inside box (x, y, w, h)."""
    big = size * _SUPERSAMPLE
    x0, y0, width, height = (value * big for value in box)
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)

    def place(points: list[Point]) -> list[Point]:
        return [(x0 + x * width, y0 + y * height) for x, y in points]

    if tick:
        stroke = round(0.11 * width)
        draw.line(place(_tick()), fill=255, width=stroke, joint="curve")
        for x, y in place([_tick()[0], _tick()[-1]]):
            radius = stroke / 2
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    else:
        draw.polygon(place(_shield()), fill=255)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def draw_color() -> Image.Image:
    """The colour icon: a white shield with an accent tick on a full accent-colour square."""
    shield_box = (0.22, 0.19, 0.56, 0.62)
    icon = Image.new("RGB", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    icon.paste(WHITE, mask=_mask(COLOR_SIZE, shield_box, tick=False))
    icon.paste(ACCENT, mask=_mask(COLOR_SIZE, shield_box, tick=True))
    return icon


def draw_outline() -> Image.Image:
    """The outline icon: the same shield in white with the tick cut out, on transparency."""
    shield_box = (0.09, 0.03, 0.82, 0.94)
    alpha = ImageChops.subtract(
        _mask(OUTLINE_SIZE, shield_box, tick=False), _mask(OUTLINE_SIZE, shield_box, tick=True)
    )
    icon = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (*WHITE, 0))
    icon.putalpha(alpha)
    return icon


def icon_problems(color: Path = COLOR_ICON, outline: Path = OUTLINE_ICON) -> list[str]:
    """Lists what Teams would refuse or show badly in the two icons; empty when both are fine."""
    problems = []
    with Image.open(color) as image:
        if image.format != "PNG" or image.size != (COLOR_SIZE, COLOR_SIZE):
            problems.append(f"{color.name} must be a {COLOR_SIZE}×{COLOR_SIZE} PNG")
    with Image.open(outline) as image:
        if image.format != "PNG" or image.size != (OUTLINE_SIZE, OUTLINE_SIZE):
            problems.append(f"{outline.name} must be a {OUTLINE_SIZE}×{OUTLINE_SIZE} PNG")
        data = image.convert("RGBA").tobytes()
        pixels = [tuple(data[index : index + 4]) for index in range(0, len(data), 4)]
        if any(pixel[3] != 0 and pixel[:3] != WHITE for pixel in pixels):
            problems.append(f"{outline.name} must be white on transparent, nothing else")
        if not any(pixel[3] == 255 for pixel in pixels):
            problems.append(f"{outline.name} has no solid white shape")
    return problems


def main() -> int:
    """Redraws both icons in manifest/."""
    draw_color().save(COLOR_ICON, optimize=True)
    draw_outline().save(OUTLINE_ICON, optimize=True)
    print(f"wrote {COLOR_ICON.name} and {OUTLINE_ICON.name} in {COLOR_ICON.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
