"""Password hashing with Argon2id (argon2-cffi), and the policy for passwords people choose."""

import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()


def use_fast_test_profile() -> None:
    """Cheap Argon2 parameters so a test suite can create many users; tests only."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


# A real hash of a random string, checked when the email is unknown so that the time a
# failed login takes does not tell whether the account exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0f3c")

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" (~10^10 guesses)
_STRENGTH_CHECKED_CHARS = 100  # zxcvbn's cost grows with length; past this, length wins


def password_problems(password: str, *, user_inputs: Sequence[str] = ()) -> list[str]:
    """Why a password a person chose is refused (empty: acceptable). Length, then zxcvbn's
    estimate against its lists of common passwords, words and names, and the account's
    own email and name."""
    if len(password) < MIN_LENGTH:
        return [f"must be at least {MIN_LENGTH} characters"]
    if len(password) > MAX_LENGTH:
        return [f"must be at most {MAX_LENGTH} characters"]
    inputs = [part for value in user_inputs for part in re.split(r"[@.\s]+", value) if part]
    result = zxcvbn(password[:_STRENGTH_CHECKED_CHARS], user_inputs=[*user_inputs, *inputs])
    if result["score"] >= MIN_STRENGTH:
        return []
    feedback = result["feedback"]
    advice = [feedback["warning"]] if feedback["warning"] else []
    return ["is too easy to guess", *advice, *feedback["suggestions"]]


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
