"""Pages of the notifications app: the unsubscribe link of its e-mails."""

from __future__ import annotations

from django.urls import path

from notifications import views

urlpatterns = [
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="notification-unsubscribe"),
]
