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


def encode_payload(payload: dict) -> str:
    """The payload as stored in the `payload` column: canonical JSON, exactly as it appears in the hash."""
    return json.dumps(payload, sort_keys=True, separators=_SEPARATORS, ensure_ascii=False)


def canonical_bytes(session_id: str, seq: int, type_: str, schema_version: int, payload, recorded_at: str,
                    prev_hash: str) -> bytes:
    record = {"session_id": session_id, "seq": seq, "type": type_, "schema_version": schema_version,
              "payload": payload, "recorded_at": recorded_at, "prev_hash": prev_hash}
    return json.dumps(record, sort_keys=True, separators=_SEPARATORS, ensure_ascii=False).encode("utf-8")


def event_hash(session_id: str, seq: int, type_: str, schema_version: int, payload_text: str,
               recorded_at: str, prev_hash: str) -> str:
    """sha256 of `canonical_bytes`, given the payload already encoded by `encode_payload`."""
    # keys in sorted order: payload, prev_hash, recorded_at, schema_version, seq, session_id, type
    dumps = json.dumps
    text = (f'{{"payload":{payload_text},"prev_hash":{dumps(prev_hash)},"recorded_at":{dumps(recorded_at)},'
            f'"schema_version":{schema_version},"seq":{seq},"session_id":{dumps(session_id, ensure_ascii=False)},'
            f'"type":{dumps(type_, ensure_ascii=False)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_hash(session_id, seq, type_, schema_version, payload, recorded_at, prev_hash) -> str:
    """The hash an event must carry, from the documented definition (used by audit and import)."""
    return hashlib.sha256(canonical_bytes(session_id, seq, type_, schema_version, payload, recorded_at,
                                          prev_hash)).hexdigest()
