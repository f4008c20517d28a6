"""The nnreplay command line: parses, calls the service layer, prints. No domain logic lives here.

Every command opens the database named by --db (default $NNREPLAY_DB, else ./nnreplay.db), calls one
operation of `service` (shared with `nnreplay serve`), and turns its errors into one `Error: ...` line on
stderr with exit code 1. Usage errors exit 2. Rendering modules (matplotlib) and the server are imported
inside the commands that use them, so recording stays light.
"""

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
import re  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402

import cli_text  # noqa: E402
from cli_text import fail, stopped  # noqa: E402
from console import printable, write_json_array  # noqa: E402
import service  # noqa: E402
from engine import BUTTONS, NnreplayError  # noqa: E402
from engine.settings import model_options  # noqa: E402
import store  # noqa: E402

if _sigint_before is not None:
    signal.signal(signal.SIGINT, _sigint_before)

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Record perceptron training as an immutable event log; replay it; audit it.\n\n"
                       "Start with `nnreplay demo`, or `nnreplay new` then `nnreplay next SESSION`; "
                       "`nnreplay serve --open` shows it all in a browser.")

DEFAULT_DB = "nnreplay.db"
SessionArg = Annotated[str, typer.Argument(help="Session id, unambiguous id prefix (4+ characters), or name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def command(*args, **kwargs):
    """`app.command` whose errors become one line on stderr, never a traceback (see cli_text.guarded)."""
    return lambda fn: app.command(*args, **kwargs)(cli_text.guarded(fn))


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str, typer.Option("--db", envvar="NNREPLAY_DB", show_envvar=True, metavar="PATH|URL",
                                    help="The event log: an SQLite file, or a PostgreSQL URL "
                                         "(postgresql://USER@HOST/DB; needs the postgres extra).")] = DEFAULT_DB,
) -> None:
    if os.environ.get("NNREPLAY_DB") == "" and ctx.get_parameter_source("db").name == "DEFAULT":
        # click reads an empty variable as unset; a person who emptied it meant something, not ./nnreplay.db
        fail("the database path is empty: NNREPLAY_DB is set to ''; unset it or give it a file name")
    ctx.obj = {"db": db}


def _db(ctx: typer.Context) -> str:
    return ctx.obj["db"] if ctx.obj else DEFAULT_DB


def _whole(text) -> int:
    """An integer option in ASCII digits only: int() alone also takes "1_0", " 3", "٣" and "８", and a
    5,000-digit one raises a ValueError of its own."""
    if isinstance(text, int):
        return text
    if not re.fullmatch(r"-?[0-9]{1,100}", text):
        raise typer.BadParameter(f"{text[:40]!r} is not a whole number in ASCII digits")
    return int(text)


def _decimal(text) -> float:
    """A number option in ASCII (float() alone also takes "１.５" and "1_0.5"); nan and inf pass, for the
    setting's own check to refuse by name."""
    if isinstance(text, float):
        return text
    if not re.fullmatch(r"[+-]?([0-9]{1,40}(\.[0-9]{0,40})?|\.[0-9]{1,40})([eE][+-]?[0-9]{1,4})?|[+-]?(nan|inf|infinity)",
                        text, re.IGNORECASE):
        raise typer.BadParameter(f"{text[:40]!r} is not a number in ASCII digits")
    return float(text)


def _port(text) -> int:
    port = _whole(text)
    if not 0 <= port <= 65535:
        raise typer.BadParameter(f"{port} is not from 0 to 65535")
    return port


def open_log(ctx: typer.Context, create: bool = False):
    """The log named by --db: an SQLite file, or a PostgreSQL URL (store.open_log)."""
    return store.open_log(_db(ctx), create=create)


def echo_json(value) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


# -- recording ---------------------------------------------------------------------------------------------
DataOpt = Annotated[Optional[str], typer.Option(help="Data set: linear (default), xor, circle, gauss, spiral, or "
                                                       "TensorFlow Playground's pg-circle, pg-xor, pg-gauss, pg-spiral.")]
FeaturesOpt = Annotated[Optional[str], typer.Option(
    metavar="LIST", help="Model inputs, in order, from x, y, x2, y2, xy, sinx, siny (default x,y).")]
HiddenOpt = Annotated[Optional[str], typer.Option(
    metavar="SIZES", help="Hidden layers, e.g. 8 or 8,4 (default none: one perceptron).")]
ActivationOpt = Annotated[Optional[str], typer.Option(help="Hidden units: tanh (default), relu, sigmoid or linear.")]
TestShareOpt = Annotated[Optional[float], typer.Option(
    "--test-share", metavar="F", parser=_decimal, help="Share of the points held out of training and the score (default 0).")]


@command()
def new(
    ctx: typer.Context,
    learner: Annotated[str, typer.Option(help="gradient (supervised steps) or thompson (feedback learner).")] = "gradient",
    seed: Annotated[Optional[int], typer.Option(parser=_whole, metavar="INTEGER", help="Data set and learner seed; drawn from the OS if omitted.")] = None,
    points: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="Number of points in [-1, 1]² (1 to 10,000).")] = 40,
    noise: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Probability of flipping each label, 0 to 0.5.")] = 0.0,
    lr: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Learning rate of the gradient learner.")] = 1.0,
    step: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Size of one thompson parameter modification.")] = 0.2,
    discount: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Share of each thompson posterior kept per step.")] = 0.9,
    prior: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Each thompson arm starts at Beta(prior, prior).")] = 1.0,
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
    service.check_hidden(hidden)
    settings = dict(learner=learner, seed=seed, points=points, noise=noise, lr=lr, step=step, discount=discount, prior=prior,
                    **model_options(data, features, hidden, activation, test_share))
    service.check_new_session(name, **settings)  # refuse bad values before the file is created
    with open_log(ctx, create=True) as log:
        info = service.new_session(log, name=name, **settings)
    typer.echo(info.id)


@command()
def repress(
    ctx: typer.Context,
    session: SessionArg,
    name: Annotated[Optional[str], typer.Option(help="A unique name for the new session.")] = None,
    learner: Annotated[Optional[str], typer.Option(help="Another learner (buttons need thompson).")] = None,
    seed: Annotated[Optional[int], typer.Option(parser=_whole, metavar="INTEGER", help="Another seed: another data set and other draws.")] = None,
    points: Annotated[Optional[int], typer.Option(parser=_whole, metavar="INTEGER", help="Another number of points.")] = None,
    noise: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="Another label noise, 0 to 0.5.")] = None,
    lr: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="Another learning rate (gradient).")] = None,
    step: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="Another modification size (thompson).")] = None,
    discount: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="Another posterior discount (thompson).")] = None,
    prior: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="Another Beta(prior, prior) start (thompson).")] = None,
    data: DataOpt = None,
    features: FeaturesOpt = None,
    hidden: HiddenOpt = None,
    activation: ActivationOpt = None,
    test_share: TestShareOpt = None,
) -> None:
    """Record a new session that presses SESSION's presses again; print its id.

    The new session takes SESSION's settings (or those given here) and its
    Next and button presses in order, and folds in portable arithmetic: the
    same bits on every machine. Its first event names SESSION (id and head
    hash) and the settings given anew. It is how a session recorded by
    nnreplay 0.1/0.2 carries on portably, and how the same feedback is tried
    under another learner. Data set and learner draws are the new session's.

    Example: nnreplay repress gradient-lr1 --name gradient-lr1-portable

    Example: nnreplay repress person-1 --discount 0.5 --name person-1-what-if
    """
    overrides = dict(learner=learner, seed=seed, points=points, noise=noise, lr=lr, step=step, discount=discount,
                     prior=prior, **model_options(data, features, hidden, activation, test_share))
    service.check_new_session(name, **{key: value for key, value in overrides.items() if value is not None})
    with open_log(ctx) as log:
        original = log.resolve(session)
        presses = log.head(original.id)[0] - 1
        with cli_text.progress(presses, "re-pressing", at_least=5_000) as advance:
            try:
                _, info = service.repress(log, session, name, on_commit=advance, **overrides)
            except KeyboardInterrupt as interruption:
                stopped(interruption, "the new session keeps the presses committed before it (`nnreplay sessions` "
                                      "lists it); the batch in flight was rolled back")
    typer.echo(info.id)


@command("next")
def next_(
    ctx: typer.Context,
    session: SessionArg,
    count: Annotated[int, typer.Option("-n", "--count", parser=_whole, metavar="INTEGER", help="How many times to press Next iteration.")] = 1,
) -> None:
    """Press "Next iteration" COUNT times; print the resulting state in one line.

    Example: nnreplay next first-try -n 10
    """
    service.check_count(count)
    with open_log(ctx) as log, cli_text.progress(count, "recording", at_least=5_000) as advance:
        info = log.resolve(session)
        before, _ = log.head(info.id)
        try:
            _, state = service.record(log, info.id, "next", count, on_commit=advance)
        except KeyboardInterrupt as interruption:
            kept = log.head(info.id)[0] - before  # read from the log: a commit can land just before Ctrl-C
            stopped(interruption, f"kept {kept:,} presses of {count:,} (session {info.id[:12]} is at seq "
                                  f"{before + kept}); the batch in flight was rolled back")
    cli_text.print_summary(state)


@command()
def rate(
    ctx: typer.Context,
    session: SessionArg,
    button: Annotated[str, typer.Argument(help=f"One of: {', '.join(f'{b} ({v:.2f})' for b, v in BUTTONS.items())}.")],
) -> None:
    """Press a feedback button on a thompson session (the reward in brackets).

    Example: nnreplay rate first-try good
    """
    service.check_press(button, tuple(BUTTONS))  # "next" is a press too, but not a button
    with open_log(ctx) as log:
        _, state = service.record(log, session, button)
    cli_text.print_summary(state)


# -- reading -----------------------------------------------------------------------------------------------
@command()
def show(
    ctx: typer.Context,
    session: SessionArg,
    at: Annotated[Optional[int], typer.Option("--at", metavar="SEQ", parser=_whole, help="Show the state after event SEQ.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The state at the head (or at SEQ): weights, bias, loss, accuracy, score, learner state.

    Exit 1 when folding the log does not give the state it records there;
    3 for a session of nnreplay 0.1/0.2 that this machine's arithmetic
    replays differently (its log intact: both digests are printed).

    Example: nnreplay show first-try --at 5 --json
    """
    with open_log(ctx) as log:
        info, state, out = service.show(log, session, at)
    if json_:
        echo_json(out)
    else:
        cli_text.print_show(info, state, out)
    if out["replay"] == "other arithmetic":  # this machine's fold, labelled as such: never the log's word
        cli_text.not_reproducible(out["problem"]["reason"])
    if out["replay"] != "as recorded":
        fail(f"seq {state.seq}: folding this log gives another state than the one recorded there (digest "
             f"{out['digest'][:12]}, recorded {out['recorded_digest'][:12]}): the log was changed after it was "
             f"recorded; run `nnreplay audit`")


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
        # streamed: each event is printed as it is read, so `| head` answers at once and memory stays flat
        records = service.iter_events(log_, session, metrics=metrics)
        if json_:
            write_json_array(records, sys.stdout)
        else:
            cli_text.print_log(records, metrics, csv_)


ClassOpt = Annotated[Optional[str], typer.Option("--class", metavar="NAME", help="Only the sessions of this class "
                                                   "(its record first, then its students' in joining order).")]


@command()
def sessions(ctx: typer.Context, json_: JsonOpt = False, class_: ClassOpt = None) -> None:
    """Every session with its learner, length and current accuracy.

    Exit 1 when a session cannot be read (marked BROKEN); 3 when one was
    recorded by nnreplay 0.1/0.2 in machine-dependent arithmetic that this
    machine replays differently (intact; see `show` and `repress`). With
    --class, the JSON objects also say each session's `role` ("class" for
    the record, "student") and `student` (the shown name).

    Example: nnreplay sessions --json

    Example: nnreplay sessions --class "Maths 2b"
    """
    db = ctx.obj["db"] if ctx.obj else DEFAULT_DB
    # no file yet is an empty listing; a missing folder or an empty path is a mistake worth an error
    if db and not os.path.exists(db) and os.path.isdir(os.path.dirname(os.path.abspath(db))) and class_ is None:
        listing = []
    else:
        from service import classes

        with open_log(ctx) as log_:
            listing = service.list_sessions(log_) if class_ is None else classes.class_listing(log_, class_)
    broken = [item for item in listing if not item["ok"] and item["problem"].get("verdict") != "other arithmetic"]
    other = [item for item in listing if not item["ok"] and item not in broken]
    if json_:
        echo_json(listing)
    elif not listing:
        typer.echo(f"no sessions in {printable(db)}; start one with `nnreplay new`", err=True)
    else:
        cli_text.print_sessions(listing)
    if broken:
        fail(f"{len(broken)} of {len(listing)} sessions cannot be read (marked BROKEN, each with the seq where it "
             f"breaks); `nnreplay audit` says more")
    if other:
        cli_text.not_reproducible(
            f"{len(other)} of {len(listing)} sessions were recorded with machine-dependent arithmetic (nnreplay "
            f"0.1/0.2) and replay differently on this machine; their logs are intact. `nnreplay audit "
            f"--expect-head HASH` verifies one against a head hash you trust; `nnreplay repress` carries one on")


# -- scripted recording ------------------------------------------------------------------------------------
@command()
def simulate(
    ctx: typer.Context,
    learner: Annotated[str, typer.Option(help="gradient (supervised steps) or thompson (feedback learner).")],
    rater: Annotated[str, typer.Option(help="next: press Next iteration (thompson scores itself); "
                                            "person: a simulated person rates each picture with the four buttons.")] = "next",
    presses: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="Presses per session.")] = 300,
    seed: Annotated[Optional[int], typer.Option(parser=_whole, metavar="INTEGER", help="Seed of the first session (then S+1, ...); drawn from the OS if omitted.")] = None,
    count: Annotated[int, typer.Option("--sessions", parser=_whole, metavar="INTEGER", help="How many sessions to record.")] = 1,
    noise: Annotated[float, typer.Option(parser=_decimal, metavar="FLOAT", help="Probability of flipping each label, 0 to 0.5.")] = 0.0,
    points: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="Number of points in [-1, 1]².")] = 40,
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
    from service import simulation

    drawn = seed is None
    seed = service.random_seed() if drawn else seed
    service.check_hidden(hidden)
    plan = simulation.plan(learner, rater, presses, seed, count, points, noise, name,
                           model_options(data, features, hidden, activation, test_share))
    created = []
    try:
        with open_log(ctx, create=True) as log, cli_text.progress(count * presses, f"{learner} by {rater}") as advance:
            simulation.check_names_free(log, plan)
            if drawn:
                typer.echo(f"seed {seed} (drawn at random; pass --seed {seed} to record these sessions again)",
                           err=True)
            finals = simulation.simulate(log, plan, rater, presses, on_commit=advance, on_created=created.append)
    except KeyboardInterrupt:
        typer.echo("\n".join(created), nl=bool(created))
        with open_log(ctx) if created else contextlib.nullcontext() as log:
            kept = simulation.presses_kept(log, created)
        typer.echo(f"interrupted: kept {kept:,} presses in {len(created)} session(s), everything committed before "
                   f"Ctrl-C", err=True)
        raise typer.Exit(130)
    typer.echo("\n".join(created))
    seeds = f"seed {seed}" if count == 1 else f"seeds {seed}..{seed + count - 1}"
    typer.echo(f"recorded {count} {learner} session(s) by {rater}, {presses} presses each, {seeds}; "
               f"median final accuracy {statistics.median(state.metrics.accuracy for state in finals):.3f}", err=True)


# -- interactive recording ---------------------------------------------------------------------------------
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
    with open_log(ctx) as log:
        info = log.resolve(session)
        state = cli_text.play_screen(log, info)
        # the hash of the seq reported, not of the head: another terminal may have pressed meanwhile
        [row] = log.rows(info.id, state.seq, state.seq)
    typer.echo(f"{printable(info.label)}: step {state.seq - 1}, accuracy {state.metrics.accuracy:.3f}, "
               f"head {row.hash[:12]}")


# -- rendering ---------------------------------------------------------------------------------------------
PX_PER_COLUMN, MAX_DEFAULT_WIDTH = 480, 1440


OutputOpt = Annotated[str, typer.Option("-o", "--output", metavar="OUT", help="The file to write.")]


@command("replay")
def replay_(
    ctx: typer.Context,
    sessions_: Annotated[Optional[list[str]], typer.Argument(metavar="SESSION...", help="One or more sessions (id, prefix or name).", show_default=False)] = None,
    output: OutputOpt = ...,
    fps: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="Frames per second (1 to 50).")] = 12,
    max_frames: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="Sample a longer history evenly down to this many frames.")] = 300,
    size: Annotated[Optional[int], typer.Option(metavar="PX", parser=_whole, help="Width in pixels (default: 480 per column, at most 1440).")] = None,
    from_: Annotated[int, typer.Option("--from", metavar="SEQ", parser=_whole, help="First event to replay.")] = 1,
    to: Annotated[Optional[int], typer.Option("--to", metavar="SEQ", parser=_whole, help="Last event to replay (default: the last recorded).")] = None,
    metric: Annotated[str, typer.Option(help="What the strip under several sessions plots: accuracy, loss or score.")] = "accuracy",
    class_: Annotated[Optional[str], typer.Option("--class", metavar="NAME", help="Every student's first session of this class, side by side, in step (instead of SESSION...).")] = None,
) -> None:
    """Render boundary histories as a looping GIF; several sessions side by side, aligned by step.

    With --class, each student's board (their first session) in joining
    order, at most 36 (the rest are named on stderr).

    Example: nnreplay replay supervised feedback auto -o compare.gif --max-frames 120

    Example: nnreplay replay --class "Maths 2b" -o class.gif
    """
    from replay import check_options, check_output, grid_shape, render_gif

    if (class_ is None) == (not sessions_):
        fail("give SESSION... or --class NAME (one of the two)", code=2)
    if class_ is not None:
        from service import classes

        with open_log(ctx) as log_:
            sessions_, total = classes.replay_sessions(log_, class_)
        if total > len(sessions_):
            typer.echo(f"the class has {total} students; a GIF holds {len(sessions_)} boards: showing the first "
                       f"{len(sessions_)} to join", err=True)
    width = size if size is not None else min(MAX_DEFAULT_WIDTH, PX_PER_COLUMN * grid_shape(len(sessions_))[1])
    check_options(fps, max_frames, width, metric)
    check_output(output, ".gif")
    service.check_target(output, _db(ctx), "GIF")
    with open_log(ctx) as log_:
        tracks, steps = service.tracks(log_, sessions_, from_, to, max_frames)
    with cli_text.render_progress(len(steps) * len(tracks)) as on_frame:
        made = render_gif(tracks, steps, output, fps=fps, size=width, metric=metric, on_frame=on_frame)
    width, height = made["size"]
    typer.echo(f"{printable(made['path'])}: {made['frames']} frames, {width}x{height} px, "
               f"{os.path.getsize(made['path']) / 1e6:.2f} MB")


@command()
def frame(
    ctx: typer.Context,
    session: SessionArg,
    output: OutputOpt,
    at: Annotated[Optional[int], typer.Option("--at", metavar="SEQ", parser=_whole, help="Draw the state after event SEQ (default: the last recorded).")] = None,
    size: Annotated[int, typer.Option(metavar="PX", parser=_whole, help="Width in pixels.")] = PX_PER_COLUMN,
) -> None:
    """Render one still of a session (the same drawing as a replay frame) as a PNG.

    Example: nnreplay frame first-try --at 20 -o step20.png
    """
    from replay import check_options, check_output, render_png

    check_options(size=size)
    check_output(output, ".png")
    service.check_target(output, _db(ctx), "PNG")
    with open_log(ctx) as log_:
        track = service.frame_track(log_, session, at)
    made = render_png(track, 0, output, size=size)
    typer.echo(f"{printable(made['path'])}: {made['size'][0]}x{made['size'][1]} px")


# -- learning curves ---------------------------------------------------------------------------------------
def _parse_steps(text: Optional[str]) -> list[int]:
    try:
        steps = [int(part) for part in text.split(",")] if text else []
    except ValueError:
        fail(f"--at takes press counts separated by commas, like 50,100,300; got {text!r}")
    if any(step < 0 for step in steps):
        fail(f"--at press counts cannot be negative; got {text!r}")
    return steps


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
    service.check_target(output, _db(ctx), "PNG")
    with open_log(ctx) as log_:
        infos = log_.sessions() if all_ else [log_.resolve(ref) for ref in sessions_]
        if not infos:
            fail(f"no sessions in {log_.path} to plot")
        curves, skipped = service.readable_curves(log_, infos, metric)
    for item in skipped:  # one broken session hides no other: plot the rest, name these, exit 1
        typer.echo(f"skipped session {item['id'][:12]} ({printable(item['name'] or '-')}): cannot be read at seq "
                   f"{item['seq']}: {printable(item['reason'])}", err=True)
    if not curves:
        fail("no session could be read, so there is nothing to plot; `nnreplay audit` says why")
    curves, without = service.held_out_curves(curves) if metric.startswith("test_") else (curves, 0)
    if not curves:
        fail(f"--metric {metric} is measured on held-out points, and none of these sessions holds any out; "
             f"start sessions with --test-share (e.g. 0.2)")
    if without:
        typer.echo(f"left out {without} session(s) that hold no points out (started without --test-share)",
                   err=True)
    draw(curves, metric, output)
    table = service.curve_table(curves, steps)
    if json_:
        echo_json({"output": output, "metric": metric, "groups": table, "skipped": skipped})
        if skipped:
            raise typer.Exit(1)
        return
    cli_text.print_curve_table(table, steps)
    typer.echo(f"median {metric} per group; wrote {printable(output)}", err=True)
    if skipped:
        fail(f"{len(skipped)} of {len(infos)} sessions could not be read and are not in the plot")


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


@command()
def audit(
    ctx: typer.Context,
    sessions_: Annotated[Optional[list[str]], typer.Argument(
        metavar="[SESSION]...", help="Sessions to audit (id, id prefix or name); every session when none is named.")] = None,
    expect_head: Annotated[Optional[str], typer.Option(
        "--expect-head", metavar="HASH",
        help="Also fail unless the session's head hash is exactly HASH (one session named).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Verify that logs are intact and that replaying them reproduces what was recorded.

    Every session when none is named. Exit 0 when every check holds; 3 when
    the only findings are sessions recorded by nnreplay 0.1/0.2 in machine-
    dependent arithmetic that replay differently on this machine while their
    hash chains are intact (verify those with --expect-head; carry them on
    with `repress`); 1 for any other failure. Each failing check names its
    first failing seq and why.

    Example: nnreplay audit first-try --expect-head 3f9a...c2 (the head hash `nnreplay show` prints)
    """
    import time

    names = list(dict.fromkeys(sessions_ or []))
    expect_head = _check_expect_head(expect_head, names)
    started, checked = time.perf_counter(), [0]
    with open_log(ctx) as log_:
        infos = service.sessions_to_audit(log_, names)
        total = service.count_events(log_, infos)
        bar = cli_text.progress(total, "auditing") if total >= AUDIT_PROGRESS_EVENTS else contextlib.nullcontext()
        with bar as advance:
            def on_rows(n: int) -> None:
                checked[0] += n
                if advance is not None:
                    advance(n)

            try:
                report = service.audit(log_, infos, expect_head, on_rows=on_rows)
            except KeyboardInterrupt as interruption:
                stopped(interruption, f"audited {checked[0]:,} of {total:,} events of {len(infos)} session(s) "
                                      f"before it; no verdict, and nothing was changed (an audit only reads)")
    seconds = time.perf_counter() - started
    try:
        if json_:
            echo_json({**report.to_json(), "seconds": round(seconds, 3)})
        else:
            cli_text.print_audit(report, seconds)
    except BrokenPipeError:  # `audit | head -1`: the reader left, the verdict is still the exit code
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if not report.ok:
        raise typer.Exit(report.exit_code)


@command()
def fork(
    ctx: typer.Context,
    session: SessionArg,
    at: Annotated[int, typer.Option("--at", metavar="SEQ", parser=_whole, help="The last event the fork shares with SESSION.")],
    name: Annotated[Optional[str], typer.Option(help="A unique name for the new session (default: SESSION-fork-SEQ, "
                                                       "with -2, -3, ... when that is taken).")] = None,
) -> None:
    """Start a new session that shares SESSION's history up to SEQ; print its id.

    Same payloads, times and states up to SEQ (new hashes, since they include
    the session id); the fork then continues on its own.

    Example: OTHER=$(nnreplay fork first-try --at 40 --name what-if) && nnreplay rate $OTHER great
    """
    with open_log(ctx) as log_:
        info = service.fork(log_, session, at, name)
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
    with open_log(ctx) as log_:
        if output is None or output == "-":
            service.export(log_, session, sys.stdout)
            return
        info, count = service.export_to_file(log_, session, output)
    typer.echo(f"{printable(output)}: {count:,} events of session {info.id[:12]}", err=True)


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
    names the line. FILE may be - for standard input. A class export (from
    `GET /api/class/export`) holds several sessions: each is verified, then
    each is added with its id and name, and every id is printed.

    Example: nnreplay --db elsewhere.db import first-try.jsonl
    """
    if file == "-" and sys.stdin.isatty():  # it would wait for a paste nobody meant to make
        fail("import - reads an export from standard input, which is a terminal here; pipe one in, e.g. "
             "`nnreplay export first-try | nnreplay --db other.db import -`")
    stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
    try:
        with contextlib.nullcontext(stdin) if file == "-" else open(file, "rb") as lines:
            verified = service.read_exports(lines, "stdin" if file == "-" else file, name)
    except KeyboardInterrupt as interruption:
        stopped(interruption, "nothing was imported: the file was still being verified")
    with open_log(ctx, create=True) as log_:
        before = len(log_.sessions())
        try:
            imported = service.import_exports(log_, verified, name)
        except KeyboardInterrupt as interruption:
            kept = len(log_.sessions()) - before  # one transaction a session: each is there whole, or not at all
            stopped(interruption, f"{kept} session(s) were imported whole before it" if kept else
                    "nothing was imported (an import is one transaction a session)")
    for (header, copy), (info, kept_id) in zip(verified, imported):
        for warning in copy.warnings:  # drift: audit's verdict for an intact log, so it imports, as it forks
            typer.echo(f"warning: imported, but {printable(warning)}", err=True)
        if not kept_id:
            typer.echo(f"session {header['session']['id'][:12]} is already here: imported a copy with a new id "
                       f"(and new hashes)", err=True)
        typer.echo(info.id)


# -- the one-command tour ----------------------------------------------------------------------------------
@command()
def demo(
    ctx: typer.Context,
    out: Annotated[str, typer.Option("--out", metavar="DIR", help="A new folder for everything the demo writes.")] = "nnreplay-demo",
    seed: Annotated[int, typer.Option(parser=_whole, metavar="INTEGER", help="The data seed of the three showcase sessions.")] = 1,
    quick: Annotated[bool, typer.Option("--quick", hidden=True, help="Small settings, for the test suite.")] = False,
) -> None:
    """The tour: three learners on one data set, side by side, audited.

    Records a gradient session, a thompson session driven by Next and one
    driven by a simulated person; renders them side by side (compare.gif)
    with learning curves over 20 seeds per group (curves.png); then the
    lesson that follows: a perceptron and a hidden layer of 8 on xor, side
    by side (lesson.gif); audits it all.

    Everything goes into a new folder DIR with its own database DIR/demo.db;
    your ./nnreplay.db is not touched. An existing DIR is refused, never
    overwritten, and DIR appears only once the demo has finished.

    Example: nnreplay demo --out /tmp/tour
    """
    from service import demo as tour

    made = tour.run(out, seed, quick, progress=cli_text.progress, on_step=cli_text.say_step, database=_db(ctx))
    cli_text.print_demo(made.folder, made.rows, made.reports, made.sizes)
    if not made.ok:
        raise typer.Exit(1)


# -- classes ------------------------------------------------------------------------------------------------------
class_app = typer.Typer(help="Classes recorded by `nnreplay serve --class NAME`: list them, "
                                                   "show one's students and their progress.")
app.add_typer(class_app, name="class")


@class_app.command("list")
@cli_text.guarded
def class_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Every class in the database: name, lesson, students, paused or not.

    Reads only: the database is not changed, whatever its release.

    Example: nnreplay class list --json
    """
    from service import classes

    with open_log(ctx) as log_:
        found = classes.list_classes(log_)
    if json_:
        echo_json([info.to_json() for info in found])
    elif not found:
        typer.echo(f"no classes in {printable(_db(ctx))}; start one with `nnreplay serve --class NAME`", err=True)
    else:
        cli_text.print_classes(found)


@class_app.command("show")
@cli_text.guarded
def class_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The class's name.")],
    json_: JsonOpt = False,
) -> None:
    """A class and its students: each one's first session, presses, accuracy,
    score, held-out accuracy and when they joined; and whether it is paused.

    Example: nnreplay class show "Maths 2b"

    Example: nnreplay class show "Maths 2b" --json | jq '.students[].accuracy'
    """
    from service import classes

    with open_log(ctx) as log_:
        info = classes.find_class(log_, name)
        students = classes.students(log_, name)
    if json_:
        echo_json({"class": info.to_json(), "students": [student.to_json() for student in students]})
    else:
        cli_text.print_class(info, students)


# -- the page --------------------------------------------------------------------------------------------------
@command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on; any but loopback lets others press.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).", parser=_port, metavar="PORT")] = 8765,
    open_: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every press (show a recorded log).")] = False,
    class_: Annotated[Optional[str], typer.Option("--class", metavar="NAME", help="Run a class: students join with a code, the teacher sees every board (the same NAME again continues it).")] = None,
    lesson: Annotated[Optional[str], typer.Option(help="The class's lesson: supervised (default), feedback or auto-scored.")] = None,
    points: Annotated[Optional[int], typer.Option(parser=_whole, metavar="INTEGER", help="The lesson's number of points.")] = None,
    noise: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="The lesson's label noise, 0 to 0.5.")] = None,
    lr: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="The lesson's learning rate (supervised).")] = None,
    step: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="The lesson's modification size (feedback, auto-scored).")] = None,
    discount: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="The lesson's posterior discount.")] = None,
    prior: Annotated[Optional[float], typer.Option(parser=_decimal, metavar="FLOAT", help="The lesson's Beta(prior, prior) start.")] = None,
    data: DataOpt = None,
    features: FeaturesOpt = None,
    hidden: HiddenOpt = None,
    activation: ActivationOpt = None,
    test_share: TestShareOpt = None,
    max_students: Annotated[int, typer.Option(parser=_whole, metavar="N", help="Seats in the class (joins beyond are refused).")] = 200,
) -> None:
    """Serve the live page and its JSON API on the database; Ctrl-C stops it.

    Every click on the page is an event in the same log as the terminal's
    presses (source "web"); presses made elsewhere appear on the page within
    a second. The API is described in docs/api.md.

    With --class, the server also prints a join address and code for the
    students and a link for the teacher; each student presses a session of
    their own in the lesson, and the teacher's overview shows every board.
    The lesson's model options are those of `new`.

    Example: nnreplay --db class.db serve --read-only --open

    Example: nnreplay --db class.db serve --host 0.0.0.0 --class 4b --lesson feedback
    """
    from web.server import serve as run

    lesson_options = dict(points=points, noise=noise, lr=lr, step=step, discount=discount, prior=prior)
    settings = {key: value for key, value in lesson_options.items() if value is not None}
    settings.update(model_options(data, features, hidden, activation, test_share))
    room = None
    if class_ is not None:
        if read_only:
            fail("--class runs a class, whose students press: it cannot be --read-only", code=2)
        if max_students < 1:
            fail(f"--max-students must be at least 1, got {max_students}", code=2)
        service.check_hidden(hidden)
        service.check_new_session(**settings)  # bad values are refused before a database file is made
        room = {"name": class_, "lesson": lesson, "settings": settings, "max_students": max_students}
    elif lesson is not None or settings or max_students != 200:
        fail("--lesson, --max-students and the model options go with --class NAME", code=2)
    try:
        run(ctx.obj["db"] if ctx.obj else DEFAULT_DB, host, port, read_only, open_,
            say=lambda text, err=False: typer.echo(text, err=err), lesson=room)
    except NnreplayError as error:
        field = error.field
        if room is None or field not in (*settings, "lesson", "learner") or not str(error).startswith(f"{field}:"):
            raise
        # the class refused an option that differs from its recorded lesson: named as it was typed
        fail(f"--{field.replace('_', '-')}{str(error)[len(field):]}")


def global_options_first(argv: list[str]) -> list[str]:
    """argv with `--db PATH` (or `--db=PATH`) moved before the command when it was given after it, so that
    `nnreplay show x --db a.db` means what `nnreplay --db a.db show x` means. Only the first command word
    counts, and nothing after `--` is touched."""
    words = list(argv)
    end = words.index("--") if "--" in words else len(words)
    first = next((i for i, word in enumerate(words[:end]) if not word.startswith("-")
                  and (i == 0 or words[i - 1] != "--db")), None)
    if first is None or any(word == "--db" or word.startswith("--db=") for word in words[:first]):
        return words  # no command, or --db already given before it: a second one is click's usage error
    for i in range(first + 1, end):
        if words[i] == "--db" and i + 1 < end:
            return words[i:i + 2] + words[:i] + words[i + 2:]
        if words[i].startswith("--db="):
            return [words[i]] + words[:i] + words[i + 1:]
    return words


def main() -> None:
    """The console script: app() itself, except that a usage error is one line on stderr too."""
    try:
        code = app(args=global_options_first(sys.argv[1:]), standalone_mode=False)
    except typer.Abort:
        typer.echo("Error: aborted", err=True)
        sys.exit(1)
    except Exception as error:
        code = cli_text.print_usage_error(error)
        if code is None:
            raise
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
