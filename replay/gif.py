"""A GIF written frame by frame, so that memory holds two frames however long the animation is.

Pillow's own multi-frame save collects every frame before it writes; here Pillow only LZW-encodes each
frame (`GifImagePlugin.getdata`) and this module writes the container: header with the fixed global
palette, a NETSCAPE loop block, then per frame the rectangle that changed, with unchanged pixels set to the
transparent index so that they compress to almost nothing.
"""

import contextlib
import os
import secrets
import struct
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image

from replay.palette import TRANSPARENT, palette_bytes

LEAVE_IN_PLACE = 1  # GIF disposal method: the next frame draws over this one


class GifStream:
    """Frames in, GIF out. Consecutive identical frames are merged by adding their durations."""

    def __init__(self, fp, size: tuple[int, int], loop: int = 0):
        self.fp = fp
        self.size = size
        self.shown: np.ndarray | None = None  # what a viewer displays after the frames written so far
        self.pending: tuple[np.ndarray, int] | None = None
        self.frames = 0
        width, height = size
        # logical screen: global colour table of 2^(7+1) entries, background index 0
        fp.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0) + palette_bytes())
        fp.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00")

    def add(self, indices: np.ndarray, duration_ms: int) -> None:
        if self.pending is not None and np.array_equal(self.pending[0], indices):
            self.pending = (self.pending[0], self.pending[1] + duration_ms)
            return
        self._flush()
        self.pending = (indices.copy(), duration_ms)

    def close(self, linger_ms: int = 0) -> None:
        if self.pending is not None:
            self.pending = (self.pending[0], self.pending[1] + linger_ms)
        self._flush()
        self.fp.write(b";")

    def _flush(self) -> None:
        if self.pending is None:
            return
        indices, duration = self.pending
        self.pending = None
        if self.shown is None:
            self._write(indices, (0, 0), duration, transparent=False)
        else:
            changed = indices != self.shown
            # never empty: add() merged any frame equal to the one before it
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            patch = np.where(changed[box], indices[box], np.uint8(TRANSPARENT))
            self._write(patch, (int(cols[0]), int(rows[0])), duration, transparent=True)
        self.shown = indices
        self.frames += 1

    def _write(self, indices: np.ndarray, offset: tuple[int, int], duration: int, transparent: bool) -> None:
        height, width = indices.shape
        image = Image.frombytes("P", (width, height), np.ascontiguousarray(indices).tobytes())
        image.putpalette(palette_bytes())
        params = {"duration": duration, "disposal": LEAVE_IN_PLACE}
        if transparent:
            params["transparency"] = TRANSPARENT
        for chunk in GifImagePlugin.getdata(image, offset, **params):
            self.fp.write(chunk)


class AtomicFile:
    """A file written under a temporary name in the target directory and renamed into place on success.

    A failure or interruption removes the temporary file: a refused or broken render leaves nothing behind.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __enter__(self):
        # named here and created inside the try: a signal landing just after the file appears must not
        # leave it behind. "xb" creates it exclusively, as readable as any file the user makes (umask).
        self.temp = os.path.join(self.path.parent or ".", f".{self.path.name}.{secrets.token_hex(8)}.part")
        try:
            self.fp = open(self.temp, "xb")
        except FileExistsError:  # not ours: never removed
            raise
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)
            raise
        return self.fp

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.fp.close()
        if exc_type is None:
            os.replace(self.temp, self.path)
        else:
            os.unlink(self.temp)
        return False
