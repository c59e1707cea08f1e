from __future__ import annotations

import pytest

from tests.tickets.helpers import events_named, url
from tickets.models import Watcher

pytestmark = pytest.mark.django_db


def test_role_matrix(personas, make_card):
    card = make_card()
    assert personas.matrix("post", url(f"/cards/{card.pk}/watch")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("delete", url(f"/cards/{card.pk}/watch")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 204,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_reporter_assignee_and_commenters_watch_automatically(personas, make_card):
    card = make_card(assignee="adam")
    personas.client("owner").post(url(f"/cards/{card.pk}/comments"), {"body": "hi"}, format="json")
    watchers = set(Watcher.objects.filter(ticket=card).values_list("user__username", flat=True))
    assert watchers == {"mary", "adam", "olivia"}


def test_watch_and_unwatch(personas, make_card, published):
    card = make_card()
    victor = personas.client("viewer")
    assert victor.post(url(f"/cards/{card.pk}/watch")).json() == {"watching": True}
    assert victor.post(url(f"/cards/{card.pk}/watch")).json() == {"watching": True}
    assert victor.get(url(f"/cards/{card.pk}")).json()["watching"] is True
    personas.client("admin").patch(url(f"/cards/{card.pk}"), {"title": "changed"}, format="json")
    notified = events_named(published, "notification.ticket")
    assert sorted(notified[-1]["user_ids"]) == sorted([personas.member.pk, personas.viewer.pk])
    assert victor.delete(url(f"/cards/{card.pk}/watch")).status_code == 204
    assert victor.get(url(f"/cards/{card.pk}")).json()["watching"] is False
    published.clear()
    personas.client("admin").patch(url(f"/cards/{card.pk}"), {"title": "again"}, format="json")
    assert events_named(published, "notification.ticket")[-1]["user_ids"] == [personas.member.pk]
