"""Export and import of one session as JSON Lines.

Line 1 is a header: {"format": "nnreplay-export", "format_version": 1, "engine_version", "session": {id,
name, learner, seed, created_at, parent_id, parent_seq}, "settings", "events": N, "head_hash"}. Lines 2..N+1
are the events in seq order, one JSON object each with every column of the events table (the payload as
a JSON object). The header's event count and head hash make a file cut at a line boundary detectable.

Import reads every line strictly (no NaN or Infinity, no repeated key, no unknown field, every value of
its type; ids of 32 lowercase hex digits, UTC times, names by the rule of `new`), runs the audit's
`Verifier` over the whole file before it writes anything, then writes the session in one transaction. It
follows audit's verdict: a file that audit would call tampered is refused; one whose only failure is drift
(decide no longer reproduces a recorded decision, while the log itself is intact and replays) is imported
with a warning that names the check. A session id already in the database is refused unless a new name
is given; the copy then gets a fresh id and is re-chained as a fork is.
"""

import json
import os
import secrets
from typing import Iterable, TextIO

from engine import ENGINE_VERSION
from store.chain import decode_strict, is_utc_timestamp
from store.errors import InvalidExport, InvalidName, SessionExists, StoreError, UnsoundLog
from store.fork import Copy, write_copy
from store.log import EventLog, SessionInfo, check_name, is_session_id
from store.names import parent_fits
from store.targets import atomic_text, check_target
from store.verify import CHECKS, TAMPER_CHECKS, Verifier

FORMAT = "nnreplay-export"
FORMAT_VERSION = 1
HEADER_FIELDS = {"format": str, "format_version": int, "engine_version": str, "session": dict,
                 "settings": dict, "events": int, "head_hash": str}
EVENT_FIELDS = {"session_id": str, "seq": int, "type": str, "schema_version": int, "payload": dict,
                "recorded_at": str, "prev_hash": str, "hash": str, "state_digest": str}
SESSION_FIELDS = {"id": str, "name": (str, type(None)), "learner": str, "seed": int, "created_at": str,
                  "parent_id": (str, type(None)), "parent_seq": (int, type(None))}


def _line(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def export(log: EventLog, info: SessionInfo, out: TextIO) -> int:
    """Write the session to `out`; returns the number of events. A faithful dump of what the database
    holds: judging it is left to `audit` before and to `import` after."""
    while True:  # another terminal may append meanwhile: a head unchanged around the count fixes both
        head, head_hash = log.head(info.id)
        count = log.count(info.id)
        if log.head(info.id) == (head, head_hash):
            break
    first = next(log.rows(info.id, 1, 1), None)
    try:
        settings = json.loads(first.payload).get("settings") if first is not None else None
    except (ValueError, AttributeError):
        settings = None
    out.write(_line({"format": FORMAT, "format_version": FORMAT_VERSION, "engine_version": ENGINE_VERSION,
                     "session": {"id": info.id, "name": info.name, "learner": info.learner, "seed": info.seed,
                                 "created_at": info.created_at, "parent_id": info.parent_id,
                                 "parent_seq": info.parent_seq},
                     "settings": settings, "events": count, "head_hash": head_hash}))
    written = 0
    for row in log.rows(info.id, 1, head):  # streamed: memory does not grow with the session
        try:
            out.write(_line({"session_id": row.session_id, **row.to_json()}))
        except ValueError:
            raise UnsoundLog(f"session {info.label} cannot be exported: the payload of seq {row.seq} is not "
                             f"valid JSON; run `nnreplay audit` for the details") from None
        written += 1
    return written


def _typed(value, fields: dict, what: str) -> dict:
    """`value` must be an object with exactly `fields`, each of its type (true is not an integer)."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    extra = [key for key in value if key not in fields]
    if extra:
        raise ValueError(f"{what} has a field that is not part of the format: {extra[0]!r:.60}")
    for key, kind in fields.items():
        if key not in value:
            raise ValueError(f"{what} lacks {key!r}")
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if type(value[key]) not in kinds:
            raise ValueError(f"{what}'s field {key!r} has the wrong type ({_kind(value[key])})")
    return value


def _kind(value) -> str:
    return {bool: "true/false", int: "an integer", float: "a fraction", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _header(text: str, renamed: bool = False) -> dict:
    header = decode_strict(text)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"not an nnreplay export (its first line must say \"format\": \"{FORMAT}\")")
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        raise ValueError(f"field format_version: {version!r:.40} is not an export format version (a whole number "
                         f"from 1)")
    if version > FORMAT_VERSION:
        raise ValueError(f"field format_version: {version} is not one this nnreplay reads (it reads up to "
                         f"{FORMAT_VERSION}); upgrade nnreplay")
    _typed(header, HEADER_FIELDS, "the header")
    session = _typed(header["session"], SESSION_FIELDS, "the header's session")
    if not is_session_id(session["id"]):
        raise ValueError(f"field session.id: {session['id']!r:.60} is not a session id (32 lowercase hex digits)")
    if session["name"] is not None and not renamed:  # an import under --name never uses the file's name
        try:
            check_name(session["name"])
        except InvalidName as error:
            raise ValueError(f"field session.name: {error} (or import it under another with --name)") from None
    if not is_utc_timestamp(session["created_at"]):
        raise ValueError(f"field session.created_at: {session['created_at']!r:.60} is not a UTC ISO-8601 time")
    if (session["parent_id"] is None) != (session["parent_seq"] is None):
        raise ValueError("fields session.parent_id and session.parent_seq must both be null or both be set")
    if session["parent_id"] is not None and not is_session_id(session["parent_id"]):
        raise ValueError(f"field session.parent_id: {session['parent_id']!r:.60} is not a session id")
    if session["parent_seq"] is not None and session["parent_seq"] < 1:
        raise ValueError(f"field session.parent_seq: {session['parent_seq']} is not a seq (1 or more)")
    if header["events"] < 1:
        raise ValueError(f"field events: an export holds at least one event, not {header['events']}")
    if session["parent_id"] is not None and not parent_fits(session["id"], session["parent_id"],
                                                             session["parent_seq"], header["events"]):
        raise ValueError(f"fields session.parent_id and session.parent_seq: a fork shares events 1..parent_seq "
                         f"({session['parent_seq']}) with another session, and this one has {header['events']}")
    return header


def read_export(lines: Iterable[str | bytes], name: str, renamed: bool = False) -> tuple[dict, Copy]:
    """Parse and verify a whole export of one session; raises InvalidExport naming the first bad line of
    `name`. With `renamed` (an import under a new name), the file's own name need only be text or null: a
    session named `cafe` by release 0.1.0, which allowed such names, can still be brought over under another."""
    found = read_exports(lines, name, renamed)
    if len(found) > 1:
        header = found[0][0]
        raise InvalidExport(f"{name}, line {header['events'] + 2}: one line too many: the header promises "
                            f"{header['events']} events")
    return found[0]


def read_exports(lines: Iterable[str | bytes], name: str, renamed: bool = False) -> list[tuple[dict, Copy]]:
    """`read_export` of a file that holds one session's export or several one after another (a class's:
    service.classes.class_export): each session is verified whole before the next is read."""
    out, numbered, number = [], enumerate(lines, 1), 0
    for number, text in numbered:
        if out and not _is_header(text):
            header = out[-1][0]
            raise InvalidExport(f"{name}, line {number}: one line too many: the header promises "
                                f"{header['events']} events")
        out.append(_read_one(number, text, numbered, name, renamed))
    if not out:
        raise InvalidExport(f"{name} is empty: an export starts with its header line")
    return out


def _is_header(text: str | bytes) -> bool:
    try:
        value = decode_strict(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(value, dict) and value.get("format") == FORMAT


def _read_one(number: int, text, numbered, name: str, renamed: bool) -> tuple[dict, Copy]:
    """One session from its header line (`number`, `text`) and the event lines that `numbered` yields."""
    header, copy, verifier = None, Copy(), None
    try:
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        header = _header(text, renamed)
        verifier = Verifier(header["session"]["id"], on_state=copy.collect_state)
        first = number
        while number - first < header["events"]:
            number, text = next(numbered, (number + 1, None))
            if text is None:
                break
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            if not text.strip():
                raise ValueError("the line is empty")
            row = _typed(decode_strict(text), EVENT_FIELDS, "the event")
            if not is_utc_timestamp(row["recorded_at"]):
                raise ValueError(f"field recorded_at: {row['recorded_at']!r:.60} is not a UTC ISO-8601 time")
            _verify_event(verifier, row, header, number - first + 1)
            copy.rows.append((row["seq"], row["type"], row["schema_version"], row["payload"],
                              row["recorded_at"], row["state_digest"]))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidExport(f"{name}, line {number}: {error}") from None
    _verify_end(verifier, header, name, number - (text is None), copy)
    return header, copy


def _verify_event(verifier: Verifier, row: dict, header: dict, number: int) -> None:
    if row["session_id"] != header["session"]["id"]:
        raise ValueError(f"the event belongs to session {row['session_id']}, not {header['session']['id']}")
    if row["seq"] != number - 1:
        raise ValueError(f"expected seq {number - 1}, found seq {row['seq']}: lines are out of order or one is "
                         f"missing")
    verifier.feed(row["seq"], row["type"], row["schema_version"], row["payload"], row["recorded_at"],
                  row["prev_hash"], row["hash"], row["state_digest"])
    tampered = [name for name in TAMPER_CHECKS if name in verifier.failures
                and not (name == "digests" and verifier.other_arithmetic)]
    if tampered:
        seq, reason = verifier.failures[tampered[0]]
        raise ValueError(f"seq {seq} fails the {tampered[0]} check ({CHECKS[tampered[0]]}): {reason}")


def _verify_end(verifier: Verifier, header: dict, name: str, number: int, copy: Copy) -> None:
    if verifier.count != header["events"]:
        raise InvalidExport(f"{name}, line {number + 1}: the file ends after {verifier.count} events, but its "
                            f"header promises {header['events']}: it was truncated")
    if verifier.head_hash != header["head_hash"]:
        raise InvalidExport(f"{name}, line 1: the header's head_hash is not the hash of the last event")
    copy.other_arithmetic = verifier.other_arithmetic
    for check in verifier.finish():
        if not check.ok and check.name in TAMPER_CHECKS and not copy.other_arithmetic:
            raise InvalidExport(f"{name}, line {(check.seq or 0) + 1}: seq {check.seq} fails the {check.name} "
                                f"check: {check.reason}")
        if not check.ok:  # drift: audit's verdict for an intact log that replays; imported, with a warning
            copy.warnings.append(f"seq {check.seq} fails the {check.name} check ({CHECKS[check.name]}): "
                                 f"{check.reason}")
    first, session = verifier.first, header["session"]
    if ((first.settings.learner, first.settings.seed) != (session["learner"], session["seed"])
            or header.get("settings") != first.settings.to_dict()):
        raise InvalidExport(f"{name}, line 1: the header's session settings disagree with session_started "
                            f"on line 2")


def import_session(log: EventLog, header: dict, copy: Copy, name: str | None = None) -> tuple[SessionInfo, str]:
    """Write a verified export (from `read_export`) in one transaction; returns (session, head hash).

    The session keeps its id, so its hashes are the exported ones, unless that id is already taken: then
    it must be given a new name, gets a fresh id, and is re-chained as a fork is.
    """
    if name is not None:
        check_name(name)
    session = header["session"]
    session_id = session["id"]
    if log.has_session(session_id):
        if name is None:
            raise SessionExists(f"session {session_id} is already in {log.path}; to import a copy, give it a "
                                f"new name with --name (it then gets a new id)")
        session_id = secrets.token_hex(16)
    info = SessionInfo(session_id, name if name is not None else session["name"], session["learner"],
                       session["seed"], session["created_at"], session["parent_id"], session["parent_seq"])
    return info, write_copy(log, info, copy)


def export_to_file(log: EventLog, info: SessionInfo, path: str) -> int:
    """Export to `path` through a temporary file renamed into place: a failed export leaves no file, and
    the path may not be the database or any SQLite file (`targets.check_target`)."""
    folder = os.path.dirname(os.path.abspath(path)) if path else ""
    # checked first: otherwise the error would name the temporary file, not the path the person gave
    if not path:
        raise StoreError("the export path is empty; give -o a file name (or - for standard output)")
    if os.path.isdir(path):
        raise StoreError(f"{path} is a directory; give the export a file name")
    if not os.path.isdir(folder):
        raise StoreError(f"the directory {folder!r} does not exist; create it first")
    check_target(path, log.path, "export")
    with atomic_text(path) as out:
        return export(log, info, out)
