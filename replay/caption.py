"""A line of text drawn straight into a frame's pixels, in matplotlib's font, through Pillow's FreeType.

A matplotlib Text lays out and rasterises every new string from scratch, which cost more than all the
rest of a panel; the caption changes every frame, so it is drawn here: one mask, one blend into the band.
"""

import numpy as np


class Caption:
    def __init__(self, fig, x: float, y: float, size_px: float, colour: tuple[int, int, int]):
        """Text with its left end at figure fraction x and the bottom of its descenders at y."""
        from matplotlib import font_manager
        from PIL import ImageFont

        self.font = ImageFont.truetype(font_manager.findfont(font_manager.FontProperties()), size_px)
        ascent, descent = self.font.getmetrics()
        width, height = fig.bbox.width, fig.bbox.height
        self.left = int(round(x * width))
        self.bottom = int(round(height * (1 - y)))
        self.top = max(0, self.bottom - ascent - descent - 2)
        self.right = int(width)
        self.ink = np.array(colour, dtype=np.float32)
        self.text = ""

    def draw(self, pixels: np.ndarray) -> None:
        """Blend the text into `pixels` (h, w, 4), over whatever the band already shows."""
        from PIL import Image, ImageDraw

        band = pixels[self.top:self.bottom, self.left:self.right, :3]
        height, width = band.shape[:2]
        mask = Image.new("L", (width, height))
        ImageDraw.Draw(mask).text((0, height), self.text, fill=255, font=self.font, anchor="ld")
        alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
        band[...] = (band * (1.0 - alpha) + self.ink * alpha + 0.5).astype(np.uint8)
