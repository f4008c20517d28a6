"""The fixed GIF palette, and the mapping of every rendered pixel to its nearest entry.

Every colour the drawing uses is an ink; antialiasing blends inks into the grounds they are drawn on, so
the palette holds each ink, each ground, and blends of one over the other. A fixed palette needs no
per-frame colour analysis (Pillow maps each pixel to its nearest entry), and unchanged pixels keep their
index from frame to frame, which is what lets later frames store only what moved.
"""

import functools

import numpy as np

WHITE = (255, 255, 255)
INK = (34, 34, 34)
GREY = (120, 120, 120)
BLUE = (33, 102, 172)
RED = (214, 39, 40)
BLUE_SHADE = (221, 233, 246)
RED_SHADE = (251, 224, 218)
SESSION_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
                   (227, 119, 194), (23, 190, 207), (188, 189, 34))
BLENDS = (0.2, 0.4, 0.6, 0.8)
TRANSPARENT = 255  # the index later frames use for "unchanged"


def _over_white(ink: tuple[int, int, int], alpha: float) -> tuple[int, int, int]:
    return tuple(round(alpha * i + (1 - alpha) * w) for i, w in zip(ink, WHITE))


# the model's probability field: the palest shade next to the boundary, deeper where the model is surer
RAMP_ALPHAS = (0.21, 0.28, 0.36)
BLUE_RAMP = (BLUE_SHADE, *(_over_white(BLUE, a) for a in RAMP_ALPHAS))
RED_RAMP = (RED_SHADE, *(_over_white(RED, a) for a in RAMP_ALPHAS))
# p(red) below each edge gets the shade at that position: deep blue, ..., pale blue, pale red, ..., deep red
RAMP_EDGES = (0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95)
RAMP = BLUE_RAMP[::-1] + RED_RAMP
GROUNDS = (WHITE, *BLUE_RAMP, *RED_RAMP)
MARKS = (INK, GREY, BLUE, RED)  # drawn over the field and over the points' fills
INKS = MARKS + SESSION_COLOURS  # the session colours only ever meet white


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


@functools.cache
def palette_colours() -> np.ndarray:
    """(256, 3) uint8: grounds, inks, blends of each mark over each ground and over the points' fills, and
    blends of each session colour over white."""
    colours = [*GROUNDS, *INKS]
    pairs = [(ink, ground) for ground in GROUNDS + (BLUE, RED) for ink in MARKS]
    pairs += [(ink, WHITE) for ink in SESSION_COLOURS]
    for ink, ground in pairs:
        for alpha in BLENDS:
            colours.append(tuple(round(alpha * i + (1 - alpha) * g) for i, g in zip(ink, ground)))
    unique = list(dict.fromkeys(colours))[:TRANSPARENT]
    table = np.zeros((256, 3), dtype=np.uint8)
    table[:len(unique)] = unique
    # the unused tail repeats white so that no pixel maps to it by accident of distance
    table[len(unique):] = WHITE
    return table


@functools.cache
def _palette_image():
    from PIL import Image

    # TRANSPARENT is left out, so that no drawn pixel can ever be given the "unchanged" index
    image = Image.new("P", (1, 1))
    image.putpalette(palette_colours()[:TRANSPARENT].tobytes())
    return image


def quantise(rgba: np.ndarray) -> np.ndarray:
    """(h, w, 4) uint8 RGBA -> (h, w) uint8 indices of the nearest palette colours (no dithering: flat
    areas stay flat and compress well)."""
    from PIL import Image

    height, width = rgba.shape[:2]
    rgb = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1).convert("RGB")
    return np.asarray(rgb.quantize(palette=_palette_image(), dither=Image.Dither.NONE))


def palette_bytes() -> bytes:
    return palette_colours().tobytes()
