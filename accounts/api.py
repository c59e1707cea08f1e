"""Thin DRF views for accounts: validate input, apply rate limits, call a service, serialize.

Two families: the canonical /api/v1/auth/* and /api/v1/users/me* (JWT, API key or session),
and PUNT's session endpoints under /api/auth/* (seed 000).
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.email_verification import send_verification_email_to_address
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from accounts import selectors, services
from accounts.models import SystemSettings, User
from accounts.permissions import ApiKeyScope
from accounts.serializers import (
    AdminUserPageSerializer,
    AdminUserSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateInputSerializer,
    ApiKeySerializer,
    AvatarInputSerializer,
    DetailSerializer,
    ForgotPasswordInputSerializer,
    LoginInputSerializer,
    MeSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    PuntCsrfSerializer,
    PuntLoginSerializer,
    PuntRegisterInputSerializer,
    PuntSessionSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    ResetPasswordInputSerializer,
    SystemSettingsInputSerializer,
    SystemSettingsSerializer,
    TokenPairSerializer,
    TwoFactorChallengeSerializer,
    TwoFactorLoginInputSerializer,
    UserAdminUpdateInputSerializer,
    UserCreateInputSerializer,
    UserListQuerySerializer,
)
from accounts.services import two_factor
from audit.api import AuditLogView, audit_log_schema
from audit.models import AuditEntry
from audit.serializers import AdminAuditLogQuerySerializer
from punt import errors
from punt.api.authentication import CsrfSessionAuthentication
from punt.api.origin import require_same_origin
from punt.api.parsers import JSONParser
from punt.api.permissions import IsSiteAdmin
from punt.api.ratelimit import check_rate, client_ip, record_usage
from punt.api.request import request_user, validated

# Seed 000's limits. Sign-ins have their own rule (accounts.services.login): failures
# count, per address and per account.
REGISTER_RATE = "5/h"
PASSWORD_CHANGE_RATE = "5/15m"
# Not in the seed: stops anyone from using forgot-password to flood a mailbox.
PASSWORD_RESET_RATE = "5/15m"

ERROR = OpenApiResponse(description='Error: {"error": "...", "details": [{"field", "message"}]}')
LOGIN_LIMITS = (
    "Failed sign-ins are limited per address (10 per 15 minutes, reported in X-RateLimit-*) and per "
    "account (after 10, each further failure doubles the wait before the next attempt, up to 15 "
    "minutes). Refusals are 429 with Retry-After. A successful sign-in sets the `punt_device` cookie; "
    "a sign-in to the same account that carries it is exempt from both limits."
)
CREDENTIAL_LIMITS = (
    "A token that is not one of ours counts against the caller's address: past 30 in 15 minutes "
    "the 401 becomes a 429 with Retry-After."
)


def _token_pair_response(pair: services.TokenPair, *, status_code: int = status.HTTP_200_OK) -> Response:
    body = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
        "user": MeSerializer(pair.user).data,
    }
    return Response(body, status=status_code)


def login_checked(request: HttpRequest, *, username: str, password: str) -> services.LoginResult:
    """services.login_attempt for this request (address, known-device cookie), with the
    address's remaining budget reported in the X-RateLimit-* headers. Shared with the web form."""
    try:
        result = services.login_attempt(
            username=username,
            password=password,
            ip=client_ip(request),
            device_cookie=request.COOKIES.get(services.DEVICE_COOKIE),
            request=request,
        )
    except services.LoginThrottled as exc:
        budget = exc.budget
        record_usage(
            request, limit=budget.limit, remaining=budget.remaining, reset=budget.reset, limited=exc.by_address
        )
        raise
    budget = result.budget
    record_usage(request, limit=budget.limit, remaining=budget.remaining, reset=budget.reset)
    return result


def device_cookie_set(response: HttpResponseBase, result: services.LoginResult) -> None:
    """Remember this browser as a known device of the account that just signed in."""
    if result.device_cookie is not None:
        response.set_cookie(
            services.DEVICE_COOKIE,
            result.device_cookie,
            max_age=services.DEVICE_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


EMAIL_UNVERIFIED = "Confirm your e-mail address first: a link was mailed to you."


def email_verification_send(request: HttpRequest, user: User, *, signup: bool) -> None:
    """Mail `user` a confirmation link if the site verifies addresses and theirs is not verified
    (allauth's confirmation, with its resend limits). Shared with the session endpoints."""
    if services.system_settings().email_verification == SystemSettings.EmailVerification.NONE:
        return
    if not EmailAddress.objects.filter(user=user, primary=True).exists():
        services.email_address_sync(user=user)  # an account made in the Django admin, say
    address = EmailAddress.objects.filter(user=user, primary=True, verified=False).first()
    if address is not None:
        send_verification_email_to_address(request, address, signup=signup)


def register_checked(request: Request, input_serializer: type[Serializer]) -> User:
    """Registration for every API dialect: the site's switch, REGISTER_RATE per address (one
    budget with the web form), then accounts.services.user_register's rules. `input_serializer`
    names the fields in the dialect's words and yields user_register's arguments."""
    if not services.registration_open():
        raise errors.Forbidden("Registration is closed on this server.")
    check_rate(request, group="auth.register", rate=REGISTER_RATE, key=f"ip:{client_ip(request)}")
    data = validated(input_serializer, request.data)
    user = services.user_register(
        username=data["username"], email=data["email"], password=data["password"], display_name=data["display_name"]
    )
    email_verification_send(request._request, user, signup=True)
    return user


def _login_user(request: Request) -> services.LoginResult:
    data = validated(LoginInputSerializer, request.data)
    result = login_checked(request._request, username=data["username"], password=data["password"])
    if result.user is None:
        raise exceptions.AuthenticationFailed("Invalid username or password.")
    return result


class PublicView(APIView):
    """An endpoint for callers who have no credentials yet (login, register, reset…).

    No authentication classes, so a stale Bearer header cannot get in the way; the
    WWW-Authenticate header keeps credential failures at 401 (DRF would say 403 without one).
    """

    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


# --------------------------------------------------------------------------- /api/v1/auth/*


TWO_FACTOR_LOGIN = (
    "An account with two-factor authentication gets no tokens here: the answer is "
    '`{"two_factor_required": true, "challenge": "...", "methods": [...]}`, and '
    "POST /api/v1/auth/login/2fa exchanges the challenge and a code for the tokens. When the site "
    "requires two-factor of an account that has none, the answer is 403 (code "
    "`two_factor_setup_required`): set it up in the web app first. API keys are not affected."
)


@extend_schema(tags=["auth"])
class LoginView(PublicView):
    @extend_schema(
        request=LoginInputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="LoginResult",
                serializers=[TokenPairSerializer, TwoFactorChallengeSerializer],
                resource_type_field_name=None,
            ),
            400: ERROR,
            401: ERROR,
            403: ERROR,
            429: ERROR,
        },
        auth=[],
        summary="Obtain an access + refresh token (or a two-factor challenge)",
        description=LOGIN_LIMITS + "\n\n" + TWO_FACTOR_LOGIN,
    )
    def post(self, request: Request) -> Response:
        result = _login_user(request)
        assert result.user is not None  # _login_user refused the attempt otherwise
        if two_factor.password_login_check(user=result.user):
            # Not signed in yet: the sign-in is recorded when /api/v1/auth/login/2fa completes it.
            body = {
                "two_factor_required": True,
                "challenge": two_factor.challenge_issue(user=result.user),
                "methods": two_factor.api_methods(result.user),
            }
            response = Response(body)
        else:
            response = _token_pair_response(services.token_pair_sign_in(user=result.user, request=request))
        device_cookie_set(response, result)
        return response


@extend_schema(tags=["auth"])
class TwoFactorLoginView(PublicView):
    @extend_schema(
        request=TwoFactorLoginInputSerializer,
        responses={200: TokenPairSerializer, 400: ERROR, 401: ERROR, 429: ERROR},
        auth=[],
        summary="Complete a two-factor sign-in with a code",
        description=(
            "The challenge from POST /api/v1/auth/login and a code: the authenticator app's current "
            "code (each accepted once) or an unused recovery code (spent by this call). The challenge "
            "lasts 5 minutes and completes one sign-in; a wrong code leaves it usable. An account gets "
            "5 wrong codes per 5-minute window, from any challenge; then 429 with Retry-After. "
            "Security keys (WebAuthn) need a browser: use the web sign-in or a recovery code."
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(TwoFactorLoginInputSerializer, request.data)
        user = two_factor.challenge_complete(challenge=data["challenge"], code=data["code"], request=request._request)
        return _token_pair_response(services.token_pair_sign_in(user=user, request=request))


@extend_schema(tags=["auth"])
class RefreshView(PublicView):
    @extend_schema(
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, 400: ERROR, 401: ERROR, 429: ERROR},
        auth=[],
        summary="Exchange a refresh token for a new pair (the old one is revoked)",
        description=(
            "Each refresh token is exchanged once. Sent again within PUNT_REFRESH_REUSE_GRACE_SECONDS "
            "(30 s by default) while the pair it was exchanged for is unused, it gets that same pair "
            "again (a retry after a lost answer). Any later reuse means two holders: every refresh "
            "token rotated from the same sign-in is revoked and the answer is 401.\n\n" + CREDENTIAL_LIMITS
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(RefreshInputSerializer, request.data)
        pair = services.token_pair_refresh(refresh_token=data["refresh_token"], ip=client_ip(request))
        return _token_pair_response(pair)


@extend_schema(tags=["auth"])
class LogoutView(PublicView):
    @extend_schema(
        request=RefreshInputSerializer,
        responses={204: None, 400: ERROR, 401: ERROR, 429: ERROR},
        auth=[],
        summary="Revoke a refresh token",
        description=(
            "A token already exchanged, sent within the refresh grace window, revokes the token it "
            "was exchanged for instead; later, it revokes its whole sign-in and is refused (401).\n\n"
            + CREDENTIAL_LIMITS
        ),
    )
    def post(self, request: Request) -> Response:
        data = validated(RefreshInputSerializer, request.data)
        services.refresh_token_revoke(refresh_token=data["refresh_token"], ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class LogoutAllView(APIView):
    # No api_scope: like the rest of the account's own settings, it needs an unrestricted key.
    @extend_schema(
        request=None,
        responses={204: None, 401: ERROR, 403: ERROR},
        summary="Sign out everywhere",
        description=(
            "Ends every access token, refresh token and browser session of the signed-in user, "
            "this one included, and closes their open WebSockets. API keys stay valid: revoke "
            "them one by one."
        ),
    )
    def post(self, request: Request) -> Response:
        services.user_sign_out_everywhere(user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class RegisterView(PublicView):
    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: TokenPairSerializer, 400: ERROR, 403: ERROR, 429: ERROR},
        auth=[],
        summary="Create an account (when registration is open) and sign in",
        description=(
            "Refused with 403 when registration or password sign-up is off; an address outside the site's "
            "sign-up domains is a 400 on `email`. When the site verifies e-mail addresses, a confirmation link "
            "is mailed; the tokens are issued either way (the API does not check verification)."
        ),
    )
    def post(self, request: Request) -> Response:
        user = register_checked(request, RegisterInputSerializer)
        return _token_pair_response(
            services.token_pair_sign_in(user=user, request=request), status_code=status.HTTP_201_CREATED
        )


@extend_schema(tags=["auth"])
class ForgotPasswordView(PublicView):
    @extend_schema(
        request=ForgotPasswordInputSerializer,
        responses={200: DetailSerializer, 400: ERROR, 429: ERROR},
        auth=[],
        summary="Mail a password reset link (the answer is the same whether or not the account exists)",
    )
    def post(self, request: Request) -> Response:
        check_rate(request, group="auth.forgot", rate=PASSWORD_RESET_RATE, key=f"ip:{client_ip(request)}")
        data = validated(ForgotPasswordInputSerializer, request.data)
        services.password_reset_request(email=data["email"])
        return Response({"detail": "If an account uses that address, a reset link is on its way."})


@extend_schema(tags=["auth"])
class ResetPasswordView(PublicView):
    @extend_schema(
        request=ResetPasswordInputSerializer,
        responses={200: DetailSerializer, 400: ERROR},
        auth=[],
        summary="Set a new password with a reset token (signs out every refresh token)",
    )
    def post(self, request: Request) -> Response:
        data = validated(ResetPasswordInputSerializer, request.data)
        services.password_reset_confirm(token=data["token"], password=data["password"])
        return Response({"detail": "Your password has been changed. Sign in with the new one."})


# --------------------------------------------------------------------------- /api/v1/users/me*
# No api_scope on these views: managing the account itself needs an unrestricted API key.


@extend_schema(tags=["users"])
class MeView(APIView):
    @extend_schema(responses={200: MeSerializer, 401: ERROR}, summary="The signed-in user")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        request=MeUpdateInputSerializer, responses={200: MeSerializer, 400: ERROR}, summary="Update your profile"
    )
    def put(self, request: Request) -> Response:
        # Fields left out stay as they are (WarmDesk's PUT is a partial update).
        data = validated(MeUpdateInputSerializer, request.data)
        user = services.user_update(
            user=request_user(request), display_name=data.get("display_name"), email=data.get("email")
        )
        return Response(MeSerializer(user).data)

    @extend_schema(
        request=MeUpdateInputSerializer, responses={200: MeSerializer, 400: ERROR}, summary="Update your profile"
    )
    def patch(self, request: Request) -> Response:
        return self.put(request)


@extend_schema(tags=["users"])
class PasswordChangeView(APIView):
    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={200: TokenPairSerializer, 400: ERROR, 429: ERROR},
        summary="Change your password",
        description=(
            "Every refresh token issued before is revoked. The response carries a fresh token pair so "
            "the client that made the change stays signed in; a browser session stays signed in too."
        ),
    )
    def post(self, request: Request) -> Response:
        check_rate(request, group="auth.password", rate=PASSWORD_CHANGE_RATE, key=f"user:{request.user.pk}")
        data = validated(PasswordChangeInputSerializer, request.data)
        user = services.password_change(
            user=request_user(request), current_password=data["current_password"], new_password=data["new_password"]
        )
        if isinstance(request.successful_authenticator, CsrfSessionAuthentication):
            # Django ends every session on a password change; keep the one that made it.
            update_session_auth_hash(request._request, user)
        return _token_pair_response(services.token_pair_issue(user=user))


@extend_schema(tags=["users"])
class AvatarView(APIView):
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        request={"multipart/form-data": AvatarInputSerializer},
        responses={200: MeSerializer, 400: ERROR},
        summary="Upload an avatar (stored as a 256x256 WebP)",
    )
    def post(self, request: Request) -> Response:
        data = validated(AvatarInputSerializer, request.data)
        return Response(MeSerializer(services.avatar_set(user=request_user(request), upload=data["avatar"])).data)

    @extend_schema(request=None, responses={204: None}, summary="Remove your avatar")
    def delete(self, request: Request) -> Response:
        services.avatar_clear(user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["api keys"])
class ApiKeyViewSet(ViewSet):
    @extend_schema(responses={200: ApiKeySerializer(many=True)}, summary="Your API keys (not revoked)")
    def list(self, request: Request) -> Response:
        return Response(ApiKeySerializer(selectors.api_key_list(user=request_user(request)), many=True).data)

    @extend_schema(
        request=ApiKeyCreateInputSerializer,
        responses={201: ApiKeyCreatedSerializer, 400: ERROR},
        summary="Create an API key (the secret is shown once, in this response)",
    )
    def create(self, request: Request) -> Response:
        data = validated(ApiKeyCreateInputSerializer, request.data)
        key, raw = services.api_key_create(
            user=request_user(request),
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            request=request,
        )
        body = {**ApiKeySerializer(key).data, "key": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None, 404: ERROR}, summary="Revoke an API key")
    def destroy(self, request: Request, key_id: int) -> Response:
        key = selectors.api_key_get(user=request_user(request), key_id=key_id)
        services.api_key_revoke(api_key=key, by=request_user(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- admin: users, settings


class SiteAdminView(APIView):
    """Site admins only; an API key needs the admin scope (or no scope restriction)."""

    permission_classes = (IsAuthenticated, ApiKeyScope, IsSiteAdmin)
    api_scope = "admin"


class UserPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


@extend_schema(tags=["admin"])
class UserListView(SiteAdminView):
    @extend_schema(
        parameters=[UserListQuerySerializer],
        responses={200: AdminUserPageSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
        summary="List all users (site admins)",
        operation_id="users_list",
    )
    def get(self, request: Request) -> Response:
        query = UserListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        users = selectors.users_for_admin(**query.validated_data)
        paginator = UserPagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(AdminUserSerializer(page, many=True).data)

    @extend_schema(
        request=UserCreateInputSerializer,
        responses={201: AdminUserSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
        summary="Create a user (site admins; works while registration is closed)",
    )
    def post(self, request: Request) -> Response:
        data = validated(UserCreateInputSerializer, request.data)
        user = services.user_create(by=request_user(request), request=request, **data)
        return Response(AdminUserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["admin"])
class UserDetailView(SiteAdminView):
    @extend_schema(responses={200: AdminUserSerializer, 401: ERROR, 403: ERROR, 404: ERROR}, summary="One user")
    def get(self, request: Request, user_id: int) -> Response:
        return Response(AdminUserSerializer(selectors.user_get_for_admin(pk=user_id)).data)

    @extend_schema(
        request=UserAdminUpdateInputSerializer,
        responses={200: AdminUserSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Update a user: profile, active flag, global roles, password (site admins)",
        description=(
            "Fields left out stay as they are. Deactivating signs the user out everywhere (refresh "
            "tokens revoked; access tokens, sessions and API keys refuse inactive users). Admins cannot "
            "deactivate themselves or remove their own admin role."
        ),
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = selectors.user_get_for_admin(pk=user_id)
        data = validated(UserAdminUpdateInputSerializer, request.data)
        user = services.user_admin_update(user=user, by=request_user(request), request=request, **data)
        return Response(AdminUserSerializer(user).data)

    @extend_schema(
        request=UserAdminUpdateInputSerializer,
        responses={200: AdminUserSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Update a user (same as PUT)",
    )
    def patch(self, request: Request, user_id: int) -> Response:
        return self.put(request, user_id)

    @extend_schema(
        request=None,
        responses={204: None, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Deactivate a user (accounts are never deleted: their work stays attributed)",
    )
    def delete(self, request: Request, user_id: int) -> Response:
        services.user_deactivate(
            user=selectors.user_get_for_admin(pk=user_id), by=request_user(request), request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["admin"])
class SystemSettingsView(SiteAdminView):
    @extend_schema(responses={200: SystemSettingsSerializer, 401: ERROR, 403: ERROR}, summary="System settings")
    def get(self, request: Request) -> Response:
        return Response(SystemSettingsSerializer(services.system_settings()).data)

    @extend_schema(
        request=SystemSettingsInputSerializer,
        responses={200: SystemSettingsSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
        summary="Change system settings (fields left out stay as they are)",
    )
    def put(self, request: Request) -> Response:
        data = validated(SystemSettingsInputSerializer, request.data)
        return Response(
            SystemSettingsSerializer(
                services.system_settings_update(by=request_user(request), request=request, **data)
            ).data
        )

    @extend_schema(
        request=SystemSettingsInputSerializer,
        responses={200: SystemSettingsSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
        summary="Change system settings (same as PUT)",
    )
    def patch(self, request: Request) -> Response:
        return self.put(request)


@extend_schema(tags=["admin"])
class AuditLogAdminView(AuditLogView):
    permission_classes = SiteAdminView.permission_classes
    api_scope = "admin"
    query_serializer = AdminAuditLogQuerySerializer

    @audit_log_schema(
        operation_id="admin_audit_log",
        parameters=[AdminAuditLogQuerySerializer],
        summary="The audit log (site admins)",
        statuses=(400, 401, 403),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def entries(self, query: dict[str, Any]) -> QuerySet[AuditEntry]:
        return self.filtered(query, project_id=query["project"])


# --------------------------------------------------------------------------- PUNT /api/auth/*


PUNT_TWO_FACTOR_REFUSAL = (
    "This account uses two-factor authentication, which this sign-in cannot ask for. Sign in on the "
    "web sign-in page, or get tokens from POST /api/v1/auth/login and /api/v1/auth/login/2fa."
)


def _session_body(request: Request, user: User | AnonymousUser | None) -> dict[str, Any]:
    if user is None or not user.is_authenticated:
        return {"user": None, "expires": None}
    return {"user": MeSerializer(user).data, "expires": request.session.get_expiry_date()}


@extend_schema(tags=["punt auth"])
class PuntCredentialsView(PublicView):
    """Seed 000's sign-in: JSON or form username/password in, session cookie out.

    No CSRF token (scripts call it before they have one), but a browser request from another
    site is refused by its Origin, so no page can sign a visitor in to the attacker's
    account (login CSRF). With the resulting cookie, JSON writes from this site need nothing
    else (punt.api.authentication.cookie_write_needs_no_token); form writes need the returned
    csrfToken as X-CSRFToken.
    """

    parser_classes = (JSONParser, FormParser, MultiPartParser)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Session realm="punt"'

    @extend_schema(
        request=LoginInputSerializer,
        responses={200: PuntLoginSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 429: ERROR},
        auth=[],
        summary="Sign in with a session cookie (PUNT)",
        description=(
            "A browser request from another site (its Origin or Sec-Fetch-Site says so) is refused with 403. "
            "So is an account whose address is not confirmed while the site's e-mail verification is "
            "mandatory (a confirmation link is mailed again).\n\n"
            + LOGIN_LIMITS
            + "\n\nAn account with two-factor authentication cannot sign in here (403, code "
            "`two_factor_required`): use the web sign-in, or POST /api/v1/auth/login and /api/v1/auth/login/2fa. "
            "Nor can an account the site requires two-factor of while it has none (403, code "
            "`two_factor_setup_required`)."
        ),
    )
    def post(self, request: Request) -> Response:
        require_same_origin(request._request)
        result = _login_user(request)
        user = result.user
        assert user is not None  # _login_user refused the attempt otherwise
        if two_factor.password_login_check(user=user):
            # This endpoint has no second step: a password alone must not open a session.
            raise errors.Forbidden(PUNT_TWO_FACTOR_REFUSAL, code="two_factor_required")
        if services.email_unverified_blocks(user=user):
            # A session is the web app's sign-in: mandatory verification applies (JWTs: not).
            email_verification_send(request._request, user, signup=False)
            raise errors.Forbidden(EMAIL_UNVERIFIED, code="email_unverified")
        login(request._request, user)  # rotates the session key and the CSRF token
        response = Response({"user": MeSerializer(user).data, "csrfToken": get_token(request._request)})
        device_cookie_set(response, result)
        return response


@extend_schema(tags=["punt auth"])
class PuntRegisterView(PublicView):
    """Seed 000's registration: /api/v1/auth/register's rules and limits (register_checked),
    answered like PUNT's sign-in: the session cookie and {"user", "csrfToken"}.

    Cross-site browser requests are refused as at sign-in: a page on another site must not
    sign its visitor in to an account of the attacker's making.
    """

    parser_classes = (JSONParser, FormParser, MultiPartParser)

    @extend_schema(
        request=PuntRegisterInputSerializer,
        responses={201: PuntLoginSerializer, 400: ERROR, 403: ERROR, 429: ERROR},
        auth=[],
        summary="Create an account (when registration is open) and sign in with a session cookie (PUNT)",
        description=(
            "The same rules as POST /api/v1/auth/register: the site's registration switch (403 when closed), "
            "5 registrations per hour per address (shared with it, X-RateLimit-* headers, 429 with Retry-After), "
            "user names shared with organizations, the password rules, the sign-up domains, password sign-up "
            "(403 when off). A browser request from another site (its Origin or Sec-Fetch-Site says so) is "
            "refused with 403. When the site's e-mail verification is mandatory, the account is created and a "
            "confirmation link mailed, but no session starts until the address is confirmed."
        ),
    )
    def post(self, request: Request) -> Response:
        require_same_origin(request._request)
        user = register_checked(request, PuntRegisterInputSerializer)
        if not services.email_unverified_blocks(user=user):
            login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        body = {"user": MeSerializer(user).data, "csrfToken": get_token(request._request)}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["punt auth"])
class PuntSessionView(APIView):
    authentication_classes = (CsrfSessionAuthentication,)
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: PuntSessionSerializer}, summary="The current session (user null when signed out)")
    def get(self, request: Request) -> Response:
        return Response(_session_body(request, request.user))


@extend_schema(tags=["punt auth"])
class PuntCsrfView(APIView):
    authentication_classes = (CsrfSessionAuthentication,)
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: PuntCsrfSerializer}, summary="A CSRF token (also set as the csrftoken cookie)")
    def get(self, request: Request) -> Response:
        return Response({"csrfToken": get_token(request._request)})


@extend_schema(tags=["punt auth"])
class PuntSignoutView(APIView):
    # Session authentication means CSRF is enforced for a signed-in caller: no forced logouts.
    authentication_classes = (CsrfSessionAuthentication,)
    permission_classes = (AllowAny,)

    @extend_schema(request=None, responses={204: None, 403: ERROR}, summary="Sign out (ends the session)")
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
