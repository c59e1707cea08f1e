"""Plain collections are served by one ViewSet each, on the same paths, methods, URL names and
OpenAPI operations as the one-view-per-verb classes they replaced (issue 15, item 9)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.urls import resolve, reverse
from rest_framework.viewsets import ViewSetMixin

P = {"slug": "blog"}
SPRINT = {"slug": "blog", "sprint_id": 3}
HOOK = {"slug": "blog", "hook_id": 4}
DELIVERY = {"slug": "blog", "hook_id": 4, "delivery_id": 5}

# resource -> [(URL name, kwargs, path in the OpenAPI schema)]
RESOURCES: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "organization members": [
        ("org-member-list", {"org_slug": "acme"}, "/api/v1/orgs/{org_slug}/members"),
        ("org-member-detail", {"org_slug": "acme", "username": "ada"}, "/api/v1/orgs/{org_slug}/members/{username}"),
    ],
    "members": [
        ("member-list", P, "/api/v1/projects/{slug}/members"),
        ("member-leave", P, "/api/v1/projects/{slug}/members/leave"),
        ("member-detail", {**P, "username": "ada"}, "/api/v1/projects/{slug}/members/{username}"),
    ],
    "columns": [
        ("column-list", P, "/api/v1/projects/{slug}/columns"),
        ("column-reorder", P, "/api/v1/projects/{slug}/columns/reorder"),
        ("column-detail", {**P, "column_id": 2}, "/api/v1/projects/{slug}/columns/{column_id}"),
    ],
    "labels": [
        ("label-list", P, "/api/v1/projects/{slug}/labels"),
        ("label-detail", {**P, "label_id": 2}, "/api/v1/projects/{slug}/labels/{label_id}"),
    ],
    "sprints": [
        ("sprint-list", P, "/api/v1/projects/{slug}/sprints"),
        ("sprint-detail", SPRINT, "/api/v1/projects/{slug}/sprints/{sprint_id}"),
        ("sprint-start", SPRINT, "/api/v1/projects/{slug}/sprints/{sprint_id}/start"),
        ("sprint-complete", SPRINT, "/api/v1/projects/{slug}/sprints/{sprint_id}/complete"),
        ("sprint-tickets", SPRINT, "/api/v1/projects/{slug}/sprints/{sprint_id}/tickets"),
        ("sprint-burndown", SPRINT, "/api/v1/projects/{slug}/sprints/{sprint_id}/burndown"),
    ],
    "api keys": [
        ("users-me-api-keys", {}, "/api/v1/users/me/api-keys"),
        ("users-me-api-key", {"key_id": 7}, "/api/v1/users/me/api-keys/{key_id}"),
    ],
    "git hooks": [
        ("git-hook-list", P, "/api/v1/projects/{slug}/git-hooks"),
        ("git-hook-detail", HOOK, "/api/v1/projects/{slug}/git-hooks/{hook_id}"),
    ],
    "chat webhooks": [
        ("chat-webhook-list", P, "/api/v1/projects/{slug}/chat-webhooks"),
        ("chat-webhook-detail", {**P, "webhook_id": 6}, "/api/v1/projects/{slug}/chat-webhooks/{webhook_id}"),
    ],
    "outgoing hooks": [
        ("hook-list", P, "/api/v1/projects/{slug}/hooks"),
        ("hook-detail", HOOK, "/api/v1/projects/{slug}/hooks/{hook_id}"),
    ],
    "hook deliveries": [
        ("hook-delivery-list", HOOK, "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries"),
        ("hook-delivery-detail", DELIVERY, "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries/{delivery_id}"),
        (
            "hook-delivery-redeliver",
            DELIVERY,
            "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries/{delivery_id}/redeliver",
        ),
    ],
    "time entries": [
        ("time-entries", {}, "/api/v1/time-entries"),
        ("time-entry-detail", {"entry_id": 8}, "/api/v1/time-entries/{entry_id}"),
    ],
}

# The operations as they were before the ViewSets (pinned: clients generate code from these ids).
OPERATION_IDS: dict[str, dict[str, str]] = {
    "/api/v1/orgs/{org_slug}/members": {"get": "api_v1_orgs_members_list", "post": "api_v1_orgs_members_create"},
    "/api/v1/orgs/{org_slug}/members/{username}": {
        "put": "api_v1_orgs_members_update",
        "patch": "api_v1_orgs_members_partial_update",
        "delete": "api_v1_orgs_members_destroy",
    },
    "/api/v1/projects/{slug}/members": {
        "get": "api_v1_projects_members_list",
        "post": "api_v1_projects_members_create",
    },
    "/api/v1/projects/{slug}/members/leave": {"post": "api_v1_projects_members_leave_create"},
    "/api/v1/projects/{slug}/members/{username}": {
        "put": "api_v1_projects_members_update",
        "patch": "api_v1_projects_members_partial_update",
        "delete": "api_v1_projects_members_destroy",
    },
    "/api/v1/projects/{slug}/columns": {
        "get": "api_v1_projects_columns_list",
        "post": "api_v1_projects_columns_create",
    },
    "/api/v1/projects/{slug}/columns/reorder": {
        "put": "api_v1_projects_columns_reorder_update",
        "patch": "api_v1_projects_columns_reorder_partial_update",
    },
    "/api/v1/projects/{slug}/columns/{column_id}": {
        "get": "api_v1_projects_columns_retrieve",
        "put": "api_v1_projects_columns_update",
        "patch": "api_v1_projects_columns_partial_update",
        "delete": "api_v1_projects_columns_destroy",
    },
    "/api/v1/projects/{slug}/labels": {"get": "api_v1_projects_labels_list", "post": "api_v1_projects_labels_create"},
    "/api/v1/projects/{slug}/labels/{label_id}": {
        "get": "api_v1_projects_labels_retrieve",
        "put": "api_v1_projects_labels_update",
        "patch": "api_v1_projects_labels_partial_update",
        "delete": "api_v1_projects_labels_destroy",
    },
    "/api/v1/projects/{slug}/sprints": {
        "get": "api_v1_projects_sprints_list",
        "post": "api_v1_projects_sprints_create",
    },
    "/api/v1/projects/{slug}/sprints/{sprint_id}": {
        "get": "api_v1_projects_sprints_retrieve",
        "put": "api_v1_projects_sprints_update",
        "patch": "api_v1_projects_sprints_partial_update",
        "delete": "api_v1_projects_sprints_destroy",
    },
    "/api/v1/projects/{slug}/sprints/{sprint_id}/start": {"post": "api_v1_projects_sprints_start_create"},
    "/api/v1/projects/{slug}/sprints/{sprint_id}/complete": {"post": "api_v1_projects_sprints_complete_create"},
    "/api/v1/projects/{slug}/sprints/{sprint_id}/tickets": {"get": "api_v1_projects_sprints_tickets_list"},
    "/api/v1/projects/{slug}/sprints/{sprint_id}/burndown": {"get": "api_v1_projects_sprints_burndown_retrieve"},
    "/api/v1/users/me/api-keys": {"get": "api_v1_users_me_api_keys_list", "post": "api_v1_users_me_api_keys_create"},
    "/api/v1/users/me/api-keys/{key_id}": {"delete": "api_v1_users_me_api_keys_destroy"},
    "/api/v1/projects/{slug}/git-hooks": {
        "get": "api_v1_projects_git_hooks_list",
        "post": "api_v1_projects_git_hooks_create",
    },
    "/api/v1/projects/{slug}/git-hooks/{hook_id}": {
        "get": "api_v1_projects_git_hooks_retrieve",
        "delete": "api_v1_projects_git_hooks_destroy",
    },
    "/api/v1/projects/{slug}/chat-webhooks": {
        "get": "api_v1_projects_chat_webhooks_list",
        "post": "api_v1_projects_chat_webhooks_create",
    },
    "/api/v1/projects/{slug}/chat-webhooks/{webhook_id}": {"delete": "api_v1_projects_chat_webhooks_destroy"},
    "/api/v1/projects/{slug}/hooks": {"get": "api_v1_projects_hooks_list", "post": "api_v1_projects_hooks_create"},
    "/api/v1/projects/{slug}/hooks/{hook_id}": {
        "get": "api_v1_projects_hooks_retrieve",
        "patch": "api_v1_projects_hooks_partial_update",
        "delete": "api_v1_projects_hooks_destroy",
    },
    "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries": {"get": "api_v1_projects_hooks_deliveries_list"},
    "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries/{delivery_id}": {
        "get": "api_v1_projects_hooks_deliveries_retrieve"
    },
    "/api/v1/projects/{slug}/hooks/{hook_id}/deliveries/{delivery_id}/redeliver": {
        "post": "api_v1_projects_hooks_deliveries_redeliver_create"
    },
    "/api/v1/time-entries": {"get": "time_entries_list", "post": "api_v1_time_entries_create"},
    "/api/v1/time-entries/{entry_id}": {
        "get": "api_v1_time_entries_retrieve",
        "put": "api_v1_time_entries_update",
        "patch": "api_v1_time_entries_partial_update",
        "delete": "api_v1_time_entries_destroy",
    },
}

ROUTES = [(resource, *route) for resource, routes in RESOURCES.items() for route in routes]


def test_every_pinned_operation_has_a_route():
    assert sorted(schema_path for *_, schema_path in ROUTES) == sorted(OPERATION_IDS)


@pytest.mark.parametrize("resource", RESOURCES)
def test_each_resource_is_served_by_one_viewset(resource):
    classes = {resolve(reverse(name, kwargs=kwargs)).func.cls for name, kwargs, _ in RESOURCES[resource]}
    assert len(classes) == 1, classes
    (viewset,) = classes
    assert issubclass(viewset, ViewSetMixin)


@pytest.mark.parametrize(("resource", "name", "kwargs", "schema_path"), ROUTES)
def test_routes_keep_their_paths_and_methods(resource, name, kwargs, schema_path):
    url = reverse(name, kwargs=kwargs)
    # The URL the name builds is the schema's path with the values filled in.
    assert url == schema_path.format(**kwargs)
    match = resolve(url)
    assert match.url_name == name
    assert {str(key): str(value) for key, value in match.kwargs.items()} == {
        key: str(value) for key, value in kwargs.items()
    }
    # Exactly the methods there were, HEAD aside (GET brings it, as it did before).
    methods = set(match.func.actions) - {"head"}
    assert methods == set(OPERATION_IDS[schema_path])


def test_leave_is_an_action_not_a_member_name():
    match = resolve(reverse("member-leave", kwargs=P))
    assert match.func.actions == {"post": "leave"}


def test_schema_operation_ids_are_unchanged(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    served = {
        path: {method: operation["operationId"] for method, operation in paths[path].items() if method != "parameters"}
        for path in OPERATION_IDS
        if path in paths
    }
    assert served == OPERATION_IDS
