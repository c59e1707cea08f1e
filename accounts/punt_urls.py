from __future__ import annotations

from django.urls import path  # noqa: F401

# PUNT-dialect (seed 000) account endpoints under /api/.
urlpatterns: list = []
