"""Join codes, presenter tokens and question ids."""
import hashlib
import hmac
import re
import secrets

# No 0/O, 1/I/L, 5/S or 2/Z: a code read off a projector or typed on a phone is not misread.
ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
CODE_LENGTH = 6  # 27**6 = 387M codes: a rate-limited guesser needs centuries to find one of thousands
_CODE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str | None:
    """A typed code (any case, spaces or dashes) as stored, or None when it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", code or "").upper()
    return cleaned if _CODE.match(cleaned) else None


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Stored instead of the token: a leaked store does not hand out the right to drive."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    return bool(token) and hmac.compare_digest(token_hash(token), stored_hash)


def new_question_id() -> str:
    return secrets.token_hex(4)


def valid_question_id(qid: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{8}", qid or ""))
