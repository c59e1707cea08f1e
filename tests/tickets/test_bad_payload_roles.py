"""Rights come before the payload: outsiders get 404 and viewers 403 even for a bad body."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import url

BAD_BODY = {"unexpected": ["nonsense"]}
EXPECTED = {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 400, "admin": 400, "owner": 400}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/cards/{key}/move"),
        ("post", "/cards/{key}/comments"),
        ("put", "/comments/{comment}"),
        ("post", "/cards/{key}/checklist"),
        ("patch", "/cards/{key}/checklist/reorder"),
        ("post", "/cards/{key}/links"),
    ],
)
def test_a_bad_payload_is_judged_after_the_role(personas, make_card, method, path):
    card = make_card()
    comment = personas.client("owner").post(url(f"/cards/{card.key}/comments"), {"body": "Mine"}, format="json")
    target = url(path.format(key=card.key, comment=comment.json()["id"]))

    # Members get to the payload check; authorship of a comment is the service's next check.
    assert personas.matrix(method, target, BAD_BODY) == EXPECTED
