"""The hash chain: canonical bytes of an event and its sha256.

    hash = sha256_hex(utf8(json.dumps({"session_id", "seq", "type", "schema_version", "payload" (decoded),
                                       "recorded_at", "prev_hash"},
                                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)))

`prev_hash` of seq 1 is 64 zeros. `canonical_bytes` is the definition; `event_hash` builds the same text
from an already-encoded payload, because encoding the payload twice per press would cost recording speed.
"""

import hashlib
import json

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
