"""The one-command tour: three learners on one data set, recorded, rendered side by side, audited; then the
lesson that follows, a perceptron and a hidden layer of 8 on xor, side by side.

Everything goes into a new folder with its own database; the folder appears only once the tour has
finished (it is built under a hidden temporary name and renamed), and an existing folder is refused.
"""

import contextlib
import os
import shutil
import tempfile

import attrs

from engine import InvalidSetting, Settings
from engine.settings import MAX_SEED
from store import EventLog
from store.errors import StoreError

from service.history import button_of, curves
from service.simulation import simulate_session

RUNS = (("gradient", "gradient", "next", "gradient"), ("thompson-next", "thompson", "next", "thompson by Next"),
        ("thompson-person", "thompson", "person", "thompson by simulated person"))
# (name, settings, group): the perceptron cannot separate xor, one hidden layer can
LESSON = (("xor-perceptron", {"data": "xor"}, "perceptron on xor"),
          ("xor-hidden-8", {"data": "xor", "hidden": (8,)}, "hidden layer of 8 on xor"))
LESSON_POINTS = 100
SIZES = {"full": {"presses": 300, "seeds": 20, "frames": 120, "width": 1200},
         "quick": {"presses": 30, "seeds": 3, "frames": 10, "width": 600}}


@attrs.frozen
class Tour:
    """What the tour made: its folder, showcase rows (label, group, (head seq, head hash), accuracy),
    the audit's session reports and the sizes used."""

    folder: str
    rows: list
    reports: list
    sizes: dict

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.reports)


def _no_progress(total: int, label: str):
    return contextlib.nullcontext(lambda n: None)


def _record(log: EventLog, seed: int, sizes: dict, progress) -> list:
    """The three showcase sessions on one data seed, then more seeds per group for the curves."""
    infos, total = [], len(RUNS) * sizes["seeds"] * sizes["presses"]
    with progress(total, "recording") as advance:
        for k in range(sizes["seeds"]):
            for name, learner, rater, _ in RUNS:
                label = name if k == 0 else f"curve-{name}-{seed + k}"
                info = log.new_session(Settings(learner=learner, seed=seed + k), name=label)
                simulate_session(log, info.id, rater, sizes["presses"], advance)
                infos.append(info)
    return infos


def _record_lesson(log: EventLog, seed: int, sizes: dict, progress) -> list:
    """The lesson's two sessions, gradient on one xor data set."""
    infos = []
    with progress(len(LESSON) * sizes["presses"], "recording the xor lesson") as advance:
        for name, settings, _ in LESSON:
            info = log.new_session(Settings(seed=seed, points=LESSON_POINTS, **settings), name=name)
            simulate_session(log, info.id, "next", sizes["presses"], advance)
            infos.append(info)
    return infos


def _render_side_by_side(log: EventLog, shown, path: str, sizes: dict, width: int, frames: int) -> None:
    from replay import collect, render_gif, sample_steps

    steps = sample_steps(sizes["presses"] + 1, frames)
    made = [collect(info.label, info.learner, ((state, button_of(row)) for row, state in log.states(info.id)),
                    steps) for info in shown]
    render_gif(made, steps, path, fps=12, size=width)


def _render(log: EventLog, infos, lesson, folder: str, sizes: dict) -> None:
    from replay.curves import draw

    _render_side_by_side(log, infos[:len(RUNS)], os.path.join(folder, "compare.gif"), sizes, sizes["width"],
                         sizes["frames"])
    # two panels at two thirds of the width keep each panel the size of compare.gif's; half the frames keep
    # the tour's time close to what it was (the xor lesson is told in its first hundred presses)
    _render_side_by_side(log, lesson, os.path.join(folder, "lesson.gif"), sizes, sizes["width"] * 2 // 3,
                         max(2, sizes["frames"] // 2))
    draw(curves(log, infos, "accuracy"), "accuracy", os.path.join(folder, "curves.png"))


def _build(folder: str, seed: int, sizes: dict, progress, on_step) -> tuple[list, list]:
    """Record, render and audit inside `folder`; return the showcase rows and the audit reports."""
    from store.audit import audit as audit_sessions

    with EventLog(os.path.join(folder, "demo.db"), create=True) as log:
        infos = _record(log, seed, sizes, progress)
        lesson = _record_lesson(log, seed, sizes, progress)
        on_step("rendering compare.gif, lesson.gif and curves.png")
        _render(log, infos, lesson, folder, sizes)
        on_step(f"auditing {len(infos) + len(lesson)} sessions")
        reports = audit_sessions(log, infos + lesson)
        groups = [group for *_, group in RUNS] + [group for *_, group in LESSON]
        rows = [(info.label, group, log.head(info.id), log.state(info.id).metrics.accuracy)
                for info, group in zip(infos[:len(RUNS)] + lesson, groups)]
    return rows, reports


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run(out: str, seed: int = 1, quick: bool = False, progress=_no_progress, on_step=lambda what: None,
        database: str | None = None) -> Tour:
    """Make the tour in the new folder `out`. `progress(total, label)` is a context manager yielding
    `advance(n)`; `on_step(what)` hears each stage's name. `database` is the front end's own log, whose
    files the new folder may not be named like."""
    from store.targets import check_target

    check_target(out, database, "demo folder")
    target = os.path.normpath(out)
    parent = os.path.dirname(os.path.abspath(target))
    if os.path.lexists(target):
        raise StoreError(f"{target} already exists; the demo never overwrites: remove it or pass --out NEW_DIR",
                         field="out")
    if not os.path.isdir(parent):
        raise StoreError(f"the folder {parent} does not exist; create it first", field="out")
    sizes = SIZES["quick" if quick else "full"]
    last = MAX_SEED - (sizes["seeds"] - 1)  # the curves use the seeds after it too
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= last:
        raise InvalidSetting(f"seed must be a whole number from 0 to {last:,} (the demo also records the "
                             f"{sizes['seeds'] - 1} seeds after it), got {seed}", field="seed")
    folder = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}-", dir=parent)
    try:
        os.chmod(folder, 0o777 & ~_umask())  # mkdtemp makes it private; the finished folder should not be
        rows, reports = _build(folder, seed, sizes, progress, on_step)
        os.rename(folder, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Tour(target, rows, reports, sizes)
