"""Ticket mentions, assignments and watched changes land in GET /api/v1/notifications."""

from __future__ import annotations

from tests.tickets.helpers import url


def notifications(personas, role: str) -> list[dict]:
    response = personas.client(role).get("/api/v1/notifications")
    assert response.status_code == 200
    return response.json()["results"]


def test_mention_in_a_comment_notifies_the_member(personas, make_card):
    card = make_card("Flaky test")
    response = personas.client("owner").post(
        url(f"/cards/{card.key}/comments"), {"body": "@adam can you look? @oscar too"}, format="json"
    )
    assert response.status_code == 201

    [mention] = [n for n in notifications(personas, "admin") if n["kind"] == "mention"]
    assert mention["actor"]["username"] == "olivia"
    assert mention["url"] == f"/projects/olivia/blog/tickets/{card.number}"
    assert card.key in mention["text"]
    # An outsider mentioned by name learns nothing.
    assert notifications(personas, "outsider") == []


def test_assignment_notifies_the_assignee_but_not_the_actor(personas, make_card):
    card = make_card("Needs an owner")
    response = personas.client("member").put(url(f"/cards/{card.key}"), {"assignee": "adam"}, format="json")
    assert response.status_code == 200

    kinds = [n["kind"] for n in notifications(personas, "admin")]
    assert "assigned" in kinds
    assert [n for n in notifications(personas, "member") if n["kind"] == "assigned"] == []


def test_watchers_hear_of_changes_made_by_others(personas, make_card):
    card = make_card("Watched card")  # mary reports it, so she watches it
    response = personas.client("owner").put(url(f"/cards/{card.key}"), {"title": "Renamed"}, format="json")
    assert response.status_code == 200

    watched = [n for n in notifications(personas, "member") if n["kind"] == "watched"]
    assert len(watched) == 1
    assert watched[0]["data"]["ticket"]["key"] == card.key
    assert [n for n in notifications(personas, "owner") if n["kind"] == "watched"] == []
