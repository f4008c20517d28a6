"""Render tracks to an animated GIF or a PNG still; check a request before any work is done."""

from pathlib import Path
from typing import Callable, Sequence

from PIL import Image

from replay.errors import ReplayError
from replay.gif import AtomicFile, GifStream
from replay.palette import quantise
from replay.timeline import METRICS, Track, plan_frames

MAX_FPS = 50
LINGER_MS = 2500
MIN_SIZE, MAX_SIZE = 160, 4000


def check_output(path: str, suffix: str) -> Path:
    """The output path, if it names a file with `suffix` in a directory that exists."""
    out = Path(path)
    if out.suffix.lower() != suffix:
        raise ReplayError(f"the output file must end in {suffix}, got {path!r}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ReplayError(f"the directory {str(parent)!r} does not exist; create it first")
    if out.is_dir():
        raise ReplayError(f"{path!r} is a directory")
    return out


def check_options(fps: int = 1, max_frames: int = 1, size: int = MIN_SIZE, metric: str = "accuracy") -> None:
    # each refusal names its field: the command line spells it --fps, the server ?fps=
    if not 1 <= fps <= MAX_FPS:
        raise ReplayError(f"fps must be from 1 to {MAX_FPS}, got {fps}", field="fps")
    if max_frames < 1:
        raise ReplayError(f"max_frames must be at least 1, got {max_frames}", field="max_frames")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ReplayError(f"size must be from {MIN_SIZE} to {MAX_SIZE} pixels, got {size}", field="size")
    if metric not in METRICS:
        raise ReplayError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}", field="metric")


def render_gif(tracks: Sequence[Track], steps: Sequence[int], path: str, fps: int = 12, size: int = 640,
               metric: str = "accuracy", on_frame: Callable[[int, int], None] | None = None) -> dict:
    """Write the animation of `tracks` at the sampled `steps` to `path` (atomically); return what was made.

    `on_frame(done, total)` is called after each frame, for a progress bar.
    """
    from replay.scene import Scene

    check_options(fps, 1, size, metric)
    out = check_output(path, ".gif")
    frames = plan_frames(tracks, steps)
    scene = Scene(list(tracks), size, metric)
    duration = round(1000 / fps / 10) * 10  # GIF delays are whole hundredths of a second
    try:
        with AtomicFile(out) as fp:
            stream = GifStream(fp, scene.size)
            for done, step in enumerate(frames, 1):
                stream.add(quantise(scene.draw(step)), duration)
                if on_frame is not None:
                    on_frame(done, len(frames))
            stream.close(linger_ms=LINGER_MS)
    finally:
        scene.close()
    return {"path": str(out), "frames": stream.frames, "size": scene.size, "steps": len(frames)}


def render_png(track: Track, step: int, path: str, size: int = 640) -> dict:
    """Write the still of `track` at `step` to `path` (atomically), with the same drawing as the GIF."""
    from replay.scene import Scene

    check_options(size=size)
    out = check_output(path, ".png")
    scene = Scene([track], size)
    try:
        pixels = scene.draw(step)
        image = Image.fromarray(pixels[..., :3].copy())
        with AtomicFile(out) as fp:
            image.save(fp, format="PNG")
    finally:
        scene.close()
    return {"path": str(out), "size": scene.size}
