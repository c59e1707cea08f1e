from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        from projects.board_contents import board_contents_register
        from tickets.services.board import TicketBoardContents

        # Columns, sprints and projects hold tickets; projects reaches them through this hook
        # so that tickets depends on projects and not the other way round.
        board_contents_register(TicketBoardContents())

        from notifications.emails import markdown_renderer_register
        from tickets.markdown import render

        # Notification e-mails quote comments and messages with the renderer the pages use.
        markdown_renderer_register(render)
