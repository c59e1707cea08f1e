"""Finding ticket references and fixes in commit messages, branch names and PR titles."""

from __future__ import annotations

import pytest

from webhooks.gitparse import closing_numbers, event_name, referenced_numbers


@pytest.mark.parametrize(
    ("text", "refs", "fixes"),
    [
        ("BLOG-1: start", [1], []),
        ("Fixes BLOG-2", [2], [2]),
        ("fixed: blog-3 and closes BLOG-4, resolves BLOG-4", [3, 4], [3, 4]),
        ("Resolve BLOG-5\n\nrefs BLOG-6", [5, 6], [5]),
        ("feature/blog-7-dark-mode", [7], []),
        ("prefixes BLOG-8 (not a fix word)", [8], []),
        ("MYBLOG-9 and BLOG-10x and OTHER-11", [], []),
        ("fixes OTHER-1", [], []),
    ],
)
def test_references_and_fixes(text, refs, fixes):
    assert referenced_numbers(text, "BLOG") == refs
    assert closing_numbers(text, "BLOG") == fixes


def test_event_names():
    assert event_name("github", {"X-GitHub-Event": "push"}, {"ref": "refs/heads/main"}) == "push"
    assert event_name("github", {"X-GitHub-Event": "push"}, {"ref": "refs/tags/v1"}) == "tag_push"
    assert event_name("gitlab", {"X-Gitlab-Event": "Merge Request Hook"}, {}) == "pull_request"
    assert event_name("gitlab", {"X-Gitlab-Event": "Tag Push Hook"}, {}) == "tag_push"
    assert event_name("gitlab", {}, {"object_kind": "merge_request"}) == "pull_request"
    assert event_name("gitea", {"X-Forgejo-Event": "pull_request"}, {}) == "pull_request"
    assert event_name("gitea", {"X-Gitea-Event": "create"}, {"ref_type": "tag", "ref": "v1"}) == "tag_create"
