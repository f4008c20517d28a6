"""The `class` member of `session_started`: which class a session belongs to, and as what.

A class record (role "class") is the teacher's session, named after the class, whose settings are the
lesson's; a student's session (role "student") names the class record by id, the name the student is
shown under and the sha256 of the student's cookie token (the token itself is never stored). Parsing is
strict: every field of its kind and length, no field of the other role, none unknown.
"""

import re
import unicodedata
from typing import Any

import attrs

from engine.errors import InvalidEvent
from engine.names import name_problem

LESSONS = ("supervised", "feedback", "auto-scored")
MAX_DISPLAY_NAME = 40
_KEYS = {"class": ("role", "name", "lesson"), "student": ("role", "name", "class_id", "student", "token")}
_HEX = re.compile(r"[0-9a-f]+")


def display_name_problem(text) -> str | None:
    """What is wrong with `text` as a student's shown name; None when it is one. 1 to 40 characters, every
    one printable (str.isprintable: no control, format or separator characters besides the space, so no
    right-to-left override or zero-width joiner can make one name look like another), NFC-normalised, no
    space at either end. Emoji are printable and allowed."""
    if not isinstance(text, str):
        return "name must be text"
    if not 1 <= len(text) <= MAX_DISPLAY_NAME:
        return f"name must be 1 to {MAX_DISPLAY_NAME} characters, got {len(text):,}"
    if not text.isprintable():
        bad = next(c for c in text if not c.isprintable())
        return (f"name must be printable characters only; U+{ord(bad):04X} ({unicodedata.name(bad, 'unnamed')}) "
                f"is not")
    if text != text.strip():
        return "name must not begin or end with a space"
    if not unicodedata.is_normalized("NFC", text):
        return "name must be in Unicode normal form C"
    return None


@attrs.frozen
class ClassMember:
    """role "class": name and lesson; role "student": name (the class's), class_id, student, token."""

    role: str
    name: str
    lesson: str | None = None
    class_id: str | None = None
    student: str | None = None
    token: str | None = None

    @property
    def is_record(self) -> bool:
        return self.role == "class"

    def to_payload(self) -> dict:
        return {key: getattr(self, key) for key in _KEYS[self.role]}

    @classmethod
    def from_payload(cls, payload: Any) -> "ClassMember":
        _require(isinstance(payload, dict), "session_started class must be a JSON object")
        role = payload.get("role")
        _require(role in _KEYS, "class role must be \"class\" or \"student\"")
        keys = _KEYS[role]
        missing = [key for key in keys if key not in payload]
        _require(not missing, f"class lacks {', '.join(missing)}")
        extra = [str(key)[:40] for key in payload if key not in keys]
        _require(not extra, f"class has a field that is not part of its schema: {', '.join(extra[:1])}")
        problem = name_problem(payload["name"])
        _require(problem is None, f"class name: {problem}")
        if role == "class":
            _require(payload["lesson"] in LESSONS, f"class lesson must be one of {', '.join(LESSONS)}")
            return cls("class", payload["name"], lesson=payload["lesson"])
        for key, length in (("class_id", 32), ("token", 64)):
            value = payload[key]
            _require(isinstance(value, str) and len(value) == length and _HEX.fullmatch(value) is not None,
                     f"class {key} must be {length} lowercase hex digits")
        problem = display_name_problem(payload["student"])
        _require(problem is None, f"class student {problem}")
        return cls("student", payload["name"], class_id=payload["class_id"], student=payload["student"],
                   token=payload["token"])


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise InvalidEvent(what)
