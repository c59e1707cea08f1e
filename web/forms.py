"""Page forms: they validate the shape of the input; the services apply the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import ApiKey
from notifications.models import NotificationPreference
from notifications.services import PREFERENCE_LABELS
from projects.models import PROJECT_SLUG_MAX_LENGTH
from punt import errors
from tickets.models import Ticket


def add_service_errors(form: forms.Form, exc: errors.PuntError) -> None:
    """Show a service's refusal on the form: each message on its field, the rest above the form."""
    for field, messages in errors.field_errors(exc).items():
        target = field if field in form.fields else None
        for text in messages:
            # A field the form does not show still gets named, so the message makes sense.
            form.add_error(target, f"{field}: {text}" if target is None and field is not None else text)


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """One of the form's choice fields, to fill its choices in (`form.fields` is typed as any Field)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    return field


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=39, help_text="Letters, digits, '.', '_' or '-'. Part of your project URLs.")
    display_name = forms.CharField(max_length=150, required=False, label="Full name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096, strip=False)


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(max_length=254)


class ResetPasswordForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=200)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096, strip=False, label="New password")


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=150, required=False, label="Full name")
    email = forms.EmailField(max_length=254, required=False)


class NotificationEmailForm(forms.Form):
    """One select per kind of notification: how it comes by e-mail."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in PREFERENCE_LABELS.items():
            self.fields[kind] = forms.ChoiceField(label=label, choices=NotificationPreference.Delivery.choices)


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(widget=forms.PasswordInput, max_length=4096, strip=False)
    new_password = forms.CharField(widget=forms.PasswordInput, max_length=4096, strip=False)


class AvatarForm(forms.Form):
    avatar = forms.FileField()


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every right you have.",
    )
    expires_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Expires (optional)"
    )


class ProjectForm(forms.Form):
    namespace = forms.ChoiceField(label="Owner", help_text="You, or an organization you administer.")
    name = forms.CharField(max_length=200)
    key = forms.CharField(max_length=10, help_text="2-10 capital letters or digits, e.g. BLOG. It cannot change.")
    slug = forms.CharField(
        max_length=PROJECT_SLUG_MAX_LENGTH,
        required=False,
        label="URL slug (optional)",
        help_text="Lowercase letters, digits and dashes, e.g. my-blog; empty: the key in lowercase. It cannot change.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, namespaces: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        namespace = _choice_field(self, "namespace")
        namespace.choices = [(n, n) for n in namespaces]
        namespace.initial = namespaces[0]


class QuickAddForm(forms.Form):
    title = forms.CharField(max_length=500)
    column = forms.IntegerField(required=False)
    type = forms.ChoiceField(choices=Ticket.Type.choices, required=False)


class TicketForm(forms.Form):
    """Every editable field of a ticket; choices for people, labels and sprints come from the project."""

    title = forms.CharField(max_length=500)
    type = forms.ChoiceField(choices=Ticket.Type.choices)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, label="Description (Markdown)")
    assignee = forms.ChoiceField(required=False)
    labels = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    sprint = forms.ChoiceField(required=False)
    parent = forms.IntegerField(required=False, min_value=1, label="Parent ticket number")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    estimate = forms.IntegerField(required=False, min_value=0, label="Estimate (points)")

    def __init__(self, *args: Any, project: Any, members: list[Any], labels: list[Any], sprints: list[Any], **kw: Any):
        super().__init__(*args, **kw)
        _choice_field(self, "assignee").choices = [("", "Unassigned")] + [(u.username, u.name) for u in members]
        _choice_field(self, "labels").choices = [(str(label.pk), label.name) for label in labels]
        _choice_field(self, "sprint").choices = [("", "No sprint")] + [(str(s.pk), s.name) for s in sprints]
        self.fields["body"].widget.attrs.update({"data-markdown": "", "maxlength": "100000"})

    def only(self, names: set[str]) -> TicketForm:
        """Keep just the fields in `names`: an in-place edit sends one field, or title and description."""
        for name in list(self.fields):
            if name not in names:
                del self.fields[name]
        return self

    @staticmethod
    def sent_fields(data: Any) -> set[str]:
        """The ticket fields a POST carries. Unticking every label sends no `labels` at all, so label
        pickers say they were there with `labels-sent`."""
        sent = {name for name in TicketForm.base_fields if name in data}
        if "labels-sent" in data:
            sent.add("labels")
        return sent


class NewTicketForm(TicketForm):
    """The full "new ticket" form: every field plus the column it starts in."""

    column = forms.ChoiceField(required=False, label="Column")

    def __init__(self, *args: Any, columns: list[Any], **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choice_field(self, "column").choices = [(str(c.pk), c.name) for c in columns]
        self.fields["title"].widget.attrs.update({"autofocus": "", "autocomplete": "off"})


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=65536)
    minutes = forms.IntegerField(required=False, min_value=1, max_value=24 * 60, label="Time spent (minutes)")


class ChecklistItemForm(forms.Form):
    text = forms.CharField(max_length=500)
