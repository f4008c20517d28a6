"""Draws the New-session form's data-set thumbnails, web/static/data-KIND.png: 200 points of each data set
(seed 3) in the page's red and blue on white, at twice the size they are shown. Run from the repository
root: PYTHONPATH=. python docs/make_thumbnails.py"""

import numpy as np
from PIL import Image, ImageDraw

from engine.dataset import KINDS, draw_dataset

SIZE, RADIUS = 128, 3
RED, BLUE = (214, 39, 40), (33, 102, 172)

for kind in KINDS:
    data = draw_dataset(200, 0.0, np.random.default_rng(3), kind)
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, SIZE - 1, SIZE - 1), outline=(120, 120, 120))
    for (x, y), label in zip(data.points, data.labels):
        px, py = (x + 1) / 2 * (SIZE - 12) + 6, (1 - y) / 2 * (SIZE - 12) + 6
        pen.ellipse((px - RADIUS, py - RADIUS, px + RADIUS, py + RADIUS), fill=RED if label else BLUE)
    image.quantize(8).save(f"web/static/data-{kind}.png", optimize=True)
