"""Accounts: sessions, passwords, one-time passwords and the admin's account list.

A session cookie carries the user's `session_epoch` (server/auth.py); bumping it ends every
session of that person on every phone at once: logout, a password change, disabling an
account, a reset password and an admin's "全部下线" all do. A one-time password is stored only
as its argon2 hash, with `must_change_password` set: until its owner sets a password of their
own, every page but /account/password is closed (server/auth.py: `password_change_guard`).
These functions do not commit: the handler (or the CLI) does.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server import auth
from server.models import Department, Role, User, UserRole

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
    db.execute(
        update(User)
        .where(User.id == user.id)
        .values(password_hash=password_hash, must_change_password=False)
    )
    user.password_hash = password_hash
    user.must_change_password = False
    end_sessions(db, user)


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """Check the current password, set the new one and end every session of the user."""
    set_password(db, user, new_password_hash(user, current, new))


# --- one-time passwords ---------------------------------------------------------------------

# read aloud or copied from paper: no 0/O, 1/l/I; 10 of 31 signs are about 49 bits
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_LENGTH = 10


def new_one_time_password() -> str:
    return "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_LENGTH))


def has_usable_password(user: User) -> bool:
    # imported staff get "!" (no argon2 hash matches it): they wait for a one-time password
    return user.password_hash.startswith("$argon2")


def issue_one_time_password(db: Session, user: User) -> str:
    """Give the user a new one-time password (returned, to show once) and log them out
    everywhere; only its hash is kept."""
    return _store_one_time(db, [(user, *_one_time_pair())])[0][1]


def issue_one_time_passwords(db: Session, user_ids: list[int]) -> list[tuple[User, str]]:
    """One-time passwords for these accounts (the printable sheet), in 工号 order."""
    users = db.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.username)).all()
    return _store_one_time(db, [(user, *_one_time_pair()) for user in users])


def _one_time_pair() -> tuple[str, str]:
    password = new_one_time_password()
    return password, auth.hash_password(password)


def _store_one_time(db: Session, issued: list[tuple[User, str, str]]) -> list[tuple[User, str]]:
    # every hash is made before the first write: SQLite's writer lock is not held while
    # argon2 runs
    for user, _, password_hash in issued:
        user.password_hash = password_hash
        user.must_change_password = True
        db.flush()
        end_sessions(db, user)
    return [(user, password) for user, password, _ in issued]


def accounts_without_password(db: Session, department_id: int | None = None) -> list[User]:
    """Active accounts nobody can log in to yet (e.g. just imported), for the sheet."""
    query = select(User).where(User.active, ~User.password_hash.startswith("$argon2"))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return list(db.scalars(query.order_by(User.username)))


# --- the admin's account list --------------------------------------------------------------

USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,50}")
PHONE = re.compile(r"[0-9+\- ]{3,20}")
ROLES_BY_NAME = {r.value: r for r in Role} | {r.label: r for r in Role}


class AccountRefused(Exception):
    """The reason, in Chinese, is shown on the form; nothing was changed."""


@dataclass
class AccountForm:
    """What the create and edit forms send, checked: `parse_form` refuses anything else."""

    name: str
    department_id: int | None
    roles: frozenset[Role]
    phone: str | None


def _text(value: str, label: str, limit: int, required: bool = True) -> str:
    value = unicodedata.normalize("NFKC", value or "").strip()
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise AccountRefused(f"{label}不能包含控制字符。")
    if required and not value:
        raise AccountRefused(f"请填写{label}。")
    if len(value) > limit:
        raise AccountRefused(f"{label}最多 {limit} 个字符。")
    return value


def parse_username(value: str) -> str:
    username = _text(value, "工号（用户名）", 50)
    if not USERNAME.fullmatch(username):
        raise AccountRefused("工号（用户名）只能由 2–50 个字母、数字、下划线、点或连字符组成。")
    return username


def parse_name(value: str) -> str:
    return _text(value, "姓名", 50)


def parse_form(
    db: Session, name: str, department: str, roles: list[str], phone: str
) -> AccountForm:
    name = parse_name(name)
    department_id = None
    if (department or "").strip():
        if not department.strip().isdigit() or db.get(Department, int(department)) is None:
            raise AccountRefused("所选系部不存在。")
        department_id = int(department)
    chosen = set()
    for value in roles:
        value = _text(value, "角色", 50, required=False)
        if not value:
            continue
        if value not in ROLES_BY_NAME:
            raise AccountRefused(f"角色“{value}”不存在。")
        chosen.add(ROLES_BY_NAME[value])
    if not chosen:
        raise AccountRefused("请至少选择一个角色。")
    if Role.leader in chosen and department_id is None:
        raise AccountRefused("系部学生工作负责人需要选择所在系部。")
    phone_value = _text(phone, "手机", 20, required=False) or None
    if phone_value and not PHONE.fullmatch(phone_value):
        raise AccountRefused("手机号码只能包含数字、空格、+ 或 -。")
    return AccountForm(name, department_id, frozenset(chosen), phone_value)


def create_account(db: Session, username: str, form: AccountForm) -> tuple[User, str]:
    """A new account with a one-time password (returned, to show once)."""
    username = parse_username(username)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountRefused(f"工号“{username}”已经有账号了。")
    user = User(username=username, name=form.name, password_hash="!", active=True)
    _apply(user, form)
    db.add(user)
    db.flush()
    return user, issue_one_time_password(db, user)


def update_account(db: Session, admin: User, user: User, form: AccountForm) -> None:
    if user.id == admin.id and Role.admin not in form.roles:
        raise AccountRefused("不能去掉自己的管理员角色，以免没有人能管理账号。")
    _apply(user, form)
    db.flush()


def _apply(user: User, form: AccountForm) -> None:
    user.name = form.name
    user.department_id = form.department_id
    user.phone = form.phone
    kept = [row for row in user.role_rows if row.role in form.roles]
    have = {row.role for row in kept}
    user.role_rows = kept + [UserRole(role=r) for r in sorted(form.roles - have)]


def set_active(db: Session, admin: User, user: User, active: bool) -> None:
    """Disable (logged out at once: the epoch moves) or enable an account."""
    if user.id == admin.id and not active:
        raise AccountRefused("不能停用自己的账号。")
    user.active = active
    db.flush()
    if not active:
        end_sessions(db, user)


def search(
    db: Session, text: str = "", department_id: int | None = None, role: Role | None = None
) -> list[User]:
    """Accounts by name or 工号 (a part of either), department and role."""
    query = select(User)
    if text := text.strip():
        query = query.where(
            or_(
                User.name.icontains(text, autoescape=True),
                User.username.icontains(text, autoescape=True),
            )
        )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    if role is not None:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return list(db.scalars(query.order_by(User.username)))
