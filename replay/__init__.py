"""Rendering of boundary histories: GIF, PNG frames, comparison grids (matplotlib, Agg).

Plain values in: engine `State`s with titles (see `timeline.collect`). The database is never touched here,
and matplotlib is imported only by the functions that draw.
"""

from replay.errors import ReplayError
from replay.render import check_options, check_output, render_gif, render_png
from replay.scene import grid_shape
from replay.timeline import METRICS, Track, collect, plan_frames, sample_steps

__all__ = ["METRICS", "ReplayError", "Track", "check_options", "check_output", "collect", "grid_shape", "plan_frames",
           "render_gif", "render_png", "sample_steps"]
