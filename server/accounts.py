"""Accounts: ending a person's sessions and changing a password.

A session cookie carries the user's `session_epoch` (server/auth.py); bumping it ends every
session of that person on every phone at once: logout, a password change, and an admin's
"log out everywhere" all do. These functions do not commit: the handler does.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from server import auth
from server.models import User

MIN_PASSWORD_LENGTH = 8
# passwords found at the top of every leaked-password list, and the ones a college picks first
COMMON_PASSWORDS = frozenset(
    [
        "12345678",
        "123456789",
        "1234567890",
        "87654321",
        "11111111",
        "00000000",
        "88888888",
        "66666666",
        "12341234",
        "11223344",
        "12344321",
        "123123123",
        "147258369",
        "1qaz2wsx",
        "qwertyui",
        "qwertyuiop",
        "asdfghjk",
        "zxcvbnm1",
        "password",
        "password1",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "iloveyou",
        "abc12345",
        "abcd1234",
        "a1234567",
        "a12345678",
        "aa123456",
        "qq123456",
        "woaini1314",
        "wang1234",
        "zhang123",
        "admin123",
        "admin1234",
        "admin888",
        "administrator",
        "root1234",
        "test1234",
        "demo1234",
        "welcome1",
        "changeme",
        "letmein1",
        "sunshine",
        "football",
        "baseball",
        "princess",
        "5201314520",
        "1314520520",
        "xuegong1",
        "xuegong123",
        "student1",
        "teacher1",
        "teacher123",
    ]
)


class PasswordRefused(Exception):
    """The reason, in Chinese, is shown on the form."""


def end_sessions(db: Session, user: User) -> int:
    """Log this person out everywhere; returns the new epoch (a session of it is valid)."""
    epoch = db.scalar(
        update(User)
        .where(User.id == user.id)
        .values(session_epoch=User.session_epoch + 1)
        .returning(User.session_epoch)
    )
    user.session_epoch = epoch
    return epoch


def password_problem(user: User, new: str) -> str | None:
    """Why this new password is refused, or None."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return f"新密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
    if new.strip().lower() == user.username.lower():
        return "新密码不能与用户名相同。"
    if new.lower() in COMMON_PASSWORDS:
        return "这个密码太常见，很容易被猜到，请换一个。"
    return None


def new_password_hash(user: User, current: str, new: str) -> str:
    """Check the current password and the new one; the new one's hash. Argon2 only, no
    database: the page runs it through `auth.run_hashing`, a bounded number at once."""
    if not auth.password_matches(user.password_hash, current):
        raise PasswordRefused("当前密码不正确。")
    if problem := password_problem(user, new):
        raise PasswordRefused(problem)
    return auth.hash_password(new)


def set_password(db: Session, user: User, password_hash: str) -> None:
    """Store the new hash and end every session of the user (the caller commits)."""
    db.execute(update(User).where(User.id == user.id).values(password_hash=password_hash))
    user.password_hash = password_hash
    end_sessions(db, user)


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """Check the current password, set the new one and end every session of the user."""
    set_password(db, user, new_password_hash(user, current, new))
