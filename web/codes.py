"""The class's secrets: the join code students type, the teacher's link, and the cookies' tokens.

Only hashes are compared, in constant time (hmac.compare_digest): how long a wrong guess takes says nothing
about how close it came. The join code is read off a projector, so its alphabet has no look-alikes (no 0/O,
1/I/L, 2/Z, 5/S, 8/B) and a typed code is forgiven its case, dashes and spaces.
"""

import hashlib
import hmac
import secrets

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 10  # 25^10: about 46 bits, out of reach at 10 wrong guesses a minute per address


def digest(text: str) -> str:
    """The sha256 hex of `text`: what is kept of a secret or a token."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def same(text: str, kept_digest: str) -> bool:
    """Whether `text` hashes to `kept_digest`, in time that does not depend on where they differ."""
    return hmac.compare_digest(digest(text), kept_digest)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown_code(code: str) -> str:
    """XXXXX-XXXXX: two halves are easier to read aloud and to type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def typed_code(text: str) -> str:
    """A typed code as it was made: upper case, without the dashes and spaces people add."""
    return "".join(text.split()).replace("-", "").upper()


def new_token() -> str:
    """A cookie token or the teacher's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)
