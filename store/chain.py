"""The hash chain: canonical bytes of an event and its sha256.

    hash = sha256_hex(utf8(json.dumps({"session_id", "seq", "type", "schema_version", "payload" (decoded),
                                       "recorded_at", "prev_hash"},
                                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)))

`prev_hash` of seq 1 is 64 zeros. `canonical_bytes` is the definition; `event_hash` builds the same text
from an already-encoded payload, because encoding the payload twice per press would cost recording speed.
"""

import hashlib
import json
import math
import re
from datetime import datetime

GENESIS = "0" * 64
_SEPARATORS = (",", ":")
# json.dumps builds a new encoder on every call that passes options; one prepared encoder saves that
_encode = json.JSONEncoder(sort_keys=True, separators=_SEPARATORS, ensure_ascii=False).encode


def encode_payload(payload: dict) -> str:
    """The payload as stored in the `payload` column: canonical JSON, exactly as it appears in the hash."""
    return _encode(payload)


def canonical_bytes(session_id: str, seq: int, type_: str, schema_version: int, payload, recorded_at: str,
                    prev_hash: str) -> bytes:
    record = {"session_id": session_id, "seq": seq, "type": type_, "schema_version": schema_version,
              "payload": payload, "recorded_at": recorded_at, "prev_hash": prev_hash}
    return json.dumps(record, sort_keys=True, separators=_SEPARATORS, ensure_ascii=False).encode("utf-8")


def _json_string(text: str) -> str:
    # the same text json.dumps gives, without its cost for the plain strings that make up most rows
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def event_hash(session_id: str, seq: int, type_: str, schema_version: int, payload_text: str,
               recorded_at: str, prev_hash: str) -> str:
    """sha256 of `canonical_bytes`, given the payload already encoded by `encode_payload`."""
    # keys in sorted order: payload, prev_hash, recorded_at, schema_version, seq, session_id, type
    q = _json_string
    text = (f'{{"payload":{payload_text},"prev_hash":{q(prev_hash)},"recorded_at":{q(recorded_at)},'
            f'"schema_version":{int(schema_version)},"seq":{int(seq)},"session_id":{q(session_id)},'
            f'"type":{q(type_)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_hash(session_id, seq, type_, schema_version, payload, recorded_at, prev_hash) -> str:
    """The hash an event must carry, from the documented definition (used by audit and import)."""
    return hashlib.sha256(canonical_bytes(session_id, seq, type_, schema_version, payload, recorded_at,
                                          prev_hash)).hexdigest()


MAX_DEPTH = 16  # the deepest payload the engine writes is 4 levels; a header line 3


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows (every number must be finite)")


def _refuse_duplicates(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the field {key!r} appears twice in one object")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise ValueError(f"{text} is too large for a number (every number must be finite)")
    return value


_strict = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite,
                           object_pairs_hook=_refuse_duplicates).decode


def decode_strict(text: str):
    """JSON as nnreplay accepts it from a file or a stored row: no NaN or Infinity, no key twice in one
    object (readers would disagree on which one counts), and at most MAX_DEPTH levels of nesting.
    Raises ValueError with a reason meant for a person."""
    if not isinstance(text, str):
        raise ValueError("not text")
    if text.startswith("\ufeff"):
        raise ValueError("it starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without one")
    try:
        value = _strict(text)
    except RecursionError:
        raise ValueError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    except ValueError as error:
        try:  # name the field: read it again leniently, where NaN and 1e999 are floats
            where = locate_nonfinite(json.loads(text))
        except (ValueError, RecursionError):
            where = None
        raise ValueError(f"field {where}: {error}" if where else str(error)) from None
    depth, level = 0, [value]
    while level:  # breadth first, one level at a time: no recursion for a reader to exhaust
        depth += 1
        if depth > MAX_DEPTH:
            raise ValueError(f"field {_too_deep(value)}: the JSON is nested deeper than {MAX_DEPTH} levels")
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
    return value


def _too_deep(value) -> str:
    """The path of a container nested more than MAX_DEPTH levels down, for the error message."""
    stack = [("", value, 1)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path
        children = item.items() if isinstance(item, dict) else enumerate(item)
        stack.extend(((f"{path}.{key}" if path else key) if isinstance(key, str) else f"{path}[{key}]", child,
                      depth + 1) for key, child in children if isinstance(child, (dict, list)))
    return "the value"


_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(\+00:00|Z)")


def is_utc_timestamp(text) -> bool:
    """UTC ISO-8601 as nnreplay writes it (`2026-11-25T21:33:14.196716+00:00`; `Z` is read too)."""
    if not isinstance(text, str) or not _UTC.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # a 13th month, a 32nd day
        return False
    return True


def locate_nonfinite(value, where: str = "") -> str | None:
    """The field holding the first NaN or infinity in a leniently decoded value, for error messages."""
    stack = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return path or "the value"
        if isinstance(item, dict):
            stack.extend(reversed([(f"{path}.{key}" if path else key, child) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{path}[{index}]", child) for index, child in enumerate(item)]))
    return None
