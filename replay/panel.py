"""One session's square: shading of the predicted class, points, true separator, boundary, and its title.

Artists are created once and `show` moves them to a state; the scene draws the moving ones over its cached
background. Static parts (the blue ground, the frame, the session's name) live in that background.
"""

import math

import numpy as np

from engine import State
from replay.caption import Caption
from replay.geometry import clip_to_square, predicted_red
from replay.palette import BLUE, BLUE_SHADE, GREY, INK, RED, RED_SHADE, hex_colour
from replay.timeline import Track

PAD = 1.06
BLUE_RGBA, RED_RGBA = (np.array(BLUE + (255,)) / 255.0, np.array(RED + (255,)) / 255.0)


def heading(title: str, learner: str, width_px: float, font_px: float) -> str:
    """"title  ·  learner", the title cut with an ellipsis so that the line fits in width_px (a bold glyph is
    about 0.68 em wide on average)."""
    suffix = f"  ·  {learner}"
    room = max(4, int(width_px / (0.68 * font_px)) - len(suffix))
    return (title if len(title) <= room else title[:room - 1] + "…") + suffix


class Panel:
    def __init__(self, fig, rect: tuple[float, float, float, float], track: Track, colour: str, font_px: float):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Polygon, Rectangle

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
        ax.add_patch(Rectangle((-1, -1), 2, 2, facecolor=hex_colour(BLUE_SHADE), edgecolor=hex_colour(GREY),
                               linewidth=0.8))
        self.region = ax.add_patch(Polygon(np.zeros((0, 2)), closed=True, facecolor=hex_colour(RED_SHADE),
                                           edgecolor="none", animated=True))
        state, _, _ = track.at(0)
        data = state.data
        side_px = rect[2] * fig.bbox.width
        self.truth = ax.add_line(Line2D(*clip_to_square(data.separator)[1].T, color=hex_colour(GREY),
                                        linestyle=(0, (4, 3)), linewidth=1.2, animated=True))
        diameter_px = min(12.0, max(4.0, side_px / (2.4 * math.sqrt(max(len(data.labels), 1)))))
        points_per_px = 72.0 / dpi
        self.points = ax.scatter(data.points[:, 0], data.points[:, 1], s=(diameter_px * points_per_px) ** 2,
                                 c=np.where(data.labels[:, None] > 0.5, RED_RGBA, BLUE_RGBA),
                                 linewidths=max(1.2, diameter_px / 5.5) * points_per_px, animated=True, zorder=3)
        self.boundary = ax.add_line(Line2D([], [], color=hex_colour(INK), linewidth=2.2, animated=True,
                                           solid_capstyle="butt", zorder=4))
        top = rect[1] + rect[3]
        line_height = 1.35 * font_px / fig.bbox.height
        fig.text(rect[0], top + 1.75 * line_height, heading(track.title, track.learner, side_px, font_px),
                 color=colour, fontsize=font_px * points_per_px, fontweight="bold", va="bottom")
        self.caption = Caption(fig, rect[0], top + 0.45 * line_height, 0.92 * font_px, INK)

    def show(self, step: int) -> None:
        state, button, finished = self.track.at(step)
        region, boundary = clip_to_square(state.params)
        self.region.set_xy(region if len(region) else np.zeros((1, 2)))
        self.region.set_visible(len(region) > 2)
        ends = boundary if len(boundary) == 2 else np.zeros((0, 2))
        self.boundary.set_data(ends[:, 0], ends[:, 1])
        red = predicted_red(state.params, state.data.points)
        self.points.set_edgecolors(np.where(red[:, None], RED_RGBA, BLUE_RGBA))
        self.caption.text = caption(state, self.track.last_seq, button, finished)

    def artists(self) -> list:
        """The moving matplotlib artists, bottom to top; the caption is drawn into the pixels afterwards."""
        return [self.region, self.truth, self.points, self.boundary]


def caption(state: State, last_seq: int, button: str | None, finished: bool) -> str:
    """Steps count presses: the state after event seq has had seq - 1 presses since the session started."""
    m = state.metrics
    text = f"step {state.seq - 1}/{last_seq - 1}   accuracy {m.accuracy:.2f}   score {m.score:.2f}"
    if finished:
        return text + "   · finished"
    if button is not None:
        return text + f"   · pressed {button}"
    return text
