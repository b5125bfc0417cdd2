"""DHIS2-style identifiers: 11 characters, a letter then letters or digits."""

from __future__ import annotations

import hashlib
import re
import secrets
import string

LETTERS = string.ascii_letters
ALPHANUMERIC = string.ascii_letters + string.digits
UID_LENGTH = 11
UID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")


def generate_uid() -> str:
    """A new random UID for an object created by a user."""
    return secrets.choice(LETTERS) + "".join(secrets.choice(ALPHANUMERIC) for _ in range(10))


def stable_uid(kind: str, code: str) -> str:
    """A UID derived from an object's kind and code, so every install of the seed agrees."""
    digest = int.from_bytes(hashlib.sha256(f"{kind}:{code}".encode()).digest(), "big")
    first = LETTERS[digest % len(LETTERS)]
    digest //= len(LETTERS)
    rest = []
    for _ in range(UID_LENGTH - 1):
        rest.append(ALPHANUMERIC[digest % len(ALPHANUMERIC)])
        digest //= len(ALPHANUMERIC)
    return first + "".join(rest)


def is_uid(value: str) -> bool:
    """Whether a string has the shape of a UID."""
    return bool(UID_PATTERN.match(value or ""))
