"""Admin screens that write through the services.

A site admin's save or delete must obey the same rules as the app (a column holding tickets,
the one owner, the one active sprint) and leave the same trail (timeline events, real-time
events, files removed). So an admin that writes calls the service, and a refusal from the
service becomes a message on the admin page instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from punt import errors

# What a service raises when a rule says no.
REFUSALS: tuple[type[Exception], ...] = (errors.PuntError,)

Item = TypeVar("Item")


def refusal_text(exc: Exception) -> str:
    """One readable line for a refusal: "title: Too long." or "A board keeps at least one column."."""
    if isinstance(exc, errors.PuntError):
        pairs = [(d.get("field"), d["message"]) for d in exc.details] or [(None, exc.message)]
    else:
        pairs = [(None, str(exc))]
    return " ".join(f"{field}: {text}" if field and field != "non_field_errors" else text for field, text in pairs)


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes go through services (subclasses override save_model,
    delete_model and delete_queryset to call them).

    The change form and the delete page run in one transaction: a refusal rolls it back and
    the admin lands back on the page it came from with the reason, as an error message.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]))

    def run_each(
        self,
        request: HttpRequest,
        items: Iterable[Item],
        call: Callable[[Item], Any],
        *,
        done: str | None,
    ) -> int:
        """Call the service for each item (each in its own transaction); report each refusal and
        how many succeeded (`done` is e.g. "Closed {count} ticket(s)."; None: the caller reports)."""
        count = 0
        for item in items:
            try:
                call(item)
            except REFUSALS as exc:
                self.message_user(request, f"{item}: {refusal_text(exc)}", messages.ERROR)
            else:
                count += 1
        if count and done is not None:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        return count

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """The bulk "Delete selected": delete_model (the service) once per row, each refusal
        reported (Django's own message then reports the count). Loads what the list loads."""
        related = self.list_select_related if isinstance(self.list_select_related, list | tuple) else ()
        self.run_each(
            request, queryset.select_related(*related), lambda obj: self.delete_model(request, obj), done=None
        )


def form_changes(form: Any, names: Iterable[str]) -> dict[str, Any]:
    """The cleaned values of the fields in `names` that the admin actually changed."""
    wanted = set(names)
    return {name: form.cleaned_data[name] for name in form.changed_data if name in wanted}
