"""What `OPTIONS` answers on the API: the view's name, description and media types.

DRF's SimpleMetadata also describes the PUT/POST bodies ("actions"): it calls the view's
`get_object()` to check object permissions and `get_serializer()` to list the fields. PUNT's
views load objects through selectors and choose serializers per method, so those calls fail
(a 500 on every detail view). The OpenAPI schema at /api/schema/ describes every body.
"""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class Metadata(SimpleMetadata):
    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        return {}
