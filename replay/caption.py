"""A line of text drawn straight into a frame's pixels, in matplotlib's font, through Pillow's FreeType.

A matplotlib Text lays out and rasterises every new string from scratch, which cost more than all the
rest of a panel; the caption changes every frame, so it is drawn here: one mask, one blend into the band.
"""

import numpy as np


class Caption:
    def __init__(self, fig, x: float, y: float, size_px: float, colour: tuple[int, int, int],
                 width: float | None = None):
        """Text with its left end at figure fraction x and the bottom of its descenders at y, kept within
        `width` (a figure fraction; default: up to the figure's right edge)."""
        from matplotlib import font_manager
        from PIL import ImageFont

        self.font = ImageFont.truetype(font_manager.findfont(font_manager.FontProperties()), size_px)
        ascent, descent = self.font.getmetrics()
        fig_width, height = fig.bbox.width, fig.bbox.height
        self.left = int(round(x * fig_width))
        self.bottom = int(round(height * (1 - y)))
        self.top = max(0, self.bottom - ascent - descent - 2)
        self.right = int(fig_width) if width is None else min(int(fig_width), self.left + int(round(width * fig_width)))
        self.ink = np.array(colour, dtype=np.float32)
        self.text = ""

    def draw(self, pixels: np.ndarray) -> None:
        """Blend the text into `pixels` (h, w, 4), over whatever the band already shows."""
        from PIL import Image, ImageDraw

        band = pixels[self.top:self.bottom, self.left:self.right, :3]
        height, width = band.shape[:2]
        mask = Image.new("L", (width, height))
        ImageDraw.Draw(mask).text((0, height), self.fitted(width), fill=255, font=self.font, anchor="ld")
        alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
        band[...] = (band * (1.0 - alpha) + self.ink * alpha + 0.5).astype(np.uint8)

    def fitted(self, width: int) -> str:
        """The text, made to fit `width` pixels: first with narrower gaps, then cut at the end with an
        ellipsis (a panel's caption never runs into its neighbour's)."""
        text = self.text
        if self.font.getlength(text) <= width:
            return text
        text = " ".join(text.split())
        while len(text) > 1 and self.font.getlength(text) > width:
            text = text[:-2].rstrip() + "…"
        return text
