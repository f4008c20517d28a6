"""One session's square: the model's probability field, its boundary, the true boundary, the points, and
its title.

Artists are created once and `show` moves them to a state; the scene draws the moving ones over its cached
background. Static parts (the frame, the session's name) live in that background. The field is sampled on
a grid by the engine (`engine.view`), so any model draws here without this module knowing it: the shade is
p(red) in bands (`palette.RAMP`), the boundary is the zero contour of the logit (exactly the line for a
perceptron), the true boundary the zero contour of the data set's rule.
"""

import math

import numpy as np

from engine import State
from engine.view import grid_centres, logit_grid, probability, truth_grid
from replay.caption import Caption
from replay.geometry import contour_segments, nan_joined
from replay.palette import BLUE, GREY, INK, RAMP, RAMP_EDGES, RED, hex_colour
from replay.timeline import Track

PAD = 1.06
BLUE_RGBA, RED_RGBA = (np.array(BLUE + (255,)) / 255.0, np.array(RED + (255,)) / 255.0)
# each shade as one opaque RGBA pixel read as a uint32, so that painting moves a word per pixel
RAMP_RGBA32 = np.array([list(rgb) + [255] for rgb in RAMP], dtype=np.uint8).view(np.uint32)[:, 0]
RAMP_LOGITS = np.log(np.array(RAMP_EDGES) / (1 - np.array(RAMP_EDGES)))


def heading(title: str, learner: str, width_px: float, font_px: float) -> str:
    """"title  ·  learner", the title cut with an ellipsis so that the line fits in width_px (a bold glyph is
    about 0.68 em wide on average). The title keeps at least half the room: a long model label after the
    learner gives way instead (`fit_heading` cuts the line's end to the width it measures)."""
    suffix = f"  ·  {learner}"
    room = max(8, int(width_px / (0.68 * font_px)))
    keep = max(room // 2, room - len(suffix))
    return (title if len(title) <= keep else title[:keep - 1] + "…") + suffix


def fit_heading(text, width_px: float) -> None:
    """Cut the heading's end until its measured width fits the panel: the estimate of `heading` is for
    names, and a long model label ("gauss, features x,y,xy,sinx,siny, hidden 4,4 relu, 30% held out") would
    otherwise run into the next panel's heading."""
    renderer = text.figure.canvas.get_renderer()
    line = text.get_text()
    while len(line) > 4 and text.get_window_extent(renderer).width > width_px:
        line = line[:-2].rstrip(" ·,") + "…"
        text.set_text(line)


def field_cells(side_px: float) -> int:
    """Grid cells along a side: about one per 3 pixels, 24 to 96; marching squares smooths the boundary."""
    return int(min(96, max(24, side_px // 3)))


class Panel:
    def __init__(self, fig, rect: tuple[float, float, float, float], track: Track, colour: str, font_px: float):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        self.track = track
        dpi = fig.dpi
        self.ax = ax = fig.add_axes(rect)
        # a little room around the square so that markers on its edge are drawn whole
        ax.set_xlim(-PAD, PAD)
        ax.set_ylim(-PAD, PAD)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        side_px = rect[2] * fig.bbox.width
        self.cells = field_cells(side_px)
        self.centres = grid_centres(self.cells)
        self.field_rgba = None
        self.box = None  # pixel rows and columns of the square inside the frame, found on the first paint
        ax.add_patch(Rectangle((-1, -1), 2, 2, facecolor="none", edgecolor=hex_colour(GREY), linewidth=0.8,
                               zorder=2))
        state, _, _ = track.at(0)
        data = state.data
        truth = truth_grid(state, 4 * self.cells)
        truth_lines = np.zeros((0, 2, 2)) if truth is None else contour_segments(truth, *(grid_centres(4 * self.cells),) * 2)
        self.truth = ax.add_line(Line2D(*nan_joined(truth_lines), color=hex_colour(GREY), linestyle=(0, (4, 3)),
                                        linewidth=1.2, animated=True, zorder=2))
        diameter_px = min(12.0, max(4.0, side_px / (2.4 * math.sqrt(max(len(data.labels), 1)))))
        points_per_px = 72.0 / dpi
        self.points = self._scatter(ax, data.points[:data.n_train], data.labels[:data.n_train], "o", diameter_px)
        # held-out points, drawn as squares (as TensorFlow Playground draws its test data apart)
        self.held_out = self._scatter(ax, data.points[data.n_train:], data.labels[data.n_train:], "s",
                                      0.85 * diameter_px)
        self.boundary = ax.add_line(Line2D([], [], color=hex_colour(INK), linewidth=2.2, animated=True,
                                           solid_capstyle="round", solid_joinstyle="round", zorder=4))
        top = rect[1] + rect[3]
        line_height = 1.35 * font_px / fig.bbox.height
        label = state.settings.model_label  # the data set and model, where not release 0.1's
        learner = state.settings.learner  # the log's word, as the state folds it
        what = f"{learner}, {label}" if label else learner
        self.heading = fig.text(rect[0], top + 1.75 * line_height, heading(track.title, what, side_px, font_px),
                                color=colour, fontsize=font_px * points_per_px, fontweight="bold", va="bottom")
        fit_heading(self.heading, side_px)
        self.caption = Caption(fig, rect[0], top + 0.45 * line_height, 0.92 * font_px, INK, width=rect[2])

    @staticmethod
    def _scatter(ax, points, labels, marker, diameter_px):
        points_per_px = 72.0 / ax.figure.dpi
        return ax.scatter(points[:, 0], points[:, 1], s=(diameter_px * points_per_px) ** 2, marker=marker,
                          c=np.where(labels[:, None] > 0.5, RED_RGBA, BLUE_RGBA).reshape(-1, 4),
                          linewidths=max(1.2, diameter_px / 5.5) * points_per_px, animated=True, zorder=3)

    def show(self, step: int) -> None:
        state, button, finished = self.track.at(step)
        logits = logit_grid(state, self.cells)
        self.field_rgba = RAMP_RGBA32[np.searchsorted(RAMP_LOGITS, logits).ravel()]
        self.boundary.set_data(*nan_joined(contour_segments(logits, self.centres, self.centres)))
        data = state.data
        red = probability(state, data.points) > 0.5
        self.points.set_edgecolors(np.where(red[:data.n_train, None], RED_RGBA, BLUE_RGBA).reshape(-1, 4))
        self.held_out.set_edgecolors(np.where(red[data.n_train:, None], RED_RGBA, BLUE_RGBA).reshape(-1, 4))
        self.caption.text = caption(state, self.track.last_seq, button, finished)

    def paint(self, pixels: np.ndarray) -> None:
        """Write the field into `pixels` (h, w, 4), inside the square's frame, before the artists are drawn:
        a nearest-cell lookup per pixel, far cheaper than a matplotlib image resampled every frame."""
        if self.box is None:
            height = pixels.shape[0]
            (x0, y0), (x1, y1) = self.ax.transData.transform([(-1.0, -1.0), (1.0, 1.0)])
            columns = np.arange(int(np.ceil(x0)) + 1, int(np.floor(x1)))
            rows = np.arange(int(np.ceil(height - y1)) + 1, int(np.floor(height - y0)))
            # the cell under each pixel's centre; image rows run down, the field's rows run up
            cell_x = np.clip(((columns + 0.5 - x0) / (x1 - x0) * self.cells).astype(int), 0, self.cells - 1)
            cell_y = np.clip(((height - rows - 0.5 - y0) / (y1 - y0) * self.cells).astype(int), 0, self.cells - 1)
            self.box = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1),
                        (cell_y[:, None] * self.cells + cell_x[None, :]).astype(np.intp))
        rows, columns, cells = self.box
        words = pixels.view(np.uint32)[..., 0]  # the RGBA buffer, a uint32 per pixel
        words[rows, columns] = self.field_rgba.take(cells)

    def artists(self) -> list:
        """The moving matplotlib artists, bottom to top, drawn over the painted field; the caption is drawn
        into the pixels afterwards."""
        return [self.truth, self.points, self.held_out, self.boundary]


def caption(state: State, last_seq: int, button: str | None, finished: bool) -> str:
    """Steps count presses: the state after event seq has had seq - 1 presses since the session started."""
    m = state.metrics
    text = f"step {state.seq - 1}/{last_seq - 1}   accuracy {m.accuracy:.2f}"
    if m.test_accuracy is not None:
        text += f"   held out {m.test_accuracy:.2f}"
    text += f"   score {m.score:.2f}"
    if finished:
        return text + "   · finished"
    if button is not None:
        return text + f"   · pressed {button}"
    return text
