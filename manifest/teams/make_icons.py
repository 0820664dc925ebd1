"""Draw the Teams app icons once (committed): a 192x192 full-colour icon and a 32x32 outline icon
(white on transparent, as Teams requires). Run: python manifest/teams/make_icons.py"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
ACCENT = (79, 107, 237, 255)  # the manifest's accentColor, #4F6BED
WHITE = (255, 255, 255, 255)


def people(draw: ImageDraw.ImageDraw, size: int, color: tuple[int, int, int, int], width: int) -> None:
    """Three heads and shoulders: a cohort."""
    for cx, cy, r in ((0.5, 0.36, 0.12), (0.25, 0.44, 0.09), (0.75, 0.44, 0.09)):
        x, y, rr = cx * size, cy * size, r * size
        draw.ellipse((x - rr, y - rr, x + rr, y + rr), outline=color, width=width)
        draw.arc((x - 2 * rr, y + 1.3 * rr, x + 2 * rr, y + 5 * rr), 180, 360, fill=color, width=width)


def main() -> None:
    color = Image.new("RGBA", (192, 192), ACCENT)
    people(ImageDraw.Draw(color), 192, WHITE, 8)
    color.save(HERE / "color.png")
    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    people(ImageDraw.Draw(outline), 32, WHITE, 2)
    outline.save(HERE / "outline.png")


if __name__ == "__main__":
    main()
