"""Who gets which notification e-mail, when, and what is in it (Django's locmem outbox)."""

from __future__ import annotations

import datetime
import io
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone

from chat import services as chat_services
from notifications import emails
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_preferences_update, notify
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db

BASE = "/api/v1/projects/blog"


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses everything."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _card(personas, title: str = "Fix login", **fields):
    return ticket_services.ticket_create(
        project=personas.project,
        by=personas.owner,
        title=title,
        column=personas.project.columns.order_by("order").first(),
        **fields,
    )


def _comment(personas, card, body: str, role: str = "member"):
    response = personas.client(role).post(f"{BASE}/cards/{card.pk}/comments", {"body": body}, format="json")
    assert response.status_code == 201, response.content
    return response


def _to(message) -> str:
    return message.to[0]


def _html(message) -> str:
    (content, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    return content


def test_a_mention_mails_the_mentioned_now_and_the_watcher_waits_for_the_digest(personas, mail_tasks):
    card = _card(personas)  # olivia, the reporter, watches it
    mail_tasks(lambda: _comment(personas, card, "@adam can you **check** [the log](/projects/olivia/blog)?"))

    assert [_to(m) for m in mail.outbox] == ["adam@example.com"]
    message = mail.outbox[0]
    assert (
        message.subject
        == "[BLOG-1] mary mentioned you in BLOG-1: @adam can you **check** [the log](/projects/olivia/blog)?"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://punt.example.com/notifications/unsubscribe/") and unsubscribe.endswith(">")
    # Plain text: key, title, the Markdown as written, the absolute link.
    assert "BLOG-1 Fix login" in message.body
    assert "@adam can you **check**" in message.body
    assert "https://punt.example.com/projects/olivia/blog/tickets/1" in message.body
    # HTML: the snippet rendered and sanitised, its relative link made absolute.
    html = _html(message)
    assert "<strong>check</strong>" in html
    assert 'href="https://punt.example.com/projects/olivia/blog"' in html
    assert 'href="https://punt.example.com/projects/olivia/blog/tickets/1"' in html

    watched = Notification.objects.get(recipient=personas.owner, kind="watched")
    assert watched.email == Notification.Email.DIGEST
    assert Notification.objects.get(recipient=personas.admin).email == Notification.Email.SENT
    assert not Notification.objects.filter(recipient=personas.member).exists()  # her own comment


def test_snippet_is_sanitised_and_loses_images(personas, mail_tasks):
    card = _card(personas)
    body = (
        "@adam <script>alert(1)</script> ![x](https://tracker.example.com/pixel.png) "
        '<a href="javascript:alert(1)">y</a>'
    )
    mail_tasks(lambda: _comment(personas, card, body))
    html = _html(mail.outbox[0])
    # The notification's text shows the raw input escaped; the rendered snippet drops what is unsafe.
    assert "&lt;script&gt;" in html
    snippet = html[html.index("<blockquote") : html.index("</blockquote>")]
    assert "<script" not in snippet and "alert(1)" not in snippet and "javascript:" not in snippet
    # A remote image would be a read receipt: it is at most a link to follow.
    assert "<img" not in html
    assert 'href="https://tracker.example.com/pixel.png"' in snippet


def test_assignment_mails_the_assignee_but_not_when_they_assign_themselves(personas, mail_tasks):
    mail_tasks(lambda: _card(personas, "Write docs", assignee="mary", body="Use the *new* style."))
    assert [_to(m) for m in mail.outbox] == ["mary@example.com"]
    assert mail.outbox[0].subject == "[BLOG-1] olivia assigned you BLOG-1 Write docs"
    assert "<em>new</em>" in _html(mail.outbox[0])

    mail.outbox.clear()
    mail_tasks(lambda: _card(personas, "Mine", assignee="olivia"))
    assert mail.outbox == []


def test_a_comment_on_a_watched_ticket_mails_instantly_when_chosen(personas, mail_tasks):
    notification_preferences_update(user=personas.owner, changes={"watched": "instant"})
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "Looks **fine** to me"))
    assert [_to(m) for m in mail.outbox] == ["olivia@example.com"]
    assert "<strong>fine</strong>" in _html(mail.outbox[0])

    # Other changes to a watched ticket stay in the app.
    mail.outbox.clear()
    mail_tasks(lambda: personas.client("member").patch(f"{BASE}/cards/{card.pk}", {"priority": "high"}, format="json"))
    assert Notification.objects.filter(recipient=personas.owner, kind="watched").count() == 2
    assert mail.outbox == []
    assert Notification.objects.filter(email=Notification.Email.PENDING).count() == 0


def test_no_mail_for_your_own_comment_on_your_watched_ticket(personas, mail_tasks):
    notification_preferences_update(user=personas.owner, changes={"watched": "instant"})
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "Note to self", role="owner"))
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_off_sends_nothing_and_the_in_app_notification_stays(personas, mail_tasks):
    notification_preferences_update(user=personas.admin, changes={"mention": "off"})
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "@adam ping"))
    assert mail.outbox == []
    notification = Notification.objects.get(recipient=personas.admin)
    assert (notification.kind, notification.read_at, notification.email) == ("mention", None, "skipped")


def test_what_was_read_before_the_task_ran_is_not_mailed(personas, settings, django_capture_on_commit_callbacks):
    from tests.notifications.conftest import IMMEDIATE

    settings.TASKS = IMMEDIATE
    card = _card(personas)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _comment(personas, card, "@adam ping")
    notification = Notification.objects.get(recipient=personas.admin)
    assert personas.client("admin").post(f"/api/v1/notifications/{notification.pk}/read").status_code == 200
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.email == Notification.Email.SKIPPED


def test_a_user_without_an_address_gets_nothing(personas, mail_tasks):
    personas.admin.email = ""
    personas.admin.save(update_fields=["email"])
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "@adam ping"))
    assert mail.outbox == []


# --------------------------------------------------------------------------- direct messages


def _dm(personas, body: str = "Lunch at *noon*?"):
    conversation, _ = chat_services.conversation_open(user=personas.member, usernames=["adam"])
    chat_services.conversation_message_post(user=personas.member, conversation=conversation, body=body)
    return conversation


def test_a_dm_is_mailed_only_once_it_stayed_unread_for_the_delay(personas, mail_tasks, settings):
    settings.PUNT_DM_EMAIL_DELAY_MINUTES = 15
    mail_tasks(lambda: _dm(personas))
    assert mail.outbox == []  # not at once
    now = timezone.now()

    assert emails.sweep(now=now + datetime.timedelta(minutes=5)) == 0
    assert mail.outbox == []
    assert emails.sweep(now=now + datetime.timedelta(minutes=16)) == 1
    assert [_to(m) for m in mail.outbox] == ["adam@example.com"]
    assert mail.outbox[0].subject == "Mary: Lunch at *noon*?"
    assert "<em>noon</em>" in _html(mail.outbox[0])
    assert emails.sweep(now=now + datetime.timedelta(minutes=30)) == 0  # never twice
    assert len(mail.outbox) == 1


def test_a_dm_read_within_the_delay_is_not_mailed(personas, mail_tasks):
    conversation = mail_tasks(lambda: _dm(personas))
    response = personas.client("admin").post(f"/api/v1/conversations/{conversation.pk}/read", {}, format="json")
    assert response.status_code == 200
    assert emails.sweep(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert mail.outbox == []
    assert Notification.objects.get(recipient=personas.admin).email == Notification.Email.SKIPPED


def test_with_a_backend_that_defers_the_dm_task_waits_for_the_delay(
    personas, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.PUNT_DM_EMAIL_DELAY_MINUTES = 20
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _dm(personas)
    task = DBTaskResult.objects.get()
    assert task.task_path == "notifications.tasks.send_emails"
    assert task.run_after is not None
    assert before + datetime.timedelta(minutes=20) <= task.run_after <= timezone.now() + datetime.timedelta(minutes=20)


# --------------------------------------------------------------------------- due tomorrow


def test_due_tomorrow_reminds_the_assignee_once(personas, mail_tasks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    due = _card(personas, "Ship it", assignee="mary", due_date=tomorrow.isoformat())
    _card(personas, "Later", assignee="mary", due_date=(tomorrow + datetime.timedelta(days=1)).isoformat())
    closed = _card(personas, "Done already", assignee="mary", due_date=tomorrow.isoformat())
    ticket_services.ticket_close(ticket=closed, by=personas.owner)
    _card(personas, "Nobody's", due_date=tomorrow.isoformat())
    Notification.objects.all().delete()  # the assignments
    mail.outbox.clear()

    mail_tasks(lambda: call_command("punt_notifications", "--due", stdout=io.StringIO()))
    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.text) == (
        personas.member,
        "due",
        "BLOG-1 Ship it is due tomorrow",
    )
    assert notification.data["ticket"]["id"] == due.pk
    assert [(_to(m), m.subject) for m in mail.outbox] == [
        ("mary@example.com", "[BLOG-1] BLOG-1 Ship it is due tomorrow")
    ]

    mail_tasks(lambda: call_command("punt_notifications", "--due", stdout=io.StringIO()))
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


# --------------------------------------------------------------------------- digest


def test_the_digest_is_one_mail_per_user_grouped_by_project(personas, mail_tasks):
    other = ProjectFactory(owner_user=UserFactory(username="zed"), name="Api", key="API")
    MembershipFactory(project=other, user=personas.owner)
    MembershipFactory(project=other, user=personas.member)
    blog_card = _card(personas, "Blog post")
    api_card = ticket_services.ticket_create(
        project=other, by=personas.owner, title="Rate limits", column=other.columns.order_by("order").first()
    )
    mail_tasks(lambda: ticket_services.comment_create(ticket=blog_card, by=personas.member, body="first *one*"))
    mail_tasks(lambda: ticket_services.comment_create(ticket=api_card, by=personas.member, body="second"))
    mail_tasks(lambda: ticket_services.comment_create(ticket=blog_card, by=personas.member, body="third"))
    read = Notification.objects.filter(recipient=personas.owner).order_by("id").last()
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    assert mail.outbox == []

    assert emails.digests_send() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (_to(message), message.subject) == ("olivia@example.com", "PUNT digest: 2 notifications")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = message.body
    # Projects by name: Api before Blog; what was read since is left out.
    assert body.index("== Api ==") < body.index("API-1 Rate limits") < body.index("== Blog ==") < body.index("BLOG-1")
    assert "third" not in body
    assert "<em>one</em>" in _html(message)
    assert set(Notification.objects.filter(recipient=personas.owner).values_list("email", flat=True)) == {
        "sent",
        "skipped",
    }
    assert emails.digests_send() == 0  # nothing left


def test_digest_respects_a_kind_turned_off_since(personas, mail_tasks):
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "hello"))
    notification_preferences_update(user=personas.owner, changes={"watched": "off"})
    assert emails.digests_send() == 0
    assert mail.outbox == []


# --------------------------------------------------------------------------- failures


def test_a_mail_failure_keeps_the_notification_and_the_action(personas, mail_tasks, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_email_delivery.FailingBackend"
    card = _card(personas)
    response = mail_tasks(lambda: _comment(personas, card, "@adam ping"))
    assert response.status_code == 201
    notification = Notification.objects.get(recipient=personas.admin)
    assert (notification.kind, notification.read_at, notification.email) == ("mention", None, "failed")
    listed = personas.client("admin").get("/api/v1/notifications").json()
    assert [n["id"] for n in listed["results"]] == [notification.pk]


def test_a_digest_that_fails_is_kept_for_the_next_run(personas, mail_tasks, settings):
    card = _card(personas)
    mail_tasks(lambda: _comment(personas, card, "hello"))
    settings.EMAIL_BACKEND = "tests.notifications.test_email_delivery.FailingBackend"
    assert emails.digests_send() == 0
    assert Notification.objects.get(recipient=personas.owner).email == Notification.Email.DIGEST
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.digests_send() == 1


def test_a_task_queue_that_is_down_costs_the_mail_not_the_comment(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "tests.notifications.test_email_delivery.BrokenQueue"}}
    card = _card(personas)
    with django_capture_on_commit_callbacks(execute=True):
        response = _comment(personas, card, "@adam ping")
    assert response.status_code == 201
    assert Notification.objects.get(recipient=personas.admin).email == Notification.Email.PENDING


class BrokenQueue:
    pass


# --------------------------------------------------------------------------- query counts


def test_notify_costs_the_same_for_one_recipient_as_for_ten(
    personas, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    many = [UserFactory(username=f"reader{i}") for i in range(10)]

    def send(recipients) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            notify(recipients=recipients, kind="mention", actor=personas.owner, text="hi", snippet="*hi*")
        return len(queries.captured_queries)

    one = send(many[:1])
    assert send(many) == one
    assert Notification.objects.count() == 11


def test_preference_defaults():
    from notifications.models import DEFAULT_DELIVERY
    from notifications.services import PREFERENCE_LABELS

    assert set(DEFAULT_DELIVERY) == set(PREFERENCE_LABELS) == set(Notification.Kind.values)
    assert DEFAULT_DELIVERY == {
        "mention": NotificationPreference.Delivery.INSTANT,
        "assigned": "instant",
        "watched": "digest",
        "dm": "instant",
        "due": "instant",
    }


@pytest.mark.django_db(transaction=True)
def test_the_db_worker_sends_what_a_committed_comment_left(settings):
    """The default database backend, for real: the comment commits, then `db_worker` mails."""
    from tests.conftest import Personas

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    personas = Personas()
    card = _card(personas)
    _comment(personas, card, "@adam ping")
    assert mail.outbox == []
    assert Notification.objects.get(recipient=personas.admin).email == Notification.Email.PENDING

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    assert [_to(m) for m in mail.outbox] == ["adam@example.com"]
    assert Notification.objects.get(recipient=personas.admin).email == Notification.Email.SENT


def test_several_unread_dms_in_one_conversation_are_one_mail_until_it_is_read(personas, mail_tasks):
    conversation = mail_tasks(lambda: _dm(personas, "one"))
    mail_tasks(lambda: _dm(personas, "two"))
    later = timezone.now() + datetime.timedelta(hours=1)
    assert emails.sweep(now=later) == 1
    assert [m.subject for m in mail.outbox] == ["Mary: one"]

    mail_tasks(lambda: _dm(personas, "three"))
    assert emails.sweep(now=later + datetime.timedelta(hours=1)) == 0  # still unread: no second mail

    personas.client("admin").post(f"/api/v1/conversations/{conversation.pk}/read", {}, format="json")
    mail_tasks(lambda: _dm(personas, "four"))
    assert emails.sweep(now=later + datetime.timedelta(hours=2)) == 1
    assert [m.subject for m in mail.outbox] == ["Mary: one", "Mary: four"]


def test_a_failed_mail_is_tried_twice_more_then_left_failed(personas, settings, django_capture_on_commit_callbacks):
    """A mail server down for a while: attempts 5 and 20 minutes later (tasks deferred on the
    database queue), each sending only what is still failed and wanted."""
    from django_tasks_db.models import DBTaskResult

    from notifications.tasks import send_emails

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "tests.notifications.test_email_delivery.FailingBackend"
    card = _card(personas)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(personas, card, "@adam ping")
    notification = Notification.objects.get(recipient=personas.admin)

    def run_next(expected_attempt: int) -> datetime.datetime:
        task = DBTaskResult.objects.order_by("-enqueued_at").first()
        assert task is not None and task.task_path == "notifications.tasks.send_emails"
        args, kwargs = task.args_kwargs["args"], task.args_kwargs["kwargs"]
        assert notification.pk in args[0] and (args[1:] or [1])[0] == expected_attempt
        DBTaskResult.objects.all().delete()
        before = timezone.now()
        send_emails.func(*args, **kwargs)
        return before

    run_next(1)
    assert Notification.objects.get(pk=notification.pk).email == "failed"
    started = run_next(2)  # the first retry: still failing
    assert Notification.objects.get(pk=notification.pk).email == "failed"
    retry = DBTaskResult.objects.get()
    assert (
        started + datetime.timedelta(minutes=20) <= retry.run_after <= timezone.now() + datetime.timedelta(minutes=20)
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_next(3)  # the last attempt: the server is back
    assert [_to(m) for m in mail.outbox] == ["adam@example.com"]
    assert Notification.objects.get(pk=notification.pk).email == "sent"
    assert not DBTaskResult.objects.exists()
    assert emails.sweep(now=timezone.now() + datetime.timedelta(hours=1)) == 0


def test_after_the_last_attempt_a_failed_mail_stays_failed(personas, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "tests.notifications.test_email_delivery.FailingBackend"
    card = _card(personas)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(personas, card, "@adam ping")
    DBTaskResult.objects.all().delete()
    notification = Notification.objects.get(recipient=personas.admin)
    emails.deliver(notification_ids=[notification.pk])
    emails.deliver(notification_ids=[notification.pk], attempt=2)
    DBTaskResult.objects.all().delete()
    emails.deliver(notification_ids=[notification.pk], attempt=3)
    assert not DBTaskResult.objects.exists()  # no fourth attempt
    assert Notification.objects.get(pk=notification.pk).email == "failed"
    # Read in the app since: a retry skips it.
    Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.deliver(notification_ids=[notification.pk], attempt=2) == 0
    assert mail.outbox == []
