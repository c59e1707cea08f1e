"""The page behind the unsubscribe link of every notification e-mail (no sign-in: the token is signed)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from notifications import emails, services
from notifications.models import NotificationPreference
from punt import errors

TEMPLATE = "notifications/unsubscribe.html"


def _labels(kinds: list[str]) -> list[str]:
    return [services.PREFERENCE_LABELS[kind] for kind in kinds if kind in services.PREFERENCE_LABELS]


# csrf_exempt: RFC 8058's one-click POST comes from the mail provider, with no cookie or form
# token. The signed token names the user and kind, so it is the credential; it can only turn
# e-mails off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: ask to confirm (mail scanners follow links; only a POST changes anything). POST: turn off."""
    if request.method == "POST":
        try:
            target, kinds = services.notification_unsubscribe(token=token)
        except errors.Invalid as exc:
            return render(request, TEMPLATE, {"error": exc.first_message()}, status=400)
        return render(request, TEMPLATE, {"done": True, "target": target, "labels": _labels(kinds)})
    try:
        user_id, kind = emails.unsubscribe_read(token)
    except errors.Invalid as exc:
        return render(request, TEMPLATE, {"error": exc.first_message()}, status=400)
    owner = User.objects.filter(pk=user_id).first()
    if owner is None:
        return render(request, TEMPLATE, {"error": "This unsubscribe link is not valid."}, status=400)
    if kind == emails.DIGEST_TOKEN_KIND:
        current = services.notification_preferences(user=owner)
        kinds = [k for k, delivery in current.items() if delivery == NotificationPreference.Delivery.DIGEST]
    else:
        kinds = [kind]
    return render(request, TEMPLATE, {"target": owner, "labels": _labels(kinds) or ["digest e-mails"]})
