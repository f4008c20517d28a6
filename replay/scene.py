"""The whole picture: a grid of panels and, for several sessions, the metrics strip; drawn by blitting.

The figure is laid out and drawn once without its moving artists; that image is the cached background.
Each frame restores it and draws only the moving artists over it, then hands out the RGBA pixels.
"""

import math
import warnings

import numpy as np

from replay.palette import SESSION_COLOURS, WHITE, hex_colour
from replay.panel import Panel
from replay.strip import Strip
from replay.timeline import Track

DPI = 100
# a session's name may hold an emoji (a student's shown name) that the font lacks: it is drawn as a box, and
# matplotlib's warning about it would only be noise on the terminal
warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns): up to three sessions side by side, more in a near-square grid."""
    columns = n if n <= 3 else math.ceil(math.sqrt(n))
    return math.ceil(n / columns), columns


class Scene:
    def __init__(self, tracks: list[Track], width: int, metric: str = "accuracy"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        rows, columns = grid_shape(len(tracks))
        cell = width / columns
        font_px = min(16.0, max(9.0, cell / 32))
        margin = 0.05 * cell
        title = 3.0 * 1.35 * font_px
        side = cell - 2 * margin
        cell_height = title + side + margin
        # one session gets a strip too when it holds points out: its held-out curve is worth seeing
        alone = len(tracks) == 1 and (tracks[0].length == 1 or np.isnan(tracks[0].curves["test_accuracy"]).all())
        strip_height = 0.0 if alone else max(140.0, 0.24 * width)
        height = int(round(rows * cell_height + strip_height))
        self.size = (width, height)
        self.fig = fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=hex_colour(WHITE))
        self.canvas = FigureCanvasAgg(fig)
        colours = [hex_colour(SESSION_COLOURS[i % len(SESSION_COLOURS)]) for i in range(len(tracks))]
        self.panels = []
        for index, (track, colour) in enumerate(zip(tracks, colours)):
            row, column = divmod(index, columns)
            left, top = column * cell + margin, row * cell_height + title
            rect = (left / width, 1 - (top + side) / height, side / width, side / height)
            self.panels.append(Panel(fig, rect, track, colour, font_px))
        self.strip = None
        if strip_height:
            left_px, bottom_px = 0.09 * width, 0.22 * strip_height
            rect = (left_px / width, bottom_px / height, 1 - 1.5 * left_px / width,
                    (strip_height - bottom_px - 0.2 * strip_height) / height)
            self.strip = Strip(fig, rect, tracks, colours, metric, font_px)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def moving(self) -> list:
        artists = [a for panel in self.panels for a in panel.artists()]
        return artists + (self.strip.artists() if self.strip else [])

    def draw(self, step: int) -> np.ndarray:
        """RGBA pixels (height, width, 4) of the frame at `step`: a view, valid until the next draw."""
        self.canvas.restore_region(self.background)
        pixels = np.asarray(self.canvas.buffer_rgba())
        for panel in self.panels:
            panel.show(step)
            panel.paint(pixels)
        if self.strip:
            self.strip.show(step)
        for artist in self.moving():
            self.fig.draw_artist(artist)
        for panel in self.panels:
            panel.caption.draw(pixels)
        return pixels

    def pixel(self, panel: int, x: float, y: float) -> tuple[int, int]:
        """(column, row) in the image of the data point (x, y) of panel `panel`: for tests and overlays."""
        px, py = self.panels[panel].ax.transData.transform((x, y))
        return int(px), int(self.size[1] - py)

    def close(self) -> None:
        self.fig.clear()
