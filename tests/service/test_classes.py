"""Classes through service.classes on real database files: joining, names, pausing, boards, copies, audit."""

import base64
import hashlib
import io
import multiprocessing
import shutil
from pathlib import Path

import pytest

import service
from engine import InvalidCommand, InvalidSetting
from service import classes
from store import open_log
from store.errors import InvalidName, NameTaken

DATA = Path(__file__).resolve().parent.parent / "data"


def token(n) -> str:
    return hashlib.sha256(f"token-{n}".encode()).hexdigest()


@pytest.fixture
def log(db_path):
    with open_log(db_path, create=True) as opened:
        yield opened


@pytest.fixture
def maths(log):
    """A class "Maths 2b" (feedback lesson, 20 points, 10 held out) on `log`."""
    return classes.open_class(log, "Maths 2b", lesson="feedback", points=20, test_share=0.5)


def test_a_class_record_holds_the_lessons_settings_and_continues_by_name(log, maths):
    """open_class makes the record once; giving its name again continues it, a differing setting is refused
    naming the option, and the lesson fixes the learner."""
    assert (maths.name, maths.lesson, maths.settings["learner"], maths.paused, maths.students) == \
        ("Maths 2b", "feedback", "thompson", False, 0)
    assert classes.open_class(log, "Maths 2b") == maths
    assert classes.open_class(log, "Maths 2b", lesson="feedback", points=20) == maths
    with pytest.raises(InvalidSetting) as refused:
        classes.open_class(log, "Maths 2b", points=30)
    assert refused.value.field == "points"
    with pytest.raises(InvalidSetting) as refused:
        classes.open_class(log, "Maths 2b", lesson="supervised")
    assert refused.value.field == "lesson"
    with pytest.raises(InvalidSetting) as refused:
        classes.open_class(log, "Physics", lesson="supervised", learner="thompson")
    assert refused.value.field == "learner"
    first = next(log.rows(maths.id, 1, 1))
    assert first.schema_version == 3 and first.decoded()["class"] == {"role": "class", "name": "Maths 2b",
                                                                       "lesson": "feedback"}


def test_a_session_that_is_not_a_class_keeps_its_name_and_is_no_class(log):
    """A plain session named like the class is neither found as a class nor overwritten by one."""
    service.new_session(log, name="Chemistry", seed=1)
    assert next(log.rows(log.resolve("Chemistry").id, 1, 1)).schema_version == 2
    with pytest.raises(classes.ClassNotFound) as missing:
        classes.find_class(log, "Chemistry")
    assert missing.value.field == "class"
    with pytest.raises(NameTaken) as taken:
        classes.open_class(log, "Chemistry")
    assert taken.value.field == "class"
    assert classes.list_classes(log) == []


def test_taken_shown_names_get_suffixes_and_each_student_a_seed_of_their_own(log, maths):
    """Ana, Ana 2, Ana 3 (after stripping); each session is CLASS/SHOWN with the lesson's settings and its
    own recorded seed; the same token joining again gets its own session back."""
    joined = [classes.join(log, "Maths 2b", name, token(i)) for i, name in enumerate(["Ana", "Ana", " Ana ", "Bo"])]
    assert [shown for _, shown in joined] == ["Ana", "Ana 2", "Ana 3", "Bo"]
    assert [info.name for info, _ in joined] == ["Maths 2b/Ana", "Maths 2b/Ana 2", "Maths 2b/Ana 3", "Maths 2b/Bo"]
    seeds = {info.seed for info, _ in joined}
    assert len(seeds) == 4 and maths.settings["seed"] not in seeds
    settings = log.state(joined[0][0].id, 1).settings
    assert (settings.points, settings.test_share, settings.learner) == (20, 0.5, "thompson")
    assert classes.join(log, "Maths 2b", "Someone else", token(0)) == (joined[0][0], "Ana")
    assert [s.name for s in classes.students(log, "Maths 2b")] == ["Ana", "Ana 2", "Ana 3", "Bo"]
    assert classes.find_class(log, "Maths 2b").students == 4


def test_a_long_name_keeps_its_suffix_within_forty_characters(log, maths):
    long = "x" * 40
    assert classes.join(log, "Maths 2b", long, token(1))[1] == long
    assert classes.join(log, "Maths 2b", long, token(2))[1] == "x" * 38 + " 2"


@pytest.mark.parametrize("name, why", [
    ("", "1 to 40"), ("   ", "1 to 40"), ("x" * 41, "1 to 40"), ("bell\x07", "U+0007"), ("tab\there", "U+0009"),
    ("new\nline", "U+000A"), ("evil\u202eEVIL", "U+202E"), ("rtl\u200fmark", "U+200F"), ("zero\u200bwidth", "U+200B"),
    ("joined\u200dname", "U+200D"), (None, "text"), (7, "text"),
])
def test_hostile_display_names_are_refused_naming_the_field(name, why):
    """Control characters, invisible format characters (right-to-left marks, zero-width ones) and lengths
    outside 1-40 are refused with field `name`."""
    with pytest.raises(InvalidName) as refused:
        classes.check_display_name(name)
    assert refused.value.field == "name" and why in str(refused.value)


@pytest.mark.parametrize("name, shown", [
    ("Zoë 🦊", "Zoë 🦊"), ("  Ana  ", "Ana"), ("Zoe\u0308", "Zoë"), ("علي", "علي"), ("李雷", "李雷"), ("x" * 40, "x" * 40),
    ("<b>&amp;</b>", "<b>&amp;</b>"),
])
def test_ordinary_names_in_any_script_emoji_included_are_kept(name, shown):
    """Emoji, other scripts and markup-looking text are printable (front ends escape them); the name is
    stripped and NFC-normalised, so a decomposed ë is the composed one."""
    assert classes.check_display_name(name) == shown


def test_max_students_is_enforced(log, maths):
    for i in range(3):
        classes.join(log, "Maths 2b", f"s{i}", token(i), max_students=3)
    with pytest.raises(classes.ClassFull) as full:
        classes.join(log, "Maths 2b", "late", token(9), max_students=3)
    assert full.value.field == "class"
    assert len(classes.students(log, "Maths 2b")) == 3


def test_unknown_class_and_bad_token_hash_are_refused(log, maths):
    with pytest.raises(classes.ClassNotFound):
        classes.join(log, "Physics", "Ana", token(1))
    with pytest.raises(InvalidCommand) as refused:
        classes.join(log, "Maths 2b", "Ana", "not-a-hash")
    assert refused.value.field == "token"


def _join_in_process(path: str, name: str, n: int, queue) -> None:
    with open_log(path) as opened:
        queue.put(classes.join(opened, "Maths 2b", name, token(n))[1])


def test_two_processes_joining_under_one_name_get_two_shown_names(db_path, log, maths):
    """Joins racing from two processes: the sessions table's UNIQUE name settles it, one is Ana, one Ana 2."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_join_in_process, args=(db_path, "Ana", n, queue)) for n in range(2)]
    for worker in workers:
        worker.start()
    shown = sorted(queue.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert shown == ["Ana", "Ana 2"]
    assert sorted(s.name for s in classes.students(log, "Maths 2b")) == ["Ana", "Ana 2"]


def test_students_and_members_read_the_log(log, maths):
    """students() gives each student's first session with presses, metrics from the heads read model and
    held-out accuracy; member() says who a session belongs to."""
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    service.record(log, ana.id, "next", 4)
    [student] = classes.students(log, "Maths 2b")
    state = log.state(ana.id)
    assert (student.session, student.presses, student.accuracy, student.score) == \
        (ana.id, 4, state.metrics.accuracy, state.metrics.score)
    assert student.held_out_accuracy == state.metrics.test_accuracy is not None
    assert "token_hash" not in student.to_json() and student.token_hash == token(1)
    found = classes.member(log, ana.id)
    assert (found.role, found.class_name, found.class_id, found.student, found.token_hash) == \
        ("student", "Maths 2b", maths.id, "Ana", token(1))
    assert classes.member(log, maths.id).role == "class"
    assert classes.student_by_token(log, "Maths 2b", token(1)).session == ana.id
    assert classes.student_by_token(log, "Maths 2b", token(2)) is None


def test_a_students_new_session_is_theirs_and_the_first_stays_their_board(log, maths):
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    again = classes.new_student_session(log, "Maths 2b", token(1))
    assert again.name == "Maths 2b/Ana-2" and again.seed != ana.seed
    [student] = classes.students(log, "Maths 2b")
    assert (student.session, student.sessions) == (ana.id, (ana.id, again.id))


def test_pause_and_resume_are_events_of_the_record_that_refuse_students_presses(log, maths):
    """set_paused writes class_paused / class_resumed (none when already so); check_not_paused refuses a
    student's press meanwhile (423 in the web), never the teacher's record; the model does not move."""
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    before = log.state(maths.id).params.tolist()
    assert classes.set_paused(log, "Maths 2b", True).paused
    assert classes.set_paused(log, "Maths 2b", True).paused
    with pytest.raises(classes.ClassPaused) as paused:
        classes.check_not_paused(log, ana.id)
    assert paused.value.field == "class"
    classes.check_not_paused(log, maths.id)
    assert not classes.set_paused(log, "Maths 2b", False).paused
    classes.check_not_paused(log, ana.id)
    assert [row.type for row in log.rows(maths.id)] == ["session_started", "class_paused", "class_resumed"]
    assert [row.decoded() for row in log.rows(maths.id, 2)] == [{}, {}]
    assert log.state(maths.id).params.tolist() == before
    report = classes.class_audit(log, "Maths 2b")
    assert report.ok and [c.name for c in report.sessions[0].checks][-1] == "class"


def test_a_pause_on_a_session_that_is_not_a_class_record_is_refused_naming_the_field(log, maths):
    from engine import PauseClass

    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    head = log.head(ana.id)
    with pytest.raises(InvalidCommand) as refused:
        log.record(ana.id, [PauseClass(True)])
    assert refused.value.field == "class" and log.head(ana.id) == head


def test_boards_draw_each_students_first_session_compactly(log, maths):
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    service.record(log, ana.id, "good", 2)
    [board] = classes.boards(log, "Maths 2b", grid=8)
    assert (board["session"], board["name"], board["seq"], board["presses"], board["grid"]) == (ana.id, "Ana", 3, 2, 8)
    cells = base64.b64decode(board["probabilities"])
    points = base64.b64decode(board["points"])
    assert len(cells) == 64 and len(points) == 3 * 20
    state = log.state(ana.id)
    # the card's numbers come with the board: the lesson holds half of the points out
    assert (board["accuracy"], board["held_out_accuracy"]) == (state.metrics.accuracy, state.metrics.test_accuracy)
    assert board["held_out_accuracy"] is not None
    from engine.view import probability

    # top-left cell: x = -1 + 1/8, y = 1 - 1/8
    import numpy as np

    top_left = probability(state, np.array([[-0.875, 0.875]]))[0]
    assert cells[0] == round(255 * top_left)
    assert set(points[2::3]) <= {0, 1}
    with pytest.raises(InvalidCommand) as refused:
        classes.boards(log, "Maths 2b", grid=1000)
    assert refused.value.field == "grid"


def test_boards_asked_for_by_id_are_the_classs_students_only(log, maths):
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    ben, _ = classes.join(log, "Maths 2b", "Ben", token(2))
    other = classes.open_class(log, "Art")
    cid, _ = classes.join(log, "Art", "Cid", token(3))
    loose = service.new_session(log, name="loose")
    asked = {ben.id, ana.id, maths.id, other.id, cid.id, loose.id, "0" * 32, ana.id[:8]}
    # joining order, and neither a record, another class's student, a session of no class nor a prefix
    assert [b["name"] for b in classes.boards(log, "Maths 2b", grid=4, sessions=asked)] == ["Ana", "Ben"]
    assert classes.boards(log, "Maths 2b", grid=4, sessions=set()) == []
    with pytest.raises(classes.ClassNotFound):
        classes.boards(log, "loose", grid=4, sessions={ana.id})


def test_forks_and_represses_of_a_student_stay_theirs_and_the_record_is_not_copied(log, maths):
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    service.record(log, ana.id, "next", 3)
    fork = service.fork(log, ana.id, 2)
    _, again = service.repress(log, ana.id)
    for copy in (fork, again):
        assert classes.member(log, copy.id).student == "Ana"
    [student] = classes.students(log, "Maths 2b")
    assert student.session == ana.id and set(student.sessions) == {ana.id, fork.id, again.id}
    with pytest.raises(InvalidCommand):
        service.fork(log, "Maths 2b", 1)
    with pytest.raises(InvalidCommand):
        service.repress(log, "Maths 2b")
    assert classes.class_audit(log, "Maths 2b").ok


def test_a_class_export_imports_elsewhere_audits_clean_and_reads_the_same(log, maths, tmp_path):
    for i, name in enumerate(["Ana", "Bo"]):
        info, _ = classes.join(log, "Maths 2b", name, token(i))
        service.record(log, info.id, "meh", i + 1)
    classes.set_paused(log, "Maths 2b", True)
    text = "".join(classes.class_export(log, "Maths 2b")).encode()
    with open_log(str(tmp_path / "other.db"), create=True) as other:
        imported = service.import_exports(other, service.read_exports(io.BytesIO(text), "class.jsonl"))
        assert len(imported) == 3 and all(kept for _, kept in imported)
        assert classes.class_audit(other, "Maths 2b").ok
        assert classes.find_class(other, "Maths 2b") == classes.find_class(log, "Maths 2b")
        assert [s.to_json() for s in classes.students(other, "Maths 2b")] == \
            [s.to_json() for s in classes.students(log, "Maths 2b")]


def test_audit_reports_a_student_whose_class_record_is_missing_or_named_otherwise(log, maths, tmp_path):
    """Import only a student's session elsewhere: its class record is not there, and the class check says
    so (the other checks hold)."""
    ana, _ = classes.join(log, "Maths 2b", "Ana", token(1))
    out = io.StringIO()
    service.export(log, ana.id, out)
    with open_log(str(tmp_path / "lone.db"), create=True) as other:
        service.import_exports(other, service.read_exports(io.BytesIO(out.getvalue().encode()), "ana.jsonl"))
        [report] = service.audit(other, other.sessions()).sessions
        failed = [c for c in report.checks if not c.ok]
        assert [c.name for c in failed] == ["class"] and "not a class record" in failed[0].reason
        assert report.verdict == "class mismatch"
    record = io.StringIO()
    service.export(log, maths.id, record)
    with open_log(str(tmp_path / "renamed.db"), create=True) as other:
        service.import_exports(other, service.read_exports(io.BytesIO(record.getvalue().encode()), "r.jsonl"),
                               name="Renamed")
        [report] = service.audit(other, other.sessions()).sessions
        assert [c.name for c in report.checks if not c.ok] == ["class"]
        assert classes.list_classes(other) == []


def test_an_old_database_is_read_without_a_byte_written(tmp_path):
    """list_classes on release 0.1.0's file: no class, and the file (and its -wal) unchanged."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "release-0.1.0.db", path)
    before = path.read_bytes()
    with open_log(str(path)) as old:
        assert classes.list_classes(old) == []
    assert path.read_bytes() == before
    assert not (tmp_path / "old.db-wal").exists() or (tmp_path / "old.db-wal").stat().st_size == 0
