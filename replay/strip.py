"""The metrics strip under a grid of panels: one curve per session, a cursor at the current step."""

import numpy as np

from replay.palette import GREY, INK, hex_colour
from replay.timeline import HELD_OUT, Track

LABELS = {"accuracy": "accuracy", "loss": "loss (cross-entropy)", "score": "score = exp(−loss)"}


class Strip:
    def __init__(self, fig, rect, tracks: list[Track], colours: list[str], metric: str, font_px: float):
        points_per_px = 72.0 / fig.dpi
        size = font_px * points_per_px
        self.ax = ax = fig.add_axes(rect)
        self.first_step = tracks[0].first_seq - 1
        longest = max(track.length for track in tracks)
        for track, colour in zip(tracks, colours):
            steps = self.first_step + np.arange(track.length)
            ax.plot(steps, track.curves[metric], color=colour, linewidth=1.6, label=track.title)
            held_out = track.curves.get(HELD_OUT.get(metric, ""))
            if held_out is not None and not np.isnan(held_out).all():
                ax.plot(steps, held_out, color=colour, linewidth=1.2, linestyle=(0, (3, 2)),
                        label=f"{track.title} (held out)")
        ax.set_xlim(self.first_step, self.first_step + max(longest - 1, 1))
        if metric in ("accuracy", "score"):
            ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("step", fontsize=size, color=hex_colour(INK), labelpad=1)
        ax.set_ylabel(LABELS[metric], fontsize=size, color=hex_colour(INK))
        ax.tick_params(labelsize=0.85 * size, colors=hex_colour(INK), length=3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(True, color=hex_colour(GREY), alpha=0.25, linewidth=0.6)
        # above the plot, where it can hide no curve
        ax.legend(fontsize=0.85 * size, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                  ncol=min(len(ax.lines), 4), borderaxespad=0.2, handlelength=1.5)
        self.curves = [track.curves[metric] for track in tracks]
        self.cursor = ax.axvline(self.first_step, color=hex_colour(INK), linewidth=1.0, animated=True)
        self.dots = ax.scatter(np.zeros(len(tracks)), np.zeros(len(tracks)), s=(0.5 * font_px * points_per_px) ** 2,
                               c=colours, edgecolors=hex_colour(INK), linewidths=0.5, animated=True, zorder=5)

    def show(self, step: int) -> None:
        x = self.first_step + step
        self.cursor.set_xdata([x, x])
        held = [min(step, len(curve) - 1) for curve in self.curves]
        self.dots.set_offsets([(self.first_step + i, curve[i]) for i, curve in zip(held, self.curves)])

    def artists(self) -> list:
        return [self.cursor, self.dots]
