"""How the command line prints: errors as one line, tables, the audit report, the demo's summary, progress bars,
the play screen.

Text for people; cli.py parses and calls the service, then hands results here. JSON output stays in cli.py
(`echo_json`), since its shape is the scripts' contract.
"""

import contextlib
import csv
import functools
import itertools
import os
import shlex
import sys

import typer

import service
from console import defer_in, exit_code, interrupted_by, printable, say, stop_on_signals, stop_received
from engine import InvalidCommand, NnreplayError
from store import EventLog


# the option spelling of each field an error can name, where it is not just --FIELD
OPTIONS = {"count": "--count", "from": "--from", "sessions": "--sessions"}


def not_reproducible(message: str) -> None:
    """End a command whose session was recorded on other arithmetic (exit 3): not a failure of the log."""
    typer.echo(f"Note: {printable(message)}", err=True)
    raise typer.Exit(3)


def fail(message: str, code: int = 1) -> None:
    # messages quote names and paths from files and databases: never let them drive the terminal
    typer.echo(f"Error: {printable(message)}", err=True)
    raise typer.Exit(code)


def loss_text(loss: float) -> str:
    """Four decimals, as always; a loss too large for them (a run far off) in scientific notation rather
    than as 190 digits."""
    return f"{loss:.4f}" if abs(loss) < 1e6 else f"{loss:.4g}"


def stopped(interruption: BaseException, what: str) -> None:
    """End a command that Ctrl-C, SIGTERM or SIGHUP stopped: one line saying what was kept, exit 128 + signal."""
    if not hasattr(interruption, "signum"):  # SQLite work ended by a signal comes back as a plain interrupt
        interruption = stop_received() or interruption
    say(f"Error: {interrupted_by(interruption)}: {printable(what)}")
    raise typer.Exit(exit_code(interruption))


def describe_error(error: NnreplayError) -> str:
    """The error's message, its field spelled as this front end's option (`at ...` -> `--at ...`)."""
    message, field = str(error), error.field
    if field and message.startswith(f"{field} "):
        return OPTIONS.get(field, f"--{field.replace('_', '-')}") + message[len(field):]
    return message


def guarded(fn):
    """`fn` with every error turned into one line on stderr and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*a, **k):
        stop_on_signals()  # SIGTERM and SIGHUP clean up as Ctrl-C does
        from store import progress

        progress.reset()
        defer_in(progress.HANDLER_CODE, progress.request_stop)  # a signal ends SQLite work too
        try:
            return fn(*a, **k)
        except NnreplayError as error:
            fail(describe_error(error))
        except KeyboardInterrupt as interruption:
            stopped(interruption, "events committed before it are kept; unfinished output files are removed")
        except BrokenPipeError:
            # the reader went away (`... | head`): nothing more to say, and nowhere to say it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as error:
            if stop_received() is not None:  # the signal's exception, renamed by a library on its way up
                stopped(stop_received(), "events committed before it are kept; unfinished output files are removed")
            if isinstance(error, OSError):
                fail(f"{error.filename or ''}{': ' if error.filename else ''}{error.strerror or error}")
            # a bug: still one line, the details on request
            if os.environ.get("NNREPLAY_DEBUG"):
                raise
            fail(f"unexpected {type(error).__name__}: {error} (set NNREPLAY_DEBUG=1 for a traceback)")

    return wrapper


@contextlib.contextmanager
def progress(total: int, label: str, at_least: int = 0):
    """Yield `advance(n)`: a rich progress bar on stderr when it is a terminal and `total` is at least
    `at_least`, else a function that does nothing."""
    if not sys.stderr.isatty() or total < at_least:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(console=stderr_console(), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def print_summary(state) -> None:
    m = state.metrics
    typer.echo(f"seq {state.seq}  accuracy {m.accuracy:.3f}  loss {loss_text(m.loss)}  score {m.score:.4f}")


def print_show(info, state, out: dict) -> None:
    """`show` as text."""
    head = "" if info.name is None else f"  ({printable(info.name)})"
    typer.echo(f"session   {info.id}{head}")
    s = state.settings
    # the log's settings, not the sessions table's copy: that table is not hashed, and may have been edited
    typer.echo(f"learner   {s.learner}   seed {s.seed}   points {s.points}   noise {s.noise}"
               + (f"   lr {s.lr}" if s.learner == "gradient" else f"   step {s.step}   discount {s.discount}"))
    # one step vocabulary (docs/api.md): a step counts presses, as `frame`, `replay` and the page say it
    presses = state.seq - 1
    typer.echo(f"seq       {state.seq}   (step {presses}: {presses} press{'' if presses == 1 else 'es'} since the start)")
    if info.parent_id is not None:
        typer.echo(f"forked    from {info.parent_id} at seq {info.parent_seq}")
    origin = out.get("origin")
    if origin:
        changed = ", ".join(origin["changed"]) or "none: the original's settings"
        typer.echo(f"re-press  of session {origin['session_id'][:12]} (its head seq {origin['seq']}, hash "
                   f"{origin['head_hash'][:12]}); settings changed: {printable(changed)}")
    if "weights" in out:
        if s.data != "linear":  # the perceptron on x, y, but not on release 0.1's data set
            typer.echo(f"data      {s.data}")
        typer.echo(f"weights   w1 {out['weights'][0]:+.4f}   w2 {out['weights'][1]:+.4f}   bias {out['bias']:+.4f}")
    else:
        for line in model_lines(state):
            typer.echo(line)
    typer.echo(f"metrics   accuracy {out['accuracy']:.3f}   loss {loss_text(out['loss'])}   score {out['score']:.4f}")
    if out["test_accuracy"] is not None:
        held = len(out["test_points"])
        typer.echo(f"held out  {held} point{'' if held == 1 else 's'}   accuracy {out['test_accuracy']:.3f}   "
                   f"loss {loss_text(out['test_loss'])}")
    typer.echo(f"head      {out['head_hash']}")
    if out.get("replay", "as recorded") == "as recorded":
        typer.echo(f"digest    {out['digest']}")
    else:  # the numbers above are this machine's fold, not the record's
        typer.echo(f"recorded  {out['recorded_digest']}   (the state the log records at seq {state.seq})")
        typer.echo(f"folded    {out['digest']}   (what this machine folds: the numbers above; "
                   f"{'other arithmetic' if out['replay'] == 'other arithmetic' else 'not the record'})")
    if state.learner is not None:
        typer.echo(f"last move {out['pending_action'] or '-'}   last button {printable(state.last_button or '-')}")
        posteriors = out["posteriors"]
        if len(posteriors) > SHOWN_ARMS:  # a network has 2 arms per parameter: the likeliest few tell enough
            posteriors = sorted(posteriors, key=lambda p: -p["mean"])[:SHOWN_ARMS]
            typer.echo(f"posterior {len(out['posteriors'])} arms; the {SHOWN_ARMS} likeliest to help "
                       f"(show --json lists all):")
        typer.echo("posterior " + "   ".join(f"{p['action']} {p['mean']:.2f}" for p in posteriors))


SHOWN_ARMS = 6


def model_lines(state) -> list[str]:
    """The model and its parameters for `show`: small arrays in full, larger ones by shape and range."""
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


def describe(payload: dict) -> str:
    """A short summary of a stored payload, as printable text (a tampered log may hold anything)."""
    return printable(_summary_of(payload))


def _summary_of(payload: dict) -> str:
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


def print_log(records, metrics: bool, csv_: bool) -> None:
    """`log` as CSV or as a table, one event at a time as `records` yields them (flat memory, and `| head`
    answers at once); with metrics, held-out ones too when the session keeps points out."""
    records = iter(records)
    first = next(records, None)
    held_out = metrics and first is not None and first["test_loss"] is not None
    records = itertools.chain([] if first is None else [first], records)
    if csv_:
        columns = (["seq", "type", "recorded_at", "summary", "hash"] + (["loss", "accuracy", "score"] if metrics else [])
                   + (["test_loss", "test_accuracy"] if held_out else []))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            record["summary"] = describe(record["payload"])
            writer.writerow([printable(record[c]) if isinstance(record[c], str) else record[c] for c in columns])
    else:
        for record in records:
            # the state after event seq is step seq - 1, as the page, `frame` and `show` name it
            extra = (f"  step {record['seq'] - 1}: acc {record['accuracy']:.3f} loss {loss_text(record['loss'])} "
                     f"score {record['score']:.4f}" if metrics else "")
            if held_out:
                extra += f"  held out acc {record['test_accuracy']:.3f} loss {loss_text(record['test_loss'])}"
            typer.echo(f"{record['seq']:>6}  {printable(record['recorded_at'])}  {printable(record['type']):<15} "
                       f"{describe(record['payload']):<34} {printable(record['hash'][:12])}{extra}")


def print_sessions(listing: list[dict]) -> None:
    """The listing; a session that cannot be read is marked BROKEN with the seq where it breaks, one recorded
    on other arithmetic (release 0.1/0.2, replaying differently here, chain intact) says so instead."""
    typer.echo(f"{'id':<12}  {'name':<20}  {'learner':<8}  {'events':>7}  {'accuracy':>8}  created")
    for item in listing:
        start = (f"{printable(item['id'][:12]):<12}  {printable(item['name'] or '-'):<20}  "
                 f"{printable(item['learner']):<8}  ")
        if item["ok"]:
            typer.echo(f"{start}{item['events']:>7}  {item['accuracy']:>8.3f}  {printable(item['created_at'][:19])}")
        else:
            problem = item["problem"]
            if problem.get("verdict") == "other arithmetic":
                typer.echo(f"{start}{item['events']:>7}  recorded on other arithmetic: this machine's replay "
                           f"departs at seq {problem['seq']} (`nnreplay show {printable(item['name'] or item['id'][:12])}` "
                           f"says more)")
            else:
                typer.echo(f"{start}BROKEN at seq {problem['seq']}: {printable(problem['reason'])}")


def _number(value, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def print_classes(found) -> None:
    """`class list`: one class a line."""
    typer.echo(f"{'name':<24}  {'lesson':<11}  {'students':>8}  {'state':<7}  id")
    for info in found:
        typer.echo(f"{printable(info.name):<24}  {info.lesson:<11}  {info.students:>8}  "
                   f"{'paused' if info.paused else 'running':<7}  {info.id[:12]}")


def print_class(info, students) -> None:
    """`class show`: the class's line, then a table of its students in joining order."""
    state = "paused" if info.paused else "running"
    typer.echo(f"class {printable(info.name)}: {info.lesson} lesson ({info.settings['learner']}), {state}, "
               f"{len(students)} student{'s' if len(students) != 1 else ''}")
    if not students:
        return
    typer.echo(f"{'student':<24}  {'session':<12}  {'presses':>7}  {'accuracy':>8}  {'score':>6}  {'held-out':>8}  "
               f"joined")
    for student in students:
        presses = "-" if student.presses is None else f"{student.presses:,}"
        typer.echo(f"{printable(student.name):<24}  {student.session[:12]:<12}  {presses:>7}  "
                   f"{_number(student.accuracy, 8)}  {_number(student.score, 6)}  "
                   f"{_number(student.held_out_accuracy, 8)}  {printable(student.joined_at[:19])}")


PLAY_KEYS = {"n": "next", " ": "next", "1": "bad", "2": "meh", "3": "good", "4": "great"}
QUIT_KEYS = ("q", "Q", "\x03", "\x04", "")  # q, Ctrl-C and Ctrl-D (raw mode turns them into bytes), EOF
ENTER_SCREEN, LEAVE_SCREEN, CLEAR = "\x1b[?1049h\x1b[?25l", "\x1b[?25h\x1b[?1049l", "\x1b[H\x1b[2J"


def draw(info, state, head_hash: str, message: str) -> None:
    import shutil

    from replay.terminal import render

    size = shutil.get_terminal_size()
    lines = render(state, printable(info.label), head_hash, printable(message), size.columns, size.lines, colour=True)
    sys.stdout.write(CLEAR + "\r\n".join(lines))
    sys.stdout.flush()


def play_screen(log: EventLog, info):
    """Run the play loop on the terminal in raw mode and the alternate screen; restore both however it ends."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        sys.stdout.write(ENTER_SCREEN)
        return play_loop(log, info, fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write(LEAVE_SCREEN)
        sys.stdout.flush()


def play_loop(log: EventLog, info, fd: int):
    """Read one key at a time; append its press and commit before the screen shows the result."""
    state, message = log.state(info.id), "press a key"
    while True:
        draw(info, state, log.head(info.id)[1], message)
        key = os.read(fd, 1).decode(errors="replace")
        if key in QUIT_KEYS:
            return state
        press = PLAY_KEYS.get(key)
        if press is None:
            message = f"no key {key!r}: use the keys listed above"
            continue
        try:
            _, state = service.record(log, info.id, press, source="play")
            message = f"recorded {'Next iteration' if press == 'next' else press} as event {state.seq}"
        except InvalidCommand as error:
            message = str(error)


RENDER_PROGRESS_FROM = 60  # panel-frames: below this a render is over before a bar would help
@contextlib.contextmanager
def render_progress(expected: int):
    """Yield on_frame(done, total): a rich bar on stderr for a terminal and a render worth waiting for."""
    if not sys.stderr.isatty() or expected < RENDER_PROGRESS_FROM:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=stderr_console(), transient=True) as progress:
        task = progress.add_task("rendering", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def print_curve_table(table: list[dict], steps: list[int]) -> None:
    width = max([34] + [len(printable(row["group"])) for row in table])  # a model's group names run long
    typer.echo(f"{'group':<{width}} {'sessions':>8}" + "".join(f" {'@' + str(s):>7}" for s in steps) + f" {'final':>7}")
    for row in table:
        cells = "".join(" " + ("      -" if row["at"][str(s)] is None else f"{row['at'][str(s)]:7.3f}") for s in steps)
        final = "      -" if row["final"] is None else f"{row['final']:7.3f}"
        typer.echo(f"{printable(row['group']):<{width}} {row['sessions']:>8}{cells} {final}")


def print_audit(report, seconds: float) -> None:
    from store.audit import CHECKS

    every_check = len(report.sessions) == 1  # with many sessions, only the failing ones are spelled out
    for session in report.sessions:
        title = (f"session {printable(session.session_id[:12])}  {printable(session.name or '-')}  "
                 f"{printable(session.learner)}")
        typer.echo(f"{title}  {session.events:,} events  head {session.head_hash[:12]}  "
                   f"{'OK' if session.ok else session.verdict.upper()}")
        if session.ok and not every_check:
            continue
        other = session.verdict == "other arithmetic"  # not a failure of the log: said as a departure
        for number, check in enumerate(session.checks, 1):
            detail = CHECKS[check.name] if check.ok else printable(
                check.reason if check.seq is None else f"seq {check.seq}: {check.reason}")
            mark = "ok  " if check.ok else ("DEPARTS" if other else "FAIL")
            typer.echo(f"  {mark}  {number} {check.name:<10} {detail}")
    if not report.sessions:
        guards = "ok" if report.guards.ok else f"FAIL: {report.guards.reason}"
        typer.echo(printable(f"no sessions in {report.database}; guards {guards}"))
    other = sum(session.verdict == "other arithmetic" for session in report.sessions)
    failed = sum(not session.ok for session in report.sessions) - other
    count, total = len(report.sessions), report.events
    rate_ = f" ({total / seconds:,.0f} events/s)" if seconds > 0 and total else ""
    sessions_ = "session" if count == 1 else "sessions"
    verdict = ("every check holds" if report.ok else
               f"{failed} of {count} {sessions_} FAILED" if failed else
               "the guards FAILED" if not report.guards.ok else "")
    if other:
        verdict += ("; " if verdict else "") + (
            f"{other} of {count} {sessions_} recorded on other arithmetic (nnreplay 0.1/0.2, machine-dependent): "
            f"intact, but replaying differently on this machine")
    typer.echo(f"audited {count} {sessions_}, {total:,} events in {seconds:.2f} s{rate_}: {verdict}")


def say_step(what: str) -> None:
    """Name a long command's next stage on a terminal."""
    if sys.stderr.isatty():
        typer.echo(f"{what}...", err=True)


def print_demo(target: str, rows, reports, sizes: dict) -> None:
    db = os.path.join(target, "demo.db")
    quoted = shlex.quote(db)  # the lines are meant to be pasted into a shell, whatever the folder is called
    typer.echo(f"{'session':<16} {'learner':<29} {'presses':>7} {'accuracy':>8}  head hash")
    for label, learner, (seq, head), accuracy in rows:
        typer.echo(f"{label:<16} {learner:<29} {seq - 1:>7} {accuracy:>8.3f}  {head[:16]}")
    bad = [report for report in reports if not report.ok]
    events = sum(report.events for report in reports)
    typer.echo(f"\naudit: {len(reports)} sessions, {events:,} events: "
               + ("every check holds" if not bad else f"{len(bad)} FAILED ({bad[0].verdict})"))
    typer.echo(f"\nwrote {os.path.join(target, 'compare.gif')}   the three sessions side by side\n"
               f"      {os.path.join(target, 'lesson.gif')}    a perceptron and a hidden layer of 8 on xor\n"
               f"      {os.path.join(target, 'curves.png')}    accuracy of {sizes['seeds']} seeds per group\n"
               f"      {db}       the event log (your ./nnreplay.db is untouched)\n\nnext, try:\n"
               f"  nnreplay --db {quoted} serve --open              the same runs in your browser: scrub, press, fork\n"
               f"  nnreplay --db {quoted} play thompson-person      rate the separator yourself: keys 1-4\n"
               f"  nnreplay --db {quoted} log thompson-person       what the simulated person pressed\n"
               f"  nnreplay --db {quoted} show thompson-next        weights, posteriors, head hash\n"
               f"  nnreplay --db {quoted} audit                     verify every log again")


def print_usage_error(error: Exception) -> int | None:
    """Print a usage error as one line on stderr (the help, for `nnreplay` alone); return its exit code,
    or None when `error` is not one."""
    # click's UsageError and kin: typer vendors click, so they are matched by what they offer
    if not (hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)):
        return None
    ctx = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError":
        typer.echo(ctx.get_help())
        return 0
    message = " ".join(error.format_message().split())
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    typer.echo(f"Error: {printable(message)}", err=True)
    return error.exit_code
