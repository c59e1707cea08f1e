"""Task lists and styled @mentions in every Markdown box (issue 18, item 8).

`- [ ] item` / `- [x] item` render as disabled checkboxes; `@name` of a project member renders
as <span class="mention"> in ticket bodies, comments and chat. Both are added after nh3 has
sanitized the HTML, so nothing a user writes (a <script>, an <input>, an onclick) comes through.
"""

from __future__ import annotations

import pytest

from chat.rendering import RenderContext, render_markdown
from tests.tickets.helpers import url
from tickets import markdown

UNCHECKED = '<input type="checkbox" disabled aria-label="Task">'
CHECKED = '<input type="checkbox" disabled checked aria-label="Task">'
EVIL = (
    "<script>alert('x')</script>"
    '<input type="text" name="password" onfocus="alert(1)">'
    '<span class="mention" onclick="steal()">@fake</span>'
    "[click](javascript:alert(1))"
)


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for forbidden in ("<script", "alert('x')", 'type="text"', "onfocus", "onclick", "javascript:", "password"):
        assert forbidden not in lowered, html


def test_task_lists_render_as_disabled_checkboxes():
    html = markdown.render("- [ ] write docs\n- [x] ship it\n- [X] tag\n- plain [ ] item")
    assert f'<li class="task">{UNCHECKED} write docs</li>' in html
    assert f'<li class="task">{CHECKED} ship it</li>' in html
    assert f'<li class="task">{CHECKED} tag</li>' in html
    assert "<li>plain [ ] item</li>" in html  # brackets in the middle are text


def test_loose_and_ordered_task_lists():
    html = markdown.render("1. [ ] first\n\n2. [x] second")
    assert f"<p>{UNCHECKED} first</p>" in html
    assert f"<p>{CHECKED} second</p>" in html


def test_task_list_syntax_in_code_stays_text():
    html = markdown.render("```\n- [ ] not a task\n```\n\n`- [x] nor this`")
    assert "<input" not in html
    assert "- [ ] not a task" in html


def test_nothing_a_user_writes_comes_through_with_tasks_and_mentions():
    html = markdown.render(f"- [ ] {EVIL}\n\n{EVIL}")
    assert_safe(html)
    assert html.count("<input") == 1  # ours, not theirs
    chat_html = render_markdown(f"- [x] {EVIL}", RenderContext(mentionable={"mary": "mary"}))
    assert_safe(chat_html)
    assert chat_html.count("<input") == 1


def test_mentions_are_styled_outside_code_and_links():
    html = markdown.render("Hi @mary, see `@mary` and [@mary](https://example.com) or mary@example.com")
    assert html.count('<span class="mention">@mary</span>') == 1
    assert "<code>@mary</code>" in html
    assert "mary@example.com" in html and '<span class="mention">@example' not in html


def test_only_given_names_are_styled():
    html = markdown.render("@mary and @nobody", mentionable={"mary"})
    assert '<span class="mention">@mary</span>' in html
    assert '<span class="mention">@nobody' not in html


@pytest.mark.django_db
def test_ticket_body_and_comment_style_member_mentions_only(personas, make_card):
    card = make_card(body="- [x] ask @Adam\n- [ ] ask @oscar")
    card.refresh_from_db()
    assert '<span class="mention">@Adam</span>' in card.body_html
    assert "@oscar" in card.body_html and '<span class="mention">@oscar' not in card.body_html
    assert CHECKED in card.body_html and UNCHECKED in card.body_html

    response = personas.client("member").post(
        url(f"/cards/{card.pk}/comments"), {"body": f"- [ ] @victor {EVIL}"}, format="json"
    )
    assert response.status_code == 201, response.content
    html = response.json()["body_html"]
    assert f'<li class="task">{UNCHECKED} <span class="mention">@victor</span>' in html
    assert_safe(html)


@pytest.mark.django_db
def test_chat_message_renders_task_lists(personas):
    response = personas.client("member").post(
        "/api/v1/projects/blog/chat/messages", {"body": "- [x] done @adam\n- [ ] todo"}, format="json"
    )
    assert response.status_code == 201, response.content
    html = response.json()["body_html"]
    assert f'<li class="task">{CHECKED} done <span class="mention">@adam</span></li>' in html
    assert f'<li class="task">{UNCHECKED} todo</li>' in html
