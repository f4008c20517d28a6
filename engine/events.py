"""Events: immutable facts, one per press, each with a type and a schema version.

An event records the press and what the learner decided (draws, chosen action, credited reward); values
that follow without randomness (weights, loss, score) are recomputed by `evolve`. Payloads are plain JSON
objects; `parse` reads any stored version through the upcasters below and checks the payload's shape.
"""

import math
import re
from typing import Any, Callable, ClassVar

import attrs
import numpy as np

from engine.errors import InvalidEvent, InvalidSetting
from engine.membership import ClassMember
from engine.settings import Settings
from engine.thompson import ACTIONS, BUTTONS, Decision


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise InvalidEvent(what)


def _number(value: Any, what: str) -> float:
    _require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
             f"{what} must be a finite number, got {value!r}")
    return float(value)


def _object(payload: Any, keys: tuple[str, ...], what: str) -> dict:
    _require(isinstance(payload, dict), f"{what} payload must be a JSON object")
    missing = [key for key in keys if key not in payload]
    _require(not missing, f"{what} payload lacks {', '.join(missing)}")
    return payload


class _StartVersion:
    """session_started's schema version: read on the class, the newest one the engine reads (3); read on an
    event, the one it is written as: 3 with a `class` member, 2 without, so that every session that is not
    a class's keeps the bytes (and hashes) it always had."""

    def __get__(self, event, cls) -> int:
        return 3 if event is None or event.member is not None else 2


@attrs.frozen
class SessionStarted:
    """seq 1: every setting, the drawn data set and the drawn initial parameters.

    `initial` is the flat parameter vector. Release 0.1's perceptron on (x, y) records it as that release
    did, {"weights": [w1, w2], "bias": b}; every other model as its named arrays {"W1": [[...]], "b1": [...]}.
    """

    type: ClassVar[str] = "session_started"
    # 2: the settings may name the arithmetic that folds the session (absent in version 1: machine), and
    # `origin` may name the session this one re-presses; 3: `class` names the class the session belongs to
    schema_version: ClassVar[int] = _StartVersion()
    settings: Settings
    engine_version: str
    points: tuple[tuple[float, float, float], ...]
    separator: tuple[float, float, float]
    initial: tuple[float, ...]
    origin: "Origin | None" = None
    member: ClassMember | None = None

    def to_payload(self) -> dict:
        out = {
            "settings": self.settings.to_dict(),
            "engine_version": self.engine_version,
            "data": {"separator": list(self.separator), "points": [list(row) for row in self.points]},
            "initial": _initial_payload(self.settings, self.initial),
        }
        if self.origin is not None:
            out["origin"] = self.origin.to_payload()
        if self.member is not None:
            out["class"] = self.member.to_payload()
        return out

    @classmethod
    def from_payload(cls, payload: dict) -> "SessionStarted":
        _object(payload, ("settings", "engine_version", "data", "initial"), cls.type)
        data = _object(payload["data"], ("separator", "points"), "session_started data")
        settings = payload["settings"]
        _require(isinstance(settings, dict), "session_started settings must be a JSON object")
        try:
            settings = Settings.from_dict(settings)
        except (TypeError, ValueError, InvalidSetting) as error:
            raise InvalidEvent(f"session_started settings: {error}") from None
        _require(isinstance(data["points"], list) and len(data["points"]) == settings.points,
                 f"session_started must list {settings.points} points")
        points = []
        for row in data["points"]:
            _require(isinstance(row, list) and len(row) == 3, "each point must be [x, y, label]")
            x, y, label = (_number(v, "a point coordinate") for v in row)
            _require(label in (0.0, 1.0), "a point's label must be 0 or 1")
            points.append((x, y, label))
        separator = data["separator"]
        _require(isinstance(separator, list) and len(separator) == 3, "the separator must be [a, b, c]")
        _require(isinstance(payload["engine_version"], str), "engine_version must be a string")
        origin = Origin.from_payload(payload["origin"]) if "origin" in payload else None
        member = ClassMember.from_payload(payload["class"]) if "class" in payload else None
        return cls(settings, payload["engine_version"], tuple(points),
                   tuple(_number(v, "separator") for v in separator), _parse_initial(settings, payload["initial"]),
                   origin, member)


_HEX = re.compile(r"[0-9a-f]+")


@attrs.frozen
class Origin:
    """The session a re-pressed session presses again (`nnreplay repress`): its id, its head hash and
    head seq when it was re-pressed, and the names of the settings given anew (empty: the original's)."""

    session_id: str
    head_hash: str
    seq: int
    changed: tuple[str, ...] = ()

    def to_payload(self) -> dict:
        return {"session_id": self.session_id, "head_hash": self.head_hash, "seq": self.seq,
                "changed": list(self.changed)}

    @classmethod
    def from_payload(cls, payload: Any) -> "Origin":
        _object(payload, ("session_id", "head_hash", "seq", "changed"), "session_started origin")
        for key, length in (("session_id", 32), ("head_hash", 64)):
            value = payload[key]
            _require(isinstance(value, str) and len(value) == length and _HEX.fullmatch(value) is not None,
                     f"origin {key} must be {length} lowercase hex digits")
        _require(type(payload["seq"]) is int and payload["seq"] >= 1, "origin seq must be a whole number from 1")
        changed = payload["changed"]
        _require(isinstance(changed, list) and all(isinstance(c, str) and c.isidentifier() for c in changed),
                 "origin changed must list setting names")
        return cls(payload["session_id"], payload["head_hash"], payload["seq"], tuple(changed))


def _initial_payload(settings: Settings, initial: tuple[float, ...]) -> dict:
    model = settings.model
    if model.legacy:
        return {"weights": list(initial[:2]), "bias": initial[2]}
    return {name: array.tolist() for name, array in model.arrays(np.array(initial, dtype=np.float64)).items()}


def _parse_initial(settings: Settings, initial: Any) -> tuple[float, ...]:
    model = settings.model
    if model.legacy:
        initial = _object(initial, ("weights", "bias"), "session_started initial")
        weights = initial["weights"]
        _require(isinstance(weights, list) and len(weights) == 2, "initial weights must be [w1, w2]")
        return (_number(weights[0], "w1"), _number(weights[1], "w2"), _number(initial["bias"], "bias"))
    names = tuple(name for name, _ in model.shapes)
    initial = _object(initial, names, "session_started initial")
    values = []
    for name, shape in model.shapes:
        rows = initial[name] if len(shape) == 2 else [initial[name]]
        _require(isinstance(rows, list) and len(rows) == (shape[0] if len(shape) == 2 else 1),
                 f"initial {name} must have shape {shape}")
        for row in rows:
            _require(isinstance(row, list) and len(row) == shape[-1], f"initial {name} must have shape {shape}")
            values += [_number(v, f"initial {name}") for v in row]
    return tuple(values)


def _decision_payload(decision: Decision | None) -> dict:
    if decision is None:
        return {}
    return {"reward": decision.reward, "undone": decision.undone, "draws": list(decision.draws),
            "action": decision.action}


# an arm: a release-0.1 parameter name (w1, ..., b) or an array entry (W2[3,1], b1[0]), then + or -
ARM = re.compile(r"(w[1-9][0-9]*|b|[Wb][1-9][0-9]*\[[0-9]+(,[0-9]+)?\])[+-]")


def _parse_decision(payload: dict, what: str) -> Decision | None:
    if "action" not in payload:
        return None
    _object(payload, ("reward", "undone", "draws", "action"), what)
    _require(isinstance(payload["action"], str) and ARM.fullmatch(payload["action"]) is not None,
             f"{what} action must name an arm such as {', '.join(ACTIONS)}")
    reward = payload["reward"]
    if reward is not None:
        reward = _number(reward, "reward")
        _require(0.0 <= reward <= 1.0, "reward must lie in [0, 1]")
    _require(isinstance(payload["undone"], bool), "undone must be true or false")
    draws = payload["draws"]
    # how many draws the session's model needs is checked when the event is folded (evolve)
    _require(isinstance(draws, list) and len(draws) >= 2, "draws must list one number per arm")
    if not all(type(d) is float and 0.0 <= d <= 1.0 for d in draws):  # the common case, checked cheaply
        draws = [_number(d, "a draw") for d in draws]
        _require(all(0.0 <= d <= 1.0 for d in draws), "a draw from a Beta posterior must lie in [0, 1]")
    return Decision(reward, payload["undone"], tuple(draws), payload["action"])


@attrs.frozen
class Iterated:
    """A Next iteration press; for thompson sessions, what the learner decided."""

    type: ClassVar[str] = "iterated"
    schema_version: ClassVar[int] = 1
    source: str
    decision: Decision | None = None

    def to_payload(self) -> dict:
        return {"source": self.source, **_decision_payload(self.decision)}

    @classmethod
    def from_payload(cls, payload: dict) -> "Iterated":
        _object(payload, ("source",), cls.type)
        _require(isinstance(payload["source"], str), "source must be a string")
        return cls(payload["source"], _parse_decision(payload, cls.type))


@attrs.frozen
class FeedbackGiven:
    """One of the four feedback buttons, and what the learner decided in response."""

    type: ClassVar[str] = "feedback_given"
    schema_version: ClassVar[int] = 1
    button: str
    source: str
    decision: Decision

    def to_payload(self) -> dict:
        return {"button": self.button, "source": self.source, **_decision_payload(self.decision)}

    @classmethod
    def from_payload(cls, payload: dict) -> "FeedbackGiven":
        _object(payload, ("button", "source", "action"), cls.type)
        _require(payload["button"] in BUTTONS, f"button must be one of {', '.join(BUTTONS)}")
        _require(isinstance(payload["source"], str), "source must be a string")
        return cls(payload["button"], payload["source"], _parse_decision(payload, cls.type))


class _NoPayload:
    """An event that is its type alone: payload {}."""

    def to_payload(self) -> dict:
        return {}

    @classmethod
    def from_payload(cls, payload: dict):
        _require(payload == {}, f"{cls.type} payload must be {{}}")
        return cls()


@attrs.frozen
class ClassPaused(_NoPayload):
    """The teacher paused the class: students' presses are refused until `class_resumed`. Only a class
    record takes it; the model does not move."""

    type: ClassVar[str] = "class_paused"
    schema_version: ClassVar[int] = 1


@attrs.frozen
class ClassResumed(_NoPayload):
    """The teacher resumed the class."""

    type: ClassVar[str] = "class_resumed"
    schema_version: ClassVar[int] = 1


Event = SessionStarted | Iterated | FeedbackGiven | ClassPaused | ClassResumed
EVENT_TYPES: dict[str, type] = {cls.type: cls for cls in (SessionStarted, Iterated, FeedbackGiven, ClassPaused,
                                                          ClassResumed)}


def _add_source(payload: dict) -> dict:
    # version 0 of the press events predates scripted recording: every press was typed by hand
    return {"source": "cli", **payload}


def _same(payload: dict) -> dict:
    # version 1 of session_started is version 2 without settings.arithmetic, which reads as "machine"
    return payload


# (type, version) -> function turning that version's payload into the next version's
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {
    ("iterated", 0): _add_source,
    ("feedback_given", 0): _add_source,
    ("session_started", 1): _same,
    ("session_started", 2): _same,  # version 3 adds the optional `class` member (see `_versioned_members`)
}


def _versioned_members(type_: str, schema_version: int, payload: dict) -> None:
    # session_started is written as version 3 exactly when it has a class member: a version-2 payload with
    # one, or a version-3 payload without, is not what any nnreplay wrote
    if type_ == "session_started":
        _require(("class" in payload) == (schema_version >= 3),
                 "session_started has a class member only from schema version 3, and version 3 only with one")


def upcast(type_: str, schema_version: int, payload: Any) -> tuple[type, dict]:
    """The event class and the payload brought up to its current schema version through the upcasters."""
    cls = EVENT_TYPES.get(type_)
    _require(cls is not None, f"unknown event type {type_!r}")
    _require(type(schema_version) is int and 0 <= schema_version <= cls.schema_version,
             f"{type_} schema version {schema_version!r} is not one this engine reads "
             f"(it reads up to {cls.schema_version}); upgrade nnreplay")
    _require(isinstance(payload, dict), f"{type_} payload must be a JSON object")
    _versioned_members(type_, schema_version, payload)
    while schema_version < cls.schema_version:
        step = UPCASTERS.get((type_, schema_version))
        _require(step is not None, f"no upcaster for {type_} version {schema_version}")
        payload = step(payload)
        schema_version += 1
    return cls, payload


def parse(type_: str, schema_version: int, payload: Any) -> Event:
    """Read a stored event of any known version: upcast it to the current one, then check its shape."""
    cls, payload = upcast(type_, schema_version, payload)
    return cls.from_payload(payload)


def parse_exact(type_: str, schema_version: int, payload: Any) -> Event:
    """`parse`, and the payload (after upcasting) must be exactly what the engine writes for the event it
    parses to: no unknown or missing field, every value of the type the engine writes (1 is not 1.0,
    true is not 1). So the schema is the engine's own code, not a second copy of it."""
    cls, payload = upcast(type_, schema_version, payload)
    event = cls.from_payload(payload)
    found = difference(event.to_payload(), payload)
    _require(found is None, f"{type_} payload {found}")
    return event


def difference(expected: Any, found: Any, where: str = "") -> str | None:
    """Where `found` first differs from `expected`, type-exactly, as words naming the field; None if equal."""
    field = where or "the payload"
    if type(expected) is not type(found):
        return f"field {field} must be {_kind(expected)}, got {_kind(found)}"
    if isinstance(expected, dict):
        extra = [key for key in found if key not in expected]
        if extra:
            return f"has a field that is not part of its schema: {_join(where, extra[0])}"
        for key, value in expected.items():
            if key not in found:
                return f"lacks the field {_join(where, key)}"
            found_here = difference(value, found[key], _join(where, key))
            if found_here is not None:
                return found_here
        return None
    if isinstance(expected, list):
        if len(expected) != len(found):
            return f"field {field} must list {len(expected)} values, got {len(found)}"
        for index, (mine, theirs) in enumerate(zip(expected, found)):
            found_here = difference(mine, theirs, f"{field}[{index}]")
            if found_here is not None:
                return found_here
        return None
    if isinstance(expected, float) and not math.isfinite(found):
        return f"field {field} must be a finite number, got {found!r}"
    if expected != found or repr(expected) != repr(found):
        return f"field {field} reads back as {expected!r}, not as the stored {found!r}"
    return None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number with a fraction or exponent",
             str: "a string", list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)
