"""Sign-ins and two-factor changes, heard from Django's and allauth's signals.

These happen inside Django's and allauth's own flows (django.contrib.auth.login(), allauth's
MFA views), which have no PUNT service to hook; the signals are their documented extension
point. Connected in AuditConfig.ready(). The JWT sign-in sends no signal:
accounts.services.token_pair_sign_in records it.
"""

from __future__ import annotations

from typing import Any

from audit.services import audit_record

TWO_FACTOR_ADDED = {"recovery_codes": "auth.recovery_codes_generated"}


def _type(authenticator: Any) -> str:
    return str(getattr(authenticator, "type", "") or "")


def on_user_logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, request=request, target=user, data={"via": "session"})


def on_user_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password; the name tried is what an investigator needs.
    name = credentials.get("username") or credentials.get("email") or ""
    audit_record(action="auth.login_failed", actor=None, request=request, data={"username": str(name)[:150]})


def on_authenticator_added(
    sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kwargs: Any
) -> None:
    kind = _type(authenticator)
    action = TWO_FACTOR_ADDED.get(kind, "auth.2fa_enabled")
    audit_record(action=action, actor=user, request=request, target=user, data={"type": kind})


def on_authenticator_removed(
    sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kwargs: Any
) -> None:
    audit_record(
        action="auth.2fa_disabled", actor=user, request=request, target=user, data={"type": _type(authenticator)}
    )


def on_authenticator_reset(
    sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kwargs: Any
) -> None:
    kind = _type(authenticator)
    audit_record(action="auth.recovery_codes_generated", actor=user, request=request, target=user, data={"type": kind})


def on_mfa_failed(sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kwargs: Any) -> None:
    # A wrong second-factor code: the password was right, so the account is known.
    data = {"username": getattr(user, "username", ""), "factor": _type(authenticator)}
    if kwargs.get("reauthentication"):
        data["reauthentication"] = True
    audit_record(action="auth.login_failed", actor=None, request=request, target=user, data=data)


def connect() -> None:
    from allauth.mfa import signals as mfa_signals
    from django.contrib.auth import signals as auth_signals

    auth_signals.user_logged_in.connect(on_user_logged_in, dispatch_uid="audit.user_logged_in")
    auth_signals.user_login_failed.connect(on_user_login_failed, dispatch_uid="audit.user_login_failed")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid="audit.authenticator_added")
    mfa_signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid="audit.authenticator_removed")
    mfa_signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid="audit.authenticator_reset")
    mfa_signals.authentication_failed.connect(on_mfa_failed, dispatch_uid="audit.mfa_failed")
