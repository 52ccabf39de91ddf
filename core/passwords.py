"""The staff password policy: long enough, hard to guess, not the username.

Guessability is zxcvbn's estimate (its dictionaries of common passwords, names and words ship
inside the package, so nothing is fetched at run time): a score of at least 3 of 4 means
"safely unguessable" against an online attack, which login throttling keeps the only kind.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from .errors import InvalidInputError

__all__ = ["MIN_PASSWORD_CHARS", "MIN_PASSWORD_SCORE", "check_password_policy"]

MIN_PASSWORD_CHARS = 10
MIN_PASSWORD_SCORE = 3
# zxcvbn's cost grows with the length; nothing longer is needed to judge a password.
_JUDGED_CHARS = 100
# A username shorter than this is too common a fragment ("li") to forbid inside passwords.
_MIN_USERNAME_CHARS = 3


def _refuse(rule: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        message, details=[{"field": "password", "code": rule, "message": message}]
    )


def check_password_policy(password: str, *, username: str) -> None:
    """Raise ``InvalidInputError`` (422) naming the first rule the password breaks:
    ``password_too_short``, ``password_contains_username`` or ``password_too_common``."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise _refuse(
            "password_too_short", f"a password needs at least {MIN_PASSWORD_CHARS} characters"
        )
    name = username.strip().casefold()
    if len(name) >= _MIN_USERNAME_CHARS and name in password.casefold():
        raise _refuse("password_contains_username", "a password must not contain the username")
    result = zxcvbn(password[:_JUDGED_CHARS], user_inputs=[name] if name else [])
    if int(result["score"]) < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or "it is too easy to guess"
        raise _refuse(
            "password_too_common",
            f"this password is too common or too easy to guess ({hint.rstrip('.')}); "
            "try a few uncommon words together",
        )
