"""The nnreplay command line: parses, calls engine/store/replay, prints. No domain logic lives here.

Every command opens the database named by --db (default $NNREPLAY_DB, else ./nnreplay.db), calls the
library, and turns its errors into one `Error: ...` line on stderr with exit code 1. Usage errors exit 2.
Rendering modules (matplotlib) are imported inside the commands that draw, so recording stays light.
"""

import math
import os
import signal
import sys


def _interrupted_while_loading(signum, frame) -> None:
    # Ctrl-C while numpy and typer load (a third of a second): nothing is open or written yet
    os.write(2, b"Error: interrupted before anything was recorded\n")
    os._exit(130)


try:
    _sigint_before = signal.signal(signal.SIGINT, _interrupted_while_loading)
except ValueError:  # imported outside the main thread, where signals are not ours to set
    _sigint_before = None

import contextlib  # noqa: E402
import csv  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402

from engine import BUTTONS, InvalidCommand, Next, NnreplayError, Rate, Settings  # noqa: E402
from engine.settings import model_options  # noqa: E402
from engine import person  # noqa: E402
from store import EventLog  # noqa: E402
from store.log import check_name  # noqa: E402

if _sigint_before is not None:
    signal.signal(signal.SIGINT, _sigint_before)

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Record perceptron training as an immutable event log; replay it; audit it.\n\n"
                       "Start with `nnreplay demo`, or `nnreplay new` then `nnreplay next SESSION`.")

DEFAULT_DB = "nnreplay.db"
MAX_COUNT = 1_000_000
SessionArg = Annotated[str, typer.Argument(help="Session id, unambiguous id prefix (4+ characters), or name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def command(*args, **kwargs):
    """`app.command` whose errors become one line on stderr, never a traceback."""

    def register(fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            try:
                return fn(*a, **k)
            except NnreplayError as error:
                fail(str(error))
            except KeyboardInterrupt:
                fail("interrupted: events committed before it are kept; unfinished output files are removed", 130)
            except BrokenPipeError:
                # the reader went away (`... | head`): nothing more to say, and nowhere to say it
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(1)
            except OSError as error:
                fail(f"{error.filename or ''}{': ' if error.filename else ''}{error.strerror or error}")
            except (typer.Exit, typer.Abort, SystemExit):
                raise
            except Exception as error:  # a bug: still one line, the details on request
                if os.environ.get("NNREPLAY_DEBUG"):
                    raise
                fail(f"unexpected {type(error).__name__}: {error} (set NNREPLAY_DEBUG=1 for a traceback)")

        return app.command(*args, **kwargs)(wrapper)

    return register


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str, typer.Option("--db", envvar="NNREPLAY_DB", show_envvar=True, metavar="PATH",
                                    help="The SQLite database holding the event log.")] = DEFAULT_DB,
) -> None:
    ctx.obj = {"db": db}


def open_log(ctx: typer.Context, create: bool = False) -> EventLog:
    return EventLog(ctx.obj["db"] if ctx.obj else DEFAULT_DB, create=create)


def echo_json(value) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_COUNT:
        fail(f"count must be from 1 to {MAX_COUNT:,}, got {count}")
    return count


# -- recording ---------------------------------------------------------------------------------------------
DataOpt = Annotated[Optional[str], typer.Option(help="Data set: linear (default), xor, circle, gauss or spiral.")]
FeaturesOpt = Annotated[Optional[str], typer.Option(
    metavar="LIST", help="Model inputs, in order, from x, y, x2, y2, xy, sinx, siny (default x,y).")]
HiddenOpt = Annotated[Optional[str], typer.Option(
    metavar="SIZES", help="Hidden layers, e.g. 8 or 8,4 (default none: one perceptron).")]
ActivationOpt = Annotated[Optional[str], typer.Option(help="Hidden units: tanh (default), relu, sigmoid or linear.")]
TestShareOpt = Annotated[Optional[float], typer.Option(
    "--test-share", metavar="F", help="Share of the points held out of training and the score (default 0).")]


@command()
def new(
    ctx: typer.Context,
    learner: Annotated[str, typer.Option(help="gradient (supervised steps) or thompson (feedback learner).")] = "gradient",
    seed: Annotated[Optional[int], typer.Option(help="Data set and learner seed; drawn from the OS if omitted.")] = None,
    points: Annotated[int, typer.Option(help="Number of points in [-1, 1]² (1 to 10,000).")] = 40,
    noise: Annotated[float, typer.Option(help="Probability of flipping each label, 0 to 0.5.")] = 0.0,
    lr: Annotated[float, typer.Option(help="Learning rate of the gradient learner.")] = 1.0,
    step: Annotated[float, typer.Option(help="Size of one thompson parameter modification.")] = 0.2,
    discount: Annotated[float, typer.Option(help="Share of each thompson posterior kept per step.")] = 0.9,
    name: Annotated[Optional[str], typer.Option(help="A unique name to refer to the session by.")] = None,
    data: DataOpt = None,
    features: FeaturesOpt = None,
    hidden: HiddenOpt = None,
    activation: ActivationOpt = None,
    test_share: TestShareOpt = None,
) -> None:
    """Start a session; print its id alone on stdout.

    The default model is one perceptron on x, y; --hidden adds layers,
    --features other inputs, --data another data set (see the README).

    Example: SESSION=$(nnreplay new --learner thompson --seed 7 --name first-try)

    Example: nnreplay new --data xor --hidden 8 --test-share 0.2 --name xor-net
    """
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little") >> 1
    settings = Settings(learner=learner, seed=seed, points=points, noise=noise, lr=lr, step=step,
                        discount=discount, **model_options(data, features, hidden, activation, test_share))
    with open_log(ctx, create=True) as log:
        info = log.new_session(settings, name=name)
    typer.echo(info.id)


@command("next")
def next_(
    ctx: typer.Context,
    session: SessionArg,
    count: Annotated[int, typer.Option("-n", "--count", help="How many times to press Next iteration.")] = 1,
) -> None:
    """Press "Next iteration" COUNT times; print the resulting state in one line.

    Example: nnreplay next first-try -n 10
    """
    check_count(count)
    with open_log(ctx) as log:
        info = log.resolve(session)
        state = _record(log, info.id, (Next() for _ in range(count)), count)
    _print_summary(state)


@command()
def rate(
    ctx: typer.Context,
    session: SessionArg,
    button: Annotated[str, typer.Argument(help=f"One of: {', '.join(f'{b} ({v:.2f})' for b, v in BUTTONS.items())}.")],
) -> None:
    """Press a feedback button on a thompson session (the reward in brackets).

    Example: nnreplay rate first-try good
    """
    with open_log(ctx) as log:
        info = log.resolve(session)
        state = log.record(info.id, [Rate(button)])
    _print_summary(state)


def _record(log: EventLog, session_id: str, commands, count: int):
    """Record with a progress bar on a terminal when there is enough to wait for."""
    with _progress(count, "recording", at_least=5_000) as advance:
        return log.record(session_id, commands, on_commit=advance)


@contextlib.contextmanager
def _progress(total: int, label: str, at_least: int = 0):
    """Yield `advance(n)`: a rich progress bar on stderr when it is a terminal and `total` is at least
    `at_least`, else a function that does nothing."""
    if not sys.stderr.isatty() or total < at_least:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(console=_stderr_console(), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def _print_summary(state) -> None:
    m = state.metrics
    typer.echo(f"seq {state.seq}  accuracy {m.accuracy:.3f}  loss {m.loss:.4f}  score {m.score:.4f}")


# -- reading -----------------------------------------------------------------------------------------------
def state_json(info, state, head_hash: str, digest: str) -> dict:
    from engine.view import model_fields

    m = state.metrics
    model = state.settings.model
    data = state.data
    out = {
        "session_id": info.id, "name": info.name, "seq": state.seq, "learner": info.learner,
        "settings": state.settings.to_dict(),
        "loss": m.loss, "accuracy": m.accuracy, "score": m.score, "head_hash": head_hash, "digest": digest,
        "last_button": state.last_button, "separator": list(data.separator),
        "points": [[float(x), float(y), int(label)]
                   for (x, y), label in zip(data.points[:data.n_train], data.labels[:data.n_train])],
        **model_fields(state),
    }
    if model.legacy:  # release 0.1's keys, for the perceptron on (x, y)
        w1, w2, b = (float(v) for v in state.params)
        out.update(weights=[w1, w2], bias=b)
    if state.learner is not None:
        p = state.learner.posteriors
        arms = model.arms
        out["pending_action"] = None if state.learner.pending is None else arms[state.learner.pending]
        out["posteriors"] = [{"action": action, "alpha": a, "beta": b_, "mean": a / (a + b_)}
                             for action, a, b_ in zip(arms, p.alpha, p.beta)]
    return out


@command()
def show(
    ctx: typer.Context,
    session: SessionArg,
    at: Annotated[Optional[int], typer.Option("--at", metavar="SEQ", help="Show the state after event SEQ.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The state at the head (or at SEQ): weights, bias, loss, accuracy, score, learner state.

    Example: nnreplay show first-try --at 5 --json
    """
    from engine import state_digest

    with open_log(ctx) as log:
        info = log.resolve(session)
        state = log.state(info.id, at)
        row = next(log.rows(info.id, state.seq, state.seq))
    out = state_json(info, state, row.hash, state_digest(state))
    if json_:
        echo_json(out)
        return
    head = "" if info.name is None else f"  ({info.name})"
    typer.echo(f"session   {info.id}{head}")
    s = state.settings
    typer.echo(f"learner   {info.learner}   seed {s.seed}   points {s.points}   noise {s.noise}"
               + (f"   lr {s.lr}" if info.learner == "gradient" else f"   step {s.step}   discount {s.discount}"))
    typer.echo(f"seq       {state.seq}")
    if "weights" in out:
        typer.echo(f"weights   w1 {out['weights'][0]:+.4f}   w2 {out['weights'][1]:+.4f}   bias {out['bias']:+.4f}")
    else:
        for line in _model_lines(state):
            typer.echo(line)
    typer.echo(f"metrics   accuracy {out['accuracy']:.3f}   loss {out['loss']:.4f}   score {out['score']:.4f}")
    if out["test_accuracy"] is not None:
        typer.echo(f"held out  {len(out['test_points'])} points   accuracy {out['test_accuracy']:.3f}   "
                   f"loss {out['test_loss']:.4f}")
    typer.echo(f"head      {out['head_hash']}")
    typer.echo(f"digest    {out['digest']}")
    if state.learner is not None:
        typer.echo(f"last move {out['pending_action'] or '-'}   last button {state.last_button or '-'}")
        typer.echo("posterior " + "   ".join(f"{p['action']} {p['mean']:.2f}" for p in out["posteriors"]))


def _model_lines(state) -> list[str]:
    """The model and its parameters for `show`: small arrays in full, large ones by shape and range."""
    model = state.settings.model
    hidden = ",".join(map(str, model.hidden)) or "none"
    lines = [f"data      {state.settings.data}   features {','.join(model.features)}   hidden {hidden}"
             + (f"   activation {model.activation}" if model.hidden else "") + f"   {model.size} parameters"]
    for name, array in model.arrays(state.params).items():
        shape = "x".join(map(str, array.shape))
        if array.size <= 8:
            values = " ".join(f"{v:+.4f}" for v in array.ravel())
        else:
            values = f"from {array.min():+.4f} to {array.max():+.4f}   (show --json lists every value)"
        lines.append(f"{name:<9} {shape:<6} {values}")
    return lines


def _describe(payload: dict) -> str:
    parts = []
    if "button" in payload:
        parts.append(payload["button"])
    if "action" in payload:
        reward = payload.get("reward")
        parts.append(f"credit {'-' if reward is None else f'{reward:.2f}'}")
        if payload.get("undone"):
            parts.append("undo")
        parts.append(f"-> {payload['action']}")
    if "settings" in payload:
        s = payload["settings"]
        parts.append(f"{s['learner']} seed {s['seed']} points {s['points']}")
        if "data" in s:
            parts.append(s["data"])
        if "features" in s:
            parts.append("features " + ",".join(s["features"]))
        if "hidden" in s:
            parts.append("hidden " + ",".join(map(str, s["hidden"])) + " " + s.get("activation", "tanh"))
    return " ".join(parts)


@command()
def log(
    ctx: typer.Context,
    session: SessionArg,
    json_: JsonOpt = False,
    csv_: Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets and plotting elsewhere).")] = False,
    metrics: Annotated[bool, typer.Option("--metrics", help="Add each event's resulting loss, accuracy and score "
                                                             "(and held-out loss and accuracy).")] = False,
) -> None:
    """The events of a session, oldest first.

    Example: nnreplay log first-try --metrics --csv > first-try.csv
    """
    if json_ and csv_:
        fail("choose one of --json and --csv", 2)
    with open_log(ctx) as log_:
        info = log_.resolve(session)
        pairs = list(log_.states(info.id)) if metrics else [(row, None) for row in log_.rows(info.id)]
    records = []
    held_out = metrics and bool(pairs) and pairs[0][1].data.n_test > 0
    for row, state in pairs:
        record = row.to_json()
        if state is not None:
            m = state.metrics
            record.update(loss=m.loss, accuracy=m.accuracy, score=m.score, test_loss=m.test_loss,
                          test_accuracy=m.test_accuracy)
        records.append(record)
    if json_:
        echo_json(records)
    elif csv_:
        columns = (["seq", "type", "recorded_at", "summary", "hash"] + (["loss", "accuracy", "score"] if metrics else [])
                   + (["test_loss", "test_accuracy"] if held_out else []))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            record["summary"] = _describe(record["payload"])
            writer.writerow([record[c] for c in columns])
    else:
        for record in records:
            extra = (f"  acc {record['accuracy']:.3f} loss {record['loss']:.4f} score {record['score']:.4f}"
                     if metrics else "")
            if held_out:
                extra += f"  held out acc {record['test_accuracy']:.3f} loss {record['test_loss']:.4f}"
            typer.echo(f"{record['seq']:>6}  {record['recorded_at']}  {record['type']:<15} "
                       f"{_describe(record['payload']):<34} {record['hash'][:12]}{extra}")


@command()
def sessions(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Every session with its learner, length and current accuracy.

    Example: nnreplay sessions --json
    """
    db = ctx.obj["db"] if ctx.obj else DEFAULT_DB
    # no file yet is an empty listing; a missing folder or an empty path is a mistake worth an error
    if db and not os.path.exists(db) and os.path.isdir(os.path.dirname(os.path.abspath(db))):
        listing = []
    else:
        with open_log(ctx) as log_:
            listing = []
            for info in log_.sessions():
                state = log_.state(info.id)
                listing.append({"id": info.id, "name": info.name, "learner": info.learner, "seed": info.seed,
                                "events": state.seq, "accuracy": state.metrics.accuracy,
                                "score": state.metrics.score, "created_at": info.created_at,
                                "parent_id": info.parent_id, "parent_seq": info.parent_seq})
    if json_:
        echo_json(listing)
        return
    if not listing:
        typer.echo(f"no sessions in {db}; start one with `nnreplay new`", err=True)
        return
    typer.echo(f"{'id':<12}  {'name':<20}  {'learner':<8}  {'events':>7}  {'accuracy':>8}  created")
    for item in listing:
        typer.echo(f"{item['id'][:12]:<12}  {(item['name'] or '-'):<20}  {item['learner']:<8}  "
                   f"{item['events']:>7}  {item['accuracy']:>8.3f}  {item['created_at'][:19]}")


# -- scripted recording ------------------------------------------------------------------------------------
MAX_SESSIONS = 10_000


def _random_seed() -> int:
    return int.from_bytes(os.urandom(8), "little") >> 1


def _simulation_plan(learner, rater, presses, seed, count, points, noise, name, model=None) -> list[tuple]:
    """(settings, name) of every session to record; refuses bad values before anything is written."""
    check_count(presses)
    if not 1 <= count <= MAX_SESSIONS:
        fail(f"sessions must be from 1 to {MAX_SESSIONS:,}, got {count}")
    if rater not in person.RATERS:
        fail(f"unknown rater {rater!r}; choose one of: {', '.join(person.RATERS)}")
    if rater == "person" and learner == "gradient":
        fail("the simulated person presses the feedback buttons, which train thompson sessions; "
             "use --learner thompson, or --rater next for gradient")
    names = [None] * count if name is None else [check_name(f"{name}-{k}") for k in range(1, count + 1)]
    return [(Settings(learner=learner, seed=seed + k, points=points, noise=noise, **(model or {})), names[k])
            for k in range(count)]


def _simulate_session(log: EventLog, session_id: str, rater: str, presses: int, on_commit):
    """Record `presses` scripted presses, one commit per batch."""
    return log.record(session_id, person.script(rater, presses), on_commit=on_commit)


def _presses_kept(ctx: typer.Context, session_ids: list[str]) -> int:
    """Presses durable in the log, counted afresh: Ctrl-C can land between a commit and its on_commit."""
    with open_log(ctx) as log:
        return sum(log.head(session_id)[0] - 1 for session_id in session_ids)


@command()
def simulate(
    ctx: typer.Context,
    learner: Annotated[str, typer.Option(help="gradient (supervised steps) or thompson (feedback learner).")],
    rater: Annotated[str, typer.Option(help="next: press Next iteration (thompson scores itself); "
                                            "person: a simulated person rates each picture with the four buttons.")] = "next",
    presses: Annotated[int, typer.Option(help="Presses per session.")] = 300,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the first session (then S+1, ...); drawn from the OS if omitted.")] = None,
    count: Annotated[int, typer.Option("--sessions", help="How many sessions to record.")] = 1,
    noise: Annotated[float, typer.Option(help="Probability of flipping each label, 0 to 0.5.")] = 0.0,
    points: Annotated[int, typer.Option(help="Number of points in [-1, 1]².")] = 40,
    name: Annotated[Optional[str], typer.Option(help="Name the sessions PREFIX-1, PREFIX-2, ...", metavar="PREFIX")] = None,
    data: DataOpt = None,
    features: FeaturesOpt = None,
    hidden: HiddenOpt = None,
    activation: ActivationOpt = None,
    test_share: TestShareOpt = None,
) -> None:
    """Record sessions by scripted presses; print their ids, one a line.

    Every press is an ordinary event whose payload says source "simulate".
    Presses are committed in batches; Ctrl-C keeps every batch committed so
    far and says how much that is.

    Example: nnreplay simulate --learner thompson --rater person --sessions 20 --seed 0 --name person

    Example: nnreplay simulate --learner gradient --data xor --hidden 8 --sessions 100 --seed 0 --points 100
    """
    drawn = seed is None
    seed = _random_seed() if drawn else seed
    plan = _simulation_plan(learner, rater, presses, seed, count, points, noise, name,
                            model_options(data, features, hidden, activation, test_share))
    created, accuracies = [], []
    try:
        with open_log(ctx, create=True) as log, _progress(count * presses, f"{learner} by {rater}") as advance:
            taken = sorted({n for _, n in plan if n is not None} & {info.name for info in log.sessions()})
            if taken:
                fail(f"the name {taken[0]!r} is taken by another session; choose another --name")
            if drawn:
                typer.echo(f"seed {seed} (drawn at random; pass --seed {seed} to record these sessions again)",
                           err=True)
            for settings, label in plan:
                created.append(log.new_session(settings, name=label).id)
                accuracies.append(_simulate_session(log, created[-1], rater, presses, advance).metrics.accuracy)
    except KeyboardInterrupt:
        typer.echo("\n".join(created), nl=bool(created))
        kept = _presses_kept(ctx, created) if created else 0
        typer.echo(f"interrupted: kept {kept:,} presses in {len(created)} session(s), everything committed before "
                   f"Ctrl-C", err=True)
        raise typer.Exit(130)
    typer.echo("\n".join(created))
    seeds = f"seed {seed}" if count == 1 else f"seeds {seed}..{seed + count - 1}"
    typer.echo(f"recorded {count} {learner} session(s) by {rater}, {presses} presses each, {seeds}; "
               f"median final accuracy {statistics.median(accuracies):.3f}", err=True)


# -- interactive recording ---------------------------------------------------------------------------------
PLAY_KEYS = {"n": None, " ": None, "1": "bad", "2": "meh", "3": "good", "4": "great"}
QUIT_KEYS = ("q", "Q", "\x03", "\x04", "")  # q, Ctrl-C and Ctrl-D (raw mode turns them into bytes), EOF
ENTER_SCREEN, LEAVE_SCREEN, CLEAR = "\x1b[?1049h\x1b[?25l", "\x1b[?25h\x1b[?1049l", "\x1b[H\x1b[2J"


def _play_press(key: str):
    if key not in PLAY_KEYS:
        return None
    button = PLAY_KEYS[key]
    return Next(source="play") if button is None else Rate(button, source="play")


def _draw(info, state, head_hash: str, message: str) -> None:
    import shutil

    from replay.terminal import render

    size = shutil.get_terminal_size()
    lines = render(state, info.label, head_hash, message, size.columns, size.lines, colour=True)
    sys.stdout.write(CLEAR + "\r\n".join(lines))
    sys.stdout.flush()


def _play_loop(log: EventLog, info, fd: int):
    """Read one key at a time; append its press and commit before the screen shows the result."""
    state, message = log.state(info.id), "press a key"
    while True:
        _draw(info, state, log.head(info.id)[1], message)
        key = os.read(fd, 1).decode(errors="replace")
        if key in QUIT_KEYS:
            return state
        press = _play_press(key)
        if press is None:
            message = f"no key {key!r}: use the keys listed above"
            continue
        try:
            state = log.record(info.id, [press])
            message = f"recorded {'Next iteration' if isinstance(press, Next) else press.button} as event {state.seq}"
        except InvalidCommand as error:
            message = str(error)


@command()
def play(ctx: typer.Context, session: SessionArg) -> None:
    """Train a session from the keyboard, in the terminal.

    Keys: n or space for Next iteration, 1 2 3 4 for bad meh good great
    (thompson sessions), q to quit. Every key is appended to the log before
    the screen is redrawn, so quitting (or losing the terminal) loses nothing
    that was shown. Needs an interactive terminal.

    Example: nnreplay play first-try
    """
    if not sys.stdin.isatty():
        fail("play reads single keys from a terminal, and standard input is not one; "
             "in scripts use `nnreplay next` and `nnreplay rate`")
    import termios
    import tty

    with open_log(ctx) as log:
        info = log.resolve(session)
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setraw(fd)
            sys.stdout.write(ENTER_SCREEN)
            state = _play_loop(log, info, fd)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            sys.stdout.write(LEAVE_SCREEN)
            sys.stdout.flush()
        head = log.head(info.id)[1]
    typer.echo(f"{info.label}: step {state.seq - 1}, accuracy {state.metrics.accuracy:.3f}, head {head[:12]}")


# -- rendering ---------------------------------------------------------------------------------------------
RENDER_PROGRESS_FROM = 60  # panel-frames: below this a render is over before a bar would help
PX_PER_COLUMN, MAX_DEFAULT_WIDTH = 480, 1440


def _button_of(row) -> str | None:
    """The feedback button pressed at this event, if it was one."""
    return json.loads(row.payload).get("button") if row.type == "feedback_given" else None


def _replay_range(log: EventLog, info, start: int, end: Optional[int]) -> tuple[int, int]:
    from replay import ReplayError

    head, _ = log.head(info.id)
    last = head if end is None else min(end, head)
    if start < 1 or start > last:
        raise ReplayError(f"{info.label}: no events between --from {start} and --to {end if end is not None else head}"
                          f" (the session has events 1 to {head})")
    return start, last


@contextlib.contextmanager
def _render_progress(expected: int):
    """Yield on_frame(done, total): a rich bar on stderr for a terminal and a render worth waiting for."""
    if not sys.stderr.isatty() or expected < RENDER_PROGRESS_FROM:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=_stderr_console(), transient=True) as progress:
        task = progress.add_task("rendering", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


OutputOpt = Annotated[str, typer.Option("-o", "--output", metavar="OUT", help="The file to write.")]


@command("replay")
def replay_(
    ctx: typer.Context,
    sessions_: Annotated[list[str], typer.Argument(metavar="SESSION...", help="One or more sessions (id, prefix or name).")],
    output: OutputOpt,
    fps: Annotated[int, typer.Option(help="Frames per second (1 to 50).")] = 12,
    max_frames: Annotated[int, typer.Option(help="Sample a longer history evenly down to this many frames.")] = 300,
    size: Annotated[Optional[int], typer.Option(metavar="PX", help="Width in pixels (default: 480 per column, at most 1440).")] = None,
    from_: Annotated[int, typer.Option("--from", metavar="SEQ", help="First event to replay.")] = 1,
    to: Annotated[Optional[int], typer.Option("--to", metavar="SEQ", help="Last event to replay (default: the last recorded).")] = None,
    metric: Annotated[str, typer.Option(help="What the strip under several sessions plots: accuracy, loss or score.")] = "accuracy",
) -> None:
    """Render boundary histories as a looping GIF; several sessions side by side, aligned by step.

    Example: nnreplay replay supervised feedback auto -o compare.gif --max-frames 120
    """
    from replay import check_options, check_output, collect, grid_shape, render_gif, sample_steps

    width = size if size is not None else min(MAX_DEFAULT_WIDTH, PX_PER_COLUMN * grid_shape(len(sessions_))[1])
    check_options(fps, max_frames, width, metric)
    check_output(output, ".gif")
    with open_log(ctx) as log_:
        infos = [log_.resolve(ref) for ref in sessions_]
        ranges = [_replay_range(log_, info, from_, to) for info in infos]
        steps = sample_steps(max(last - first + 1 for first, last in ranges), max_frames)
        tracks = [collect(info.label, info.learner,
                          ((state, _button_of(row)) for row, state in log_.states(info.id, first, last)), steps)
                  for info, (first, last) in zip(infos, ranges)]
    with _render_progress(len(steps) * len(tracks)) as on_frame:
        made = render_gif(tracks, steps, output, fps=fps, size=width, metric=metric, on_frame=on_frame)
    width, height = made["size"]
    typer.echo(f"{made['path']}: {made['frames']} frames, {width}x{height} px, "
               f"{os.path.getsize(made['path']) / 1e6:.2f} MB")


@command()
def frame(
    ctx: typer.Context,
    session: SessionArg,
    output: OutputOpt,
    at: Annotated[Optional[int], typer.Option("--at", metavar="SEQ", help="Draw the state after event SEQ (default: the last recorded).")] = None,
    size: Annotated[int, typer.Option(metavar="PX", help="Width in pixels.")] = PX_PER_COLUMN,
) -> None:
    """Render one still of a session (the same drawing as a replay frame) as a PNG.

    Example: nnreplay frame first-try --at 20 -o step20.png
    """
    from replay import check_options, check_output, collect, render_png

    check_options(size=size)
    check_output(output, ".png")
    with open_log(ctx) as log_:
        info = log_.resolve(session)
        head, _ = log_.head(info.id)
        state = log_.state(info.id, at)
        row = next(log_.rows(info.id, state.seq, state.seq))
    track = collect(info.label, info.learner, [(state, _button_of(row))], [0], last_seq=head)
    made = render_png(track, 0, output, size=size)
    typer.echo(f"{made['path']}: {made['size'][0]}x{made['size'][1]} px")


# -- learning curves ---------------------------------------------------------------------------------------
def _parse_steps(text: Optional[str]) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",")] if text else []
    except ValueError:
        fail(f"--at takes press counts separated by commas, like 50,100,300; got {text!r}")
    if any(step < 0 for step in steps):
        fail(f"--at press counts cannot be negative; got {text!r}")
    return steps


def _curves(log: EventLog, infos, metric: str) -> list:
    from replay.curves import curve

    return [curve(info.learner, ((row.event(), state) for row, state in log.states(info.id)), metric)
            for info in infos]


def _median_of_finals(values) -> float | None:
    # a held-out metric is NaN for sessions that hold no points out: they have no final value
    finals = [float(v[-1]) for v in values if not math.isnan(v[-1])]
    return float(statistics.median(finals)) if finals else None


def _curve_table(curves, steps: list[int]) -> list[dict]:
    from replay.curves import grouped, median_at

    return [{"group": group, "sessions": len(values),
             "at": {str(step): median_at(values, step) for step in steps},
             "final": _median_of_finals(values)}
            for group, values in grouped(curves).items()]


@command()
def plot(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("-o", "--output", metavar="OUT.png", help="The PNG to write.")],
    sessions_: Annotated[Optional[list[str]], typer.Argument(metavar="SESSION...", help="Sessions to plot (id, prefix or name).")] = None,
    metric: Annotated[str, typer.Option(help="accuracy, loss, score, or on held-out points test_accuracy or "
                                              "test_loss.")] = "accuracy",
    all_: Annotated[bool, typer.Option("--all", help="Plot every session in the database.")] = False,
    at: Annotated[Optional[str], typer.Option("--at", metavar="STEPS", help="Also print each group's median after these presses, e.g. 50,100,300.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Learning curves of many sessions, grouped by learner and rater.

    Draws each group's median and interquartile band against presses, and
    prints each group's median final value (and after --at presses).

    Example: nnreplay plot $(nnreplay simulate --learner thompson --sessions 20 --seed 0) -o curves.png
    """
    from replay.curves import METRICS, check_png, draw

    if not sessions_ and not all_:
        fail("name the sessions to plot, or pass --all", 2)
    if metric not in METRICS:
        fail(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    steps = _parse_steps(at)
    check_png(output)
    with open_log(ctx) as log_:
        infos = log_.sessions() if all_ else [log_.resolve(ref) for ref in sessions_]
        if not infos:
            fail(f"no sessions in {log_.path} to plot")
        curves = _curves(log_, infos, metric)
    draw(curves, metric, output)
    table = _curve_table(curves, steps)
    if json_:
        echo_json({"output": output, "metric": metric, "groups": table})
        return
    typer.echo(f"{'group':<34} {'sessions':>8}" + "".join(f" {'@' + str(s):>7}" for s in steps) + f" {'final':>7}")
    for row in table:
        cells = "".join(" " + ("      -" if row["at"][str(s)] is None else f"{row['at'][str(s)]:7.3f}") for s in steps)
        final = "      -" if row["final"] is None else f"{row['final']:7.3f}"
        typer.echo(f"{row['group']:<34} {row['sessions']:>8}{cells} {final}")
    typer.echo(f"median {metric} per group; wrote {output}", err=True)


# -- audit, fork, export, import ---------------------------------------------------------------------------
AUDIT_PROGRESS_EVENTS = 20_000
HEX64 = set("0123456789abcdef")


def _check_expect_head(expect_head: Optional[str], sessions: list[str]) -> Optional[str]:
    if expect_head is None:
        return None
    if len(sessions) != 1:
        fail("--expect-head compares one session's head: name exactly one session", 2)
    expect_head = expect_head.strip().lower()
    if len(expect_head) != 64 or not set(expect_head) <= HEX64:
        fail("--expect-head takes a full head hash, 64 hex digits, as `nnreplay show` prints it", 2)
    return expect_head


def _print_audit(report, seconds: float) -> None:
    from store.audit import CHECKS

    every_check = len(report.sessions) == 1  # with many sessions, only the failing ones are spelled out
    for session in report.sessions:
        title = f"session {session.session_id[:12]}  {session.name or '-'}  {session.learner}"
        typer.echo(f"{title}  {session.events:,} events  head {session.head_hash[:12]}  "
                   f"{'OK' if session.ok else session.verdict.upper()}")
        if session.ok and not every_check:
            continue
        for number, check in enumerate(session.checks, 1):
            detail = CHECKS[check.name] if check.ok else (
                check.reason if check.seq is None else f"seq {check.seq}: {check.reason}")
            typer.echo(f"  {'ok  ' if check.ok else 'FAIL'}  {number} {check.name:<10} {detail}")
    if not report.sessions:
        guards = "ok" if report.guards.ok else f"FAIL: {report.guards.reason}"
        typer.echo(f"no sessions in {report.database}; guards {guards}")
    failed = sum(not session.ok for session in report.sessions)
    count, total = len(report.sessions), report.events
    rate_ = f" ({total / seconds:,.0f} events/s)" if seconds > 0 and total else ""
    sessions_ = "session" if count == 1 else "sessions"
    verdict = ("every check holds" if report.ok else
               f"{failed} of {count} {sessions_} FAILED" if failed else "the guards FAILED")
    typer.echo(f"audited {count} {sessions_}, {total:,} events in {seconds:.2f} s{rate_}: {verdict}")


@command()
def audit(
    ctx: typer.Context,
    sessions_: Annotated[Optional[list[str]], typer.Argument(
        metavar="[SESSION]...", help="Sessions to audit (id, id prefix or name) [default: every session].")] = None,
    expect_head: Annotated[Optional[str], typer.Option(
        "--expect-head", metavar="HASH",
        help="Also fail unless the session's head hash is exactly HASH (one session named).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Verify that logs are intact and that replaying them reproduces what was recorded.

    Every session when none is named. Exit 0 only when every check holds, 1
    otherwise; each failing check names its first failing seq and why.

    Example: nnreplay audit first-try --expect-head 3f9a...c2 (the head hash `nnreplay show` prints)
    """
    import time

    from store.audit import audit_database, count_events

    names = list(dict.fromkeys(sessions_ or []))
    expect_head = _check_expect_head(expect_head, names)
    started = time.perf_counter()
    with open_log(ctx) as log_:
        infos = [log_.resolve(ref) for ref in names] if names else log_.sessions()
        infos = list({info.id: info for info in infos}.values())
        total = count_events(log_, infos)
        bar = _progress(total, "auditing") if total >= AUDIT_PROGRESS_EVENTS else contextlib.nullcontext()
        with bar as advance:
            report = audit_database(log_, infos, expect_head, on_rows=advance)
    seconds = time.perf_counter() - started
    if json_:
        echo_json({**report.to_json(), "seconds": round(seconds, 3)})
    else:
        _print_audit(report, seconds)
    if not report.ok:
        raise typer.Exit(1)


@command()
def fork(
    ctx: typer.Context,
    session: SessionArg,
    at: Annotated[int, typer.Option("--at", metavar="SEQ", help="The last event the fork shares with SESSION.")],
    name: Annotated[Optional[str], typer.Option(help="A unique name for the new session.")] = None,
) -> None:
    """Start a new session that shares SESSION's history up to SEQ; print its id.

    Same payloads, times and states up to SEQ (new hashes, since they include
    the session id); the fork then continues on its own.

    Example: OTHER=$(nnreplay fork first-try --at 40 --name what-if) && nnreplay rate $OTHER great
    """
    from store.fork import fork as fork_session

    with open_log(ctx) as log_:
        info = fork_session(log_, log_.resolve(session), at, name)
    typer.echo(info.id)


@command()
def export(
    ctx: typer.Context,
    session: SessionArg,
    output: Annotated[Optional[str], typer.Option("-o", "--output", metavar="FILE",
                                                  help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Write a session as portable JSON Lines (to stdout, or FILE with -o).

    A header line (format and engine version, session, settings, event count,
    head hash), then one event a line with its hashes and state digest.

    Example: nnreplay export first-try -o first-try.jsonl
    """
    from store.portable import export as export_session, export_to_file

    with open_log(ctx) as log_:
        info = log_.resolve(session)
        if output is None or output == "-":
            export_session(log_, info, sys.stdout)
            return
        count = export_to_file(log_, info, output)
    typer.echo(f"{output}: {count:,} events of session {info.id[:12]}", err=True)


@command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="A file written by `nnreplay export` ('-': stdin).")],
    name: Annotated[Optional[str], typer.Option(
        help="Import under this name; required when the session's id is already in the database.")] = None,
) -> None:
    """Verify an export as an audit would, then add its session; print its id.

    Checks chain, schemas, digests and decisions before writing, then writes
    in one transaction. A bad line anywhere imports nothing, and the error
    names the line. FILE may be - for standard input.

    Example: nnreplay --db elsewhere.db import first-try.jsonl
    """
    from store.portable import import_session, read_export

    if name is not None:
        check_name(name)
    if file == "-":
        header, copy = read_export(sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin, "stdin")
    else:
        with open(file, "rb") as lines:
            header, copy = read_export(lines, file)
    with open_log(ctx, create=True) as log_:
        info, _ = import_session(log_, header, copy, name)
    if info.id != header["session"]["id"]:
        typer.echo(f"session {header['session']['id'][:12]} is already here: imported a copy with a new id "
                   f"(and new hashes)", err=True)
    typer.echo(info.id)


# -- the one-command tour ----------------------------------------------------------------------------------
DEMO_RUNS = (("gradient", "gradient", "next", "gradient"), ("thompson-next", "thompson", "next", "thompson by Next"),
             ("thompson-person", "thompson", "person", "thompson by simulated person"))
DEMO_SIZES = {"full": {"presses": 300, "seeds": 20, "frames": 120, "width": 1200},
              "quick": {"presses": 30, "seeds": 3, "frames": 10, "width": 600}}


def _demo_record(log: EventLog, seed: int, sizes: dict) -> list:
    """The three showcase sessions on one data seed, then more seeds per group for the curves."""
    infos, total = [], len(DEMO_RUNS) * sizes["seeds"] * sizes["presses"]
    with _progress(total, "recording") as advance:
        for k in range(sizes["seeds"]):
            for name, learner, rater, _ in DEMO_RUNS:
                label = name if k == 0 else f"curve-{name}-{seed + k}"
                info = log.new_session(Settings(learner=learner, seed=seed + k), name=label)
                _simulate_session(log, info.id, rater, sizes["presses"], advance)
                infos.append(info)
    return infos


def _demo_render(log: EventLog, infos, folder: str, sizes: dict) -> None:
    from replay import collect, render_gif, sample_steps
    from replay.curves import draw

    shown = infos[:len(DEMO_RUNS)]
    steps = sample_steps(sizes["presses"] + 1, sizes["frames"])
    tracks = [collect(info.label, info.learner, ((state, _button_of(row)) for row, state in log.states(info.id)),
                      steps) for info in shown]
    render_gif(tracks, steps, os.path.join(folder, "compare.gif"), fps=12, size=sizes["width"])
    draw(_curves(log, infos, "accuracy"), "accuracy", os.path.join(folder, "curves.png"))


def _demo_step(what: str) -> None:
    if sys.stderr.isatty():
        typer.echo(f"{what}...", err=True)


def _demo_build(folder: str, seed: int, sizes: dict) -> tuple[list, list]:
    """Record, render and audit inside `folder`; return the showcase rows and the audit reports."""
    from store.audit import audit as audit_sessions

    with EventLog(os.path.join(folder, "demo.db"), create=True) as log:
        infos = _demo_record(log, seed, sizes)
        _demo_step("rendering compare.gif and curves.png")
        _demo_render(log, infos, folder, sizes)
        _demo_step(f"auditing {len(infos)} sessions")
        audited = audit_sessions(log, infos)
        # store.audit.audit returns the session reports, as a list or (newer) in an AuditReport's .sessions
        reports = list(getattr(audited, "sessions", audited))
        rows = [(info.label, group, log.head(info.id), log.state(info.id).metrics.accuracy)
                for info, (*_, group) in zip(infos, DEMO_RUNS)]
    return rows, reports


def _demo_report(target: str, rows, reports, sizes: dict) -> None:
    db = os.path.join(target, "demo.db")
    typer.echo(f"{'session':<16} {'learner':<29} {'presses':>7} {'accuracy':>8}  head hash")
    for label, learner, (seq, head), accuracy in rows:
        typer.echo(f"{label:<16} {learner:<29} {seq - 1:>7} {accuracy:>8.3f}  {head[:16]}")
    bad = [report for report in reports if not report.ok]
    events = sum(report.events for report in reports)
    typer.echo(f"\naudit: {len(reports)} sessions, {events:,} events: "
               + ("every check holds" if not bad else f"{len(bad)} FAILED ({bad[0].verdict})"))
    typer.echo(f"\nwrote {os.path.join(target, 'compare.gif')}   the three sessions side by side\n"
               f"      {os.path.join(target, 'curves.png')}    accuracy of {sizes['seeds']} seeds per group\n"
               f"      {db}       the event log (your ./nnreplay.db is untouched)\n\nnext, try:\n"
               f"  nnreplay --db {db} play thompson-person      rate the separator yourself: keys 1-4\n"
               f"  nnreplay --db {db} log thompson-person       what the simulated person pressed\n"
               f"  nnreplay --db {db} show thompson-next        weights, posteriors, head hash\n"
               f"  nnreplay --db {db} audit                     verify every log again")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@command()
def demo(
    out: Annotated[str, typer.Option("--out", metavar="DIR", help="A new folder for everything the demo writes.")] = "nnreplay-demo",
    seed: Annotated[int, typer.Option(help="The data seed of the three showcase sessions.")] = 1,
    quick: Annotated[bool, typer.Option("--quick", hidden=True, help="Small settings, for the test suite.")] = False,
) -> None:
    """The tour: three learners on one data set, side by side, audited.

    Records a gradient session, a thompson session driven by Next and one
    driven by a simulated person; renders them side by side (compare.gif)
    with learning curves over 20 seeds per group (curves.png); audits it all.

    Everything goes into a new folder DIR with its own database DIR/demo.db;
    your ./nnreplay.db is not touched. An existing DIR is refused, never
    overwritten, and DIR appears only once the demo has finished.

    Example: nnreplay demo --out /tmp/tour
    """
    import shutil
    import tempfile

    target = os.path.normpath(out)
    parent = os.path.dirname(os.path.abspath(target))
    if os.path.lexists(target):
        fail(f"{target} already exists; the demo never overwrites: remove it or pass --out NEW_DIR")
    if not os.path.isdir(parent):
        fail(f"the folder {parent} does not exist; create it first")
    sizes = DEMO_SIZES["quick" if quick else "full"]
    Settings(seed=seed + sizes["seeds"] - 1)  # refuse a bad seed before anything is written
    folder = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}-", dir=parent)
    try:
        os.chmod(folder, 0o777 & ~_umask())  # mkdtemp makes it private; the finished folder should not be
        rows, reports = _demo_build(folder, seed, sizes)
        os.rename(folder, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _demo_report(target, rows, reports, sizes)
    if not all(report.ok for report in reports):
        raise typer.Exit(1)


def main() -> None:
    """The console script: app() itself, except that a usage error is one line on stderr too."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("Error: aborted", err=True)
        sys.exit(1)
    except Exception as error:
        # click's UsageError and kin (typer vendors click, so they are matched by what they offer)
        if not (hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)):
            raise
        ctx = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError":  # `nnreplay` alone: the help is the answer
            typer.echo(ctx.get_help())
            sys.exit(0)
        message = " ".join(error.format_message().split())
        if ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
        typer.echo(f"Error: {message}", err=True)
        sys.exit(error.exit_code)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
