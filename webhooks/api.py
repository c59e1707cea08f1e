"""Thin /api/v1/ views of the integrations.

- Management (project admins and above): git-hooks, chat-webhooks, hooks and their deliveries.
- Receivers (no user: the token in the URL finds the hook, the signature proves the sender
  when the hook has a secret):
  /github-webhook/<token>, /gitlab-webhook/<token>, /gitea-webhook/<token>, /webhooks/<token>.
- The CI Ticket API of seed 004: POST /projects/<slug>/ticket, PATCH /projects/<slug>/ticket/<KEY>.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from projects.models import Project
from projects.permissions import MANAGE, WRITE
from projects.selectors import project_for
from punt import json_input
from punt.api.ratelimit import check_rate
from punt.api.request import tab_id, validated
from punt.ops import metrics
from punt.ranges import as_id
from tickets import selectors as ticket_selectors
from tickets.serializers import CardDetailSerializer, card_detail
from webhooks import gitparse, selectors, services
from webhooks import serializers as s
from webhooks.models import Delivery, GitDelivery, GitHook

SLUG = OpenApiParameter(
    "slug",
    str,
    OpenApiParameter.PATH,
    description="Project URL slug (chosen at creation; by default the lowercased key).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retries with the same key get the first answer instead of doing the work again (24 h).",
)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class SignatureInvalid(APIException):
    # Not AuthenticationFailed: DRF would turn that into a 403 for a view without authenticators.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Missing or invalid webhook signature."
    default_code = "bad_signature"


def _raw_body(request: Request, limit: int) -> bytes:
    """The body exactly as sent (signatures cover these bytes), refused past `limit` bytes."""
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    # Read the stream ourselves: HttpRequest.body would refuse anything over Django's
    # DATA_UPLOAD_MAX_MEMORY_SIZE with a 400 before our own limit applies.
    body = django_request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def _json_object(body: bytes, content_type: str) -> dict[str, Any]:
    payload = _json_value(body, content_type)
    if not isinstance(payload, dict):
        raise ParseError("The body must be a JSON object.")
    return payload


def _json_value(body: bytes, content_type: str) -> Any:
    """The parsed JSON of `body` (any JSON value); a 400 when it is not JSON."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            # GitHub's "application/x-www-form-urlencoded" content type: payload=<json>.
            text = parse_qs(body.decode("utf-8"), max_num_fields=10).get("payload", [""])[0]
        else:
            text = body.decode("utf-8")
        # PostgreSQL stores no NUL character, which JSON may carry as "\u0000".
        payload = gitparse.without_nul(json_input.loads(text))
    except json_input.TooDeep as exc:
        raise ParseError(str(exc)) from None
    except (UnicodeDecodeError, ValueError):
        raise ParseError("The body is not valid JSON.") from None
    return payload


class ManageView(GenericAPIView):
    """A project-settings view: admins and owners only (outsiders 404, others 403)."""

    api_scope = "projects"

    def project(self) -> Project:
        return project_for(self.request.user, slug=self.kwargs["slug"], min_role=MANAGE)


# --------------------------------------------------------------------------- git host hooks (management)


# No docstring: drf-spectacular would make it every operation's description.
class GitHookViewSet(ManageView, GenericViewSet):
    serializer_class = s.GitHookSerializer
    lookup_url_kwarg = "hook_id"
    lookup_value_converter = "int"

    @extend_schema(parameters=[SLUG], responses=s.GitHookSerializer(many=True), summary="Git host webhooks")
    def list(self, request: Request, slug: str) -> Response:
        hooks = selectors.git_hooks_for(project=self.project())
        return Response(s.GitHookSerializer(hooks, many=True).data)

    @extend_schema(
        parameters=[SLUG],
        request=s.GitHookInput,
        responses={201: s.GitHookCreatedSerializer},
        summary="Create a git host webhook (its secret, if any, is in this answer)",
    )
    def create(self, request: Request, slug: str) -> Response:
        project = self.project()
        data = validated(s.GitHookInput, request.data)
        hook = services.git_hook_create(project=project, by=request.user, **data, request=request)
        return Response(s.GitHookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[SLUG], responses=s.GitHookSerializer, summary="One git host webhook")
    def retrieve(self, request: Request, slug: str, hook_id: int) -> Response:
        hook = selectors.git_hook_get(project=self.project(), hook_id=hook_id)
        return Response(s.GitHookSerializer(hook).data)

    @extend_schema(parameters=[SLUG], responses={204: None}, summary="Revoke a git host webhook")
    def destroy(self, request: Request, slug: str, hook_id: int) -> Response:
        hook = selectors.git_hook_get(project=self.project(), hook_id=hook_id)
        services.git_hook_revoke(hook=hook, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- git host receivers


class GitReceiverView(GenericAPIView):
    """POST from a git host. The token finds the hook; the signature must match its secret, if it has one."""

    provider = ""
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Limited per hook below: a git host posts from a few shared addresses.
    skip_general_rate_limit = True
    serializer_class = s.GitReceiveSerializer

    def post(self, request: Request, token: str) -> Response:
        hook = selectors.git_hook_by_token(provider=self.provider, token=token)
        check_rate(
            request, group="git-webhook", rate=f"{settings.PUNT_GIT_WEBHOOK_RATE_PER_MINUTE}/m", key=f"hook:{hook.pk}"
        )
        body = _raw_body(request, settings.PUNT_WEBHOOKS_MAX_BODY_BYTES)
        # A hook created without a secret is admitted by its token alone (seed 004's setup).
        if hook.signed and not gitparse.signature_valid(
            self.provider, secret=hook.secret, body=body, headers=request.headers
        ):
            metrics.record_webhook_delivery(self.provider, "bad_signature")
            raise SignatureInvalid()
        try:
            payload = _json_object(body, request.content_type or "")
            event = gitparse.event_name(self.provider, request.headers, payload)
            delivery_id = gitparse.delivery_id(self.provider, request.headers, body)
            delivery, created = services.git_delivery_receive(
                hook=hook, delivery_id=delivery_id, event=event, payload=payload
            )
        except ParseError:
            metrics.record_webhook_delivery(self.provider, "malformed")
            raise
        except gitparse.MalformedPayload as exc:
            metrics.record_webhook_delivery(self.provider, "malformed")
            # Nothing was recorded (parsing comes before any write), so a fixed resend is processed.
            raise ParseError(str(exc)) from None
        # processed / ping / ignored, or duplicate for a redelivery that changed nothing.
        metrics.record_webhook_delivery(self.provider, delivery.outcome if created else "duplicate")
        answer = {"ok": True, "duplicate": not created, "delivery": s.GitDeliverySerializer(delivery).data}
        code = status.HTTP_202_ACCEPTED if delivery.outcome == GitDelivery.Outcome.IGNORED else status.HTTP_200_OK
        return Response(answer, status=code)


def _receiver_schema(provider: str, signature: str, delivery: str) -> Any:
    return extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                signature,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Required when the hook has a secret; a hook without one takes unsigned deliveries.",
            ),
            OpenApiParameter(delivery, str, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            200: s.GitReceiveSerializer,
            202: OpenApiResponse(s.GitReceiveSerializer, description="Event type not handled (logged)."),
            401: OpenApiResponse(description="The hook has a secret and the signature is missing or wrong."),
            404: OpenApiResponse(description="Unknown or revoked webhook."),
            413: OpenApiResponse(description="Body too large."),
        },
        auth=[],
        summary=f"Receive a {provider} webhook (push, pull/merge request, issue, tag, ping)",
    )


class GitHubReceiverView(GitReceiverView):
    provider = GitHook.Provider.GITHUB

    @_receiver_schema("GitHub", "X-Hub-Signature-256", "X-GitHub-Delivery")
    def post(self, request: Request, token: str) -> Response:
        return super().post(request, token)


class GitLabReceiverView(GitReceiverView):
    provider = GitHook.Provider.GITLAB

    @_receiver_schema("GitLab", "X-Gitlab-Token", "X-Gitlab-Event-UUID")
    def post(self, request: Request, token: str) -> Response:
        return super().post(request, token)


class GiteaReceiverView(GitReceiverView):
    provider = GitHook.Provider.GITEA

    @_receiver_schema("Gitea / Forgejo", "X-Gitea-Signature", "X-Gitea-Delivery")
    def post(self, request: Request, token: str) -> Response:
        return super().post(request, token)


# --------------------------------------------------------------------------- chat webhooks


# No docstring: drf-spectacular would make it every operation's description.
class ChatWebhookViewSet(ManageView, GenericViewSet):
    serializer_class = s.ChatWebhookSerializer
    lookup_url_kwarg = "webhook_id"
    lookup_value_converter = "int"

    @extend_schema(parameters=[SLUG], responses=s.ChatWebhookSerializer(many=True), summary="Incoming chat webhooks")
    def list(self, request: Request, slug: str) -> Response:
        webhooks = selectors.chat_webhooks_for(project=self.project())
        return Response(s.ChatWebhookSerializer(webhooks, many=True).data)

    @extend_schema(
        parameters=[SLUG],
        request=s.ChatWebhookInput,
        responses={201: s.ChatWebhookCreatedSerializer},
        summary="Create an incoming chat webhook (its token is shown once)",
    )
    def create(self, request: Request, slug: str) -> Response:
        project = self.project()
        data = validated(s.ChatWebhookInput, request.data)
        webhook, token = services.chat_webhook_create(
            project=project, name=data["name"], by=request.user, request=request
        )
        url = settings.SITE_URL + reverse("chat-webhook-post", kwargs={"token": token})
        body = s.ChatWebhookCreatedSerializer(webhook, context={"token": token, "url": url}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[SLUG], responses={204: None}, summary="Revoke an incoming chat webhook")
    def destroy(self, request: Request, slug: str, webhook_id: int) -> Response:
        webhook = selectors.chat_webhook_get(project=self.project(), webhook_id=webhook_id)
        services.chat_webhook_revoke(webhook=webhook, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatWebhookPostView(GenericAPIView):
    """seed 004's generic webhook: any JSON becomes a message in the project chat."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    skip_general_rate_limit = True
    serializer_class = s.ChatPostInput

    @extend_schema(
        request=s.ChatPostInput,
        responses={
            201: s.ChatPostResultSerializer,
            400: OpenApiResponse(description="The body is not JSON, or `text` is too long."),
            404: OpenApiResponse(description="Unknown or revoked token."),
            409: OpenApiResponse(description="The webhook's creator can no longer post in the project."),
            413: OpenApiResponse(description="Body too large."),
            429: OpenApiResponse(description="Too many posts with this token."),
        },
        auth=[],
        summary="Post a message to a project's chat with a webhook token",
        description=(
            'Any JSON is accepted. `{"text": "...", "username": "CI"}` posts the text; without a `text`, '
            "the message summarises the JSON: a title from its `event`, `action`, `status` and `title` "
            "fields, then the other fields as a list. The message is from the webhook (its name)."
        ),
    )
    def post(self, request: Request, token: str) -> Response:
        webhook = selectors.chat_webhook_by_token(token=token)
        check_rate(
            request,
            group="chat-webhook",
            rate=f"{settings.PUNT_CHAT_WEBHOOK_RATE_PER_MINUTE}/m",
            key=f"webhook:{webhook.pk}",
        )
        body = _raw_body(request, settings.PUNT_CHAT_WEBHOOK_MAX_BYTES)
        payload = _json_value(body, request.content_type or "")
        try:
            message = services.chat_webhook_post(webhook=webhook, payload=payload)
        except services.WebhookOrphaned:
            metrics.record_webhook_delivery("chat", "orphaned")
            raise
        metrics.record_webhook_delivery("chat", "posted")
        return Response({"ok": True, "message_id": message.pk}, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- outgoing hooks


# No docstring: drf-spectacular would make it every operation's description.
class HookViewSet(ManageView, GenericViewSet):
    serializer_class = s.HookSerializer
    lookup_url_kwarg = "hook_id"
    lookup_value_converter = "int"

    def hook(self) -> Any:
        return selectors.hook_get(project=self.project(), hook_id=self.kwargs["hook_id"])

    @extend_schema(parameters=[SLUG], responses=s.HookSerializer(many=True), summary="Outgoing webhooks")
    def list(self, request: Request, slug: str) -> Response:
        return Response(s.HookSerializer(selectors.hooks_for(project=self.project()), many=True).data)

    @extend_schema(
        parameters=[SLUG],
        request=s.HookInput,
        responses={201: s.HookWithSecretSerializer},
        summary="Subscribe a URL to events (the signing secret is in this answer)",
    )
    def create(self, request: Request, slug: str) -> Response:
        project = self.project()
        data = validated(s.HookInput, request.data)
        hook = services.hook_create(project=project, by=request.user, **data, request=request)
        return Response(s.HookWithSecretSerializer(hook).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[SLUG], responses=s.HookSerializer, summary="One outgoing webhook")
    def retrieve(self, request: Request, slug: str, hook_id: int) -> Response:
        return Response(s.HookSerializer(self.hook()).data)

    @extend_schema(
        parameters=[SLUG],
        request=s.HookUpdateInput,
        responses=s.HookWithSecretSerializer,
        summary="Change an outgoing webhook (`secret` is returned only when rotated)",
    )
    def partial_update(self, request: Request, slug: str, hook_id: int) -> Response:
        hook = self.hook()
        data = validated(s.HookUpdateInput, request.data)
        hook = services.hook_update(hook=hook, by=request.user, **data, request=request)
        serializer = s.HookWithSecretSerializer if data.get("rotate_secret") else s.HookSerializer
        return Response(serializer(hook).data)

    @extend_schema(parameters=[SLUG], responses={204: None}, summary="Delete an outgoing webhook and its log")
    def destroy(self, request: Request, slug: str, hook_id: int) -> Response:
        services.hook_delete(hook=self.hook(), by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


DELIVERY_LIST_MAX = 100


# An outgoing hook's delivery log, under hooks/<hook_id>/deliveries.
# No docstring: drf-spectacular would make it every operation's description.
class DeliveryViewSet(ManageView, GenericViewSet):
    serializer_class = s.DeliverySerializer
    lookup_url_kwarg = "delivery_id"
    lookup_value_converter = "int"

    @extend_schema(
        parameters=[
            SLUG,
            OpenApiParameter(
                "status", str, required=False, description=f"One of: {', '.join(Delivery.Status.values)}."
            ),
            OpenApiParameter("before", int, required=False, description="Only deliveries with a smaller id (paging)."),
        ],
        responses=s.DeliverySerializer(many=True),
        summary=f"The delivery log of an outgoing webhook (newest first, {DELIVERY_LIST_MAX} at a time)",
    )
    def list(self, request: Request, slug: str, hook_id: int) -> Response:
        hook = selectors.hook_get(project=self.project(), hook_id=hook_id)
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in Delivery.Status.values:
            raise ParseError(f"status must be one of {', '.join(Delivery.Status.values)}.")
        deliveries = selectors.deliveries_for(hook=hook, status=wanted)
        before = request.query_params.get("before", "")
        if before:
            before_id = as_id(before)
            if before_id is None:
                raise ParseError("before must be a delivery id.")
            deliveries = deliveries.filter(pk__lt=before_id)
        return Response(s.DeliverySerializer(deliveries[:DELIVERY_LIST_MAX], many=True).data)

    @extend_schema(parameters=[SLUG], responses=s.DeliveryDetailSerializer, summary="One delivery, with what was sent")
    def retrieve(self, request: Request, slug: str, hook_id: int, delivery_id: int) -> Response:
        hook = selectors.hook_get(project=self.project(), hook_id=hook_id)
        delivery = selectors.delivery_get(hook=hook, delivery_id=delivery_id)
        return Response(s.DeliveryDetailSerializer(delivery).data)

    @extend_schema(
        parameters=[SLUG],
        request=None,
        responses={202: s.DeliverySerializer},
        summary="Send a delivery again (a new log entry with the same X-Punt-Delivery id)",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, slug: str, hook_id: int, delivery_id: int) -> Response:
        hook = selectors.hook_get(project=self.project(), hook_id=hook_id)
        delivery = selectors.delivery_get(hook=hook, delivery_id=delivery_id)
        copy = services.delivery_redeliver(delivery=delivery, by=request.user)
        copy.refresh_from_db()
        return Response(s.DeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)


# --------------------------------------------------------------------------- CI Ticket API


class TicketApiView(GenericAPIView):
    """seed 004's Ticket API for CI jobs (API key scope tickets:write)."""

    api_scope = "tickets"
    serializer_class = CardDetailSerializer

    def respond(self, request: Request, perform: Any) -> Response:
        """Run `perform` under the request's Idempotency-Key, if any."""
        fingerprint = services.request_fingerprint(json.dumps(request.data, sort_keys=True, cls=_LooseEncoder).encode())
        code, body, replayed = services.idempotent(
            user=request.user,
            key=request.headers.get("Idempotency-Key"),
            method=request.method or "",
            path=request.path,
            fingerprint=fingerprint,
            perform=perform,
        )
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def card(self, project: Project, ticket_id: int) -> dict[str, Any]:
        ticket = ticket_selectors.ticket_detail(project=project, card_id=ticket_id)
        return card_detail(ticket, user_id=getattr(self.request.user, "pk", None))


class _LooseEncoder(json.JSONEncoder):
    # Parsed form bodies can hold QueryDict lists; fingerprints only need a stable text.
    def default(self, o: Any) -> Any:
        return str(o)


class TicketApiCreateView(TicketApiView):
    @extend_schema(
        parameters=[SLUG, IDEMPOTENCY_KEY],
        request=s.TicketApiCreateInput,
        responses={
            201: CardDetailSerializer,
            400: OpenApiResponse(description="Invalid input, unknown column, user or label (named)."),
            422: OpenApiResponse(description="Idempotency-Key reused with a different request."),
        },
        summary="Create a card (CI Ticket API)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        data = validated(s.TicketApiCreateInput, request.data)

        def perform() -> tuple[int, Any]:
            ticket = services.ticket_api_create(project=project, by=request.user, tab_id=tab_id(request), **data)
            return status.HTTP_201_CREATED, self.card(project, ticket.pk)

        return self.respond(request, perform)


class TicketApiUpdateView(TicketApiView):
    @extend_schema(
        parameters=[
            SLUG,
            OpenApiParameter("key", str, OpenApiParameter.PATH, description="The card's key, e.g. BLOG-42."),
            IDEMPOTENCY_KEY,
        ],
        request=s.TicketApiUpdateInput,
        responses={
            200: CardDetailSerializer,
            400: OpenApiResponse(description="Invalid input, unknown column, user or label (named)."),
            422: OpenApiResponse(description="Idempotency-Key reused with a different request."),
        },
        summary="Update, move (column_name) and comment on a card (CI Ticket API)",
    )
    def patch(self, request: Request, slug: str, key: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        data = validated(s.TicketApiUpdateInput, request.data)

        def perform() -> tuple[int, Any]:
            ticket = ticket_selectors.ticket_get(project=project, card_id=key)
            ticket = services.ticket_api_update(ticket=ticket, by=request.user, tab_id=tab_id(request), **data)
            return status.HTTP_200_OK, self.card(project, ticket.pk)

        return self.respond(request, perform)
