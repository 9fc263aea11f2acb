"""Sign-up with e-mail confirmation, and password reset, by one-time links mailed through the outbox.

No account enumeration: sign-up, resending the confirmation and asking for a reset answer the same
whether or not the address has an account. Signing up with a taken address mails its owner "you
already have an account" instead (or a fresh confirmation link while it is unconfirmed).

Links: only the SHA-256 of the token is stored (``AccountToken``); a confirmation link lives
:data:`CONFIRM_VALID_FOR`, a reset link :data:`RESET_VALID_FOR`; each works once: the row is locked
and claimed by one conditional update, so of concurrent uses exactly one succeeds. A new link of a
purpose ends the account's older ones. Mails of one purpose to one address are limited to one per
:data:`MAIL_INTERVAL` and :data:`MAILS_PER_DAY` a day (the rest are silently not sent).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from backend import audit
from backend.accounts import consents, passwords
from backend.accounts.schemas import ResetIn, SignupIn
from backend.accounts.service import _forget_after_commit
from backend.accounts.tables import AccountToken, ApiToken, ConsentKind, Profile, TokenPurpose, User
from backend.accounts.tokens import token_digest
from backend.db import locked_row, transaction, utcnow
from backend.errors import Conflict, DomainError
from backend.mail.service import queue_email

CONFIRM_VALID_FOR = dt.timedelta(hours=48)
RESET_VALID_FOR = dt.timedelta(hours=1)
MAIL_INTERVAL = dt.timedelta(minutes=1)
MAILS_PER_DAY = 5
TOKEN_PREFIX = "acc_"  # noqa: S105 - a marker, not a secret
LOCALES = ("zh", "en", "ru")

PATHS = {TokenPurpose.confirm_email: "/confirm/", TokenPurpose.reset_password: "/password-reset/"}

# The mails, in the account's language ----------------------------------------------------------

_MAILS: dict[str, dict[str, tuple[str, str]]] = {
    "confirm": {
        "zh": (
            "请确认您的 Podium 邮箱",
            "您好：\n\n请打开以下链接确认您的邮箱（{hours} 小时内有效，仅可使用一次）：\n{link}\n\n"
            "如果您没有注册 Podium，请忽略此邮件。\n",
        ),
        "en": (
            "Confirm your e-mail address for Podium",
            "Hello,\n\nTo confirm your e-mail address, open this link (valid for {hours} hours, once):\n"
            "{link}\n\nIf you did not sign up for Podium, ignore this message.\n",
        ),
        "ru": (
            "Подтвердите адрес электронной почты для Podium",
            "Здравствуйте!\n\nЧтобы подтвердить адрес, откройте ссылку (действует {hours} ч., один раз):\n"
            "{link}\n\nЕсли вы не регистрировались на Podium, просто проигнорируйте это письмо.\n",
        ),
    },
    "exists": {
        "zh": (
            "您已经有 Podium 账户",
            "您好：\n\n有人（可能是您）用这个邮箱注册 Podium，但它已经有账户了。\n"
            "请直接登录：{login}\n忘记密码可以在这里重设：{reset}\n\n如果不是您本人操作，请忽略此邮件。\n",
        ),
        "en": (
            "You already have a Podium account",
            "Hello,\n\nSomeone (probably you) tried to sign up for Podium with this address, which "
            "already has an account.\nLog in here: {login}\nForgot the password? Reset it here: {reset}\n\n"
            "If this was not you, ignore this message.\n",
        ),
        "ru": (
            "У вас уже есть учётная запись Podium",
            "Здравствуйте!\n\nКто-то (вероятно, вы) пытался зарегистрироваться на Podium с этим адресом, "
            "но учётная запись уже есть.\nВойти: {login}\nЗабыли пароль? Сбросить: {reset}\n\n"
            "Если это были не вы, просто проигнорируйте это письмо.\n",
        ),
    },
    "reset": {
        "zh": (
            "重设您的 Podium 密码",
            "您好：\n\n重设密码请打开以下链接（{hours} 小时内有效，仅可使用一次）：\n{link}\n\n"
            "重设后，您所有的登录会话和 API 令牌都会失效。\n如果您没有申请重设密码，请忽略此邮件。\n",
        ),
        "en": (
            "Reset your Podium password",
            "Hello,\n\nTo set a new password, open this link (valid for {hours} hour(s), once):\n{link}\n\n"
            "After the reset every session and API token of the account ends.\n"
            "If you did not ask for this, ignore this message.\n",
        ),
        "ru": (
            "Сброс пароля Podium",
            "Здравствуйте!\n\nЧтобы задать новый пароль, откройте ссылку (действует {hours} ч., один раз):\n"
            "{link}\n\nПосле сброса все сеансы и API-токены учётной записи перестанут действовать.\n"
            "Если вы не запрашивали сброс, просто проигнорируйте это письмо.\n",
        ),
    },
}


async def _mail(kind: str, to: str, locale: str, **values: Any) -> None:
    subject, body = _MAILS[kind][locale if locale in LOCALES else "en"]
    await queue_email(to, subject, body.format(**values))


async def _may_mail(user_id: int, purpose: TokenPurpose) -> bool:
    """Whether the per-address limit leaves room for another link of ``purpose``."""
    now = utcnow()
    recent = await AccountToken.select(AccountToken.created_at).where(
        (AccountToken.user == user_id)
        & (AccountToken.purpose == purpose.value)
        & (AccountToken.created_at > now - dt.timedelta(days=1))
    )
    return len(recent) < MAILS_PER_DAY and all(r["created_at"] <= now - MAIL_INTERVAL for r in recent)


async def _send_link(user: dict[str, Any], purpose: TokenPurpose, base_url: str) -> bool:
    """Issue a new link of ``purpose`` (ending the older ones) and mail it, unless the limit is
    reached; inside a transaction. Whether it was sent."""
    if not await _may_mail(user["id"], purpose):
        return False
    now = utcnow()
    await AccountToken.update({AccountToken.used_at: now}).where(
        (AccountToken.user == user["id"])
        & (AccountToken.purpose == purpose.value)
        & AccountToken.used_at.is_null()
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    valid_for = CONFIRM_VALID_FOR if purpose is TokenPurpose.confirm_email else RESET_VALID_FOR
    await AccountToken(
        user=user["id"], purpose=purpose.value, token_hash=token_digest(token), expires_at=now + valid_for
    ).save()
    kind = "confirm" if purpose is TokenPurpose.confirm_email else "reset"
    link = base_url.rstrip("/") + PATHS[purpose] + token
    await _mail(kind, user["email"], user["locale"], link=link, hours=int(valid_for.total_seconds() // 3600))
    return True


async def _requested(action: str, email: str, user: dict[str, Any] | None, mailed: bool) -> None:
    """The one audit entry of a request by address (whatever the caller was told): what was asked
    for which address, and whether a mail went out."""
    target = user["id"] if user else None
    await audit.record(None, action, "user", target, data={"email": email[:255], "mailed": mailed})


async def _user_by_email(email: str) -> dict[str, Any] | None:
    return (
        await User.select(User.id, User.email, User.locale, User.active, User.email_confirmed_at)
        .where(User.email == email.strip().lower())
        .first()
    )


async def signup(data: SignupIn, base_url: str) -> None:
    """Create an unconfirmed account with its profile and consents, and mail the confirmation link;
    for a taken address, mail its owner instead (the caller cannot tell which happened)."""
    if not data.terms:
        raise DomainError(
            "terms_required", "Accept the terms of use to sign up", fields={"terms": "must be accepted"}
        )
    email = data.email.strip().lower()
    password = passwords.hash_password(data.password)  # slow: not while holding SQLite's write lock
    try:
        async with transaction():
            if await _user_by_email(email) is None:
                user = User.account(email, password, data.name_native, data.locale, confirmed=False)
                await user.save()
                await Profile(user=user.id, name_native=data.name_native, name_latin=data.name_latin).save()
                answers = {kind: bool(getattr(data, kind.value)) for kind in ConsentKind}
                await consents.record(user.id, answers)
                row = {"id": user.id, "email": email, "locale": data.locale}
                mailed = await _send_link(row, TokenPurpose.confirm_email, base_url)
                await audit.record(
                    user.id,
                    "account.signup",
                    "user",
                    user.id,
                    data={
                        "email": email,
                        "consents": {k.value: v for k, v in answers.items()},
                        "mailed": mailed,
                    },
                )
                return
    except Conflict:  # signed up at this very moment by another request: like a taken address
        pass
    await _taken(email, base_url)


async def _taken(email: str, base_url: str) -> None:
    async with transaction():
        user = await _user_by_email(email)
        mailed = False
        if user is None or not user["active"]:
            pass
        elif user["email_confirmed_at"] is None:
            mailed = await _send_link(user, TokenPurpose.confirm_email, base_url)
        elif await _may_mail(user["id"], TokenPurpose.confirm_email):
            # counted like a confirmation link, so repeated sign-ups cannot flood the owner
            await AccountToken(
                user=user["id"],
                purpose=TokenPurpose.confirm_email.value,
                token_hash=token_digest(secrets.token_urlsafe(32)),
                expires_at=utcnow(),
                used_at=utcnow(),
            ).save()
            root = base_url.rstrip("/")
            await _mail(
                "exists", email, user["locale"], login=f"{root}/login", reset=f"{root}/password-reset"
            )
            mailed = True
        await _requested("account.signup_existing", email, user, mailed)


async def resend_confirmation(email: str, base_url: str) -> None:
    """Mail a new confirmation link when the address has an unconfirmed account; else nothing."""
    async with transaction():
        user = await _user_by_email(email)
        mailed = False
        if user is not None and user["active"] and user["email_confirmed_at"] is None:
            mailed = await _send_link(user, TokenPurpose.confirm_email, base_url)
        await _requested("account.confirm_link_requested", email, user, mailed)


async def _use_link(token: str, purpose: TokenPurpose) -> dict[str, Any]:
    """Claim the link of ``token`` (inside the caller's transaction): 404 ``link_invalid``, 410
    ``link_used`` or ``link_expired``; returns the token's row."""
    digest = token_digest(token) if token.startswith(TOKEN_PREFIX) else None
    found = (
        await AccountToken.select(AccountToken.id)
        .where((AccountToken.token_hash == digest) & (AccountToken.purpose == purpose.value))
        .first()
    )
    if found is None:
        raise DomainError("link_invalid", "This link is not valid; ask for a new one", status_code=404)
    row = await locked_row(AccountToken, found["id"])  # concurrent uses of this link queue here
    assert row is not None
    if row["used_at"] is not None:
        raise DomainError("link_used", "This link has already been used", status_code=410)
    if row["expires_at"] <= utcnow():
        raise DomainError("link_expired", "This link has expired; ask for a new one", status_code=410)
    claimed = (
        await AccountToken.update({AccountToken.used_at: utcnow()})
        .where((AccountToken.id == row["id"]) & AccountToken.used_at.is_null())
        .returning(AccountToken.id)
    )
    if not claimed:  # cannot happen while the row is locked
        raise DomainError("link_used", "This link has already been used", status_code=410)
    return row


async def confirm(token: str) -> int:
    """Confirm the address of the link's account; returns the account's id."""
    async with transaction():
        row = await _use_link(token, TokenPurpose.confirm_email)
        await User.update({User.email_confirmed_at: utcnow()}).where(
            (User.id == row["user"]) & User.email_confirmed_at.is_null()
        )
        await audit.record(row["user"], "account.confirm_email", "user", row["user"])
    return row["user"]


async def request_password_reset(email: str, base_url: str) -> None:
    """Mail a reset link when the address has an active account; else nothing."""
    async with transaction():
        user = await _user_by_email(email)
        mailed = False
        if user is not None and user["active"]:
            mailed = await _send_link(user, TokenPurpose.reset_password, base_url)
        await _requested("account.reset_link_requested", email, user, mailed)


async def reset_password(data: ResetIn) -> int:
    """Set the new password of the link's account and end every session, API token and other link
    of the account. The link proves the address, so an unconfirmed one counts as confirmed."""
    new_hash = passwords.hash_password(data.password)  # slow: not while holding SQLite's write lock
    async with transaction():
        row = await _use_link(data.token, TokenPurpose.reset_password)
        user_id = row["user"]
        now = utcnow()
        await User.update({User.password: new_hash, User.auth_epoch: User.auth_epoch + 1}).where(
            User.id == user_id
        )
        await User.update({User.email_confirmed_at: now}).where(
            (User.id == user_id) & User.email_confirmed_at.is_null()
        )
        await ApiToken.update({ApiToken.revoked_at: now}).where(
            (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
        )
        await AccountToken.update({AccountToken.used_at: now}).where(
            (AccountToken.user == user_id) & AccountToken.used_at.is_null()
        )
        _forget_after_commit(user_id)
        await audit.record(user_id, "account.reset_password", "user", user_id)
    return user_id
