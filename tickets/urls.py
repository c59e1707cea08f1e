"""/api/v1/ routes for cards, the board and what hangs off a card (seed 004 paths, no trailing slashes).

`<card:card_id>` is a card's numeric id or its key (`BLOG-42`, any case). Sub-resources are
reachable both under their card (seed 004) and directly under the project.
"""

from __future__ import annotations

from django.urls import path, register_converter

from tickets import api, custom_field_api, view_api


class CardIdConverter:
    regex = r"(?:[0-9]+|[A-Za-z][A-Za-z0-9]{1,9}-[0-9]+)"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(CardIdConverter, "card")

P = "projects/<slug:slug>"
C = f"{P}/cards/<card:card_id>"

CF = f"{P}/custom-fields"

urlpatterns = [
    path(CF, custom_field_api.CustomFieldListView.as_view(), name="custom-field-list"),
    path(f"{CF}/reorder", custom_field_api.CustomFieldReorderView.as_view(), name="custom-field-reorder"),
    path(f"{CF}/<int:field_id>", custom_field_api.CustomFieldDetailView.as_view(), name="custom-field-detail"),
    path(
        f"{CF}/<int:field_id>/restore", custom_field_api.CustomFieldRestoreView.as_view(), name="custom-field-restore"
    ),
    path("search", api.SearchView.as_view(), name="search"),
    path(f"{P}/board", api.BoardView.as_view(), name="board"),
    path(f"{P}/columns/<int:column_id>/cards", api.ColumnCardsView.as_view(), name="column-cards"),
    path(f"{P}/cards", api.CardListView.as_view(), name="card-list"),
    path(f"{P}/cards/deleted", api.DeletedCardsView.as_view(), name="card-deleted-list"),
    path(C, api.CardDetailView.as_view(), name="card-detail"),
    path(f"{C}/move", api.CardMoveView.as_view(), name="card-move"),
    path(f"{C}/reorder", api.CardReorderView.as_view(), name="card-reorder"),
    path(f"{C}/restore", api.CardRestoreView.as_view(), name="card-restore"),
    path(f"{C}/events", api.CardEventsView.as_view(), name="card-events"),
    path(f"{C}/comments", api.CardCommentsView.as_view(), name="card-comments"),
    path(f"{C}/comments/<int:comment_id>", api.CommentDetailView.as_view(), name="card-comment-detail"),
    path(f"{P}/comments/<int:comment_id>", api.CommentDetailView.as_view(), name="comment-detail"),
    path(f"{C}/checklist", api.CardChecklistView.as_view(), name="card-checklist"),
    path(f"{C}/checklist/reorder", api.ChecklistReorderView.as_view(), name="card-checklist-reorder"),
    path(f"{C}/checklist/<int:item_id>", api.ChecklistItemView.as_view(), name="card-checklist-item"),
    path(f"{P}/checklist/reorder", api.ChecklistReorderView.as_view(), name="checklist-reorder"),
    path(f"{P}/checklist/<int:item_id>", api.ChecklistItemView.as_view(), name="checklist-item"),
    path(f"{C}/attachments", api.CardAttachmentsView.as_view(), name="card-attachments"),
    path(f"{C}/attachments/<int:attachment_id>", api.AttachmentDetailView.as_view(), name="card-attachment-detail"),
    path(f"{P}/attachments/<int:attachment_id>", api.AttachmentDetailView.as_view(), name="attachment-detail"),
    path(
        f"{P}/attachments/<int:attachment_id>/download",
        api.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path(
        f"{P}/attachments/<int:attachment_id>/thumbnail",
        api.AttachmentThumbnailView.as_view(),
        name="attachment-thumbnail",
    ),
    path(f"{C}/links", api.CardLinksView.as_view(), name="card-links"),
    path(f"{C}/relations", api.CardRelationsView.as_view(), name="card-relations"),
    path(f"{C}/relations/<int:relation_id>", api.CardRelationDetailView.as_view(), name="card-relation-detail"),
    path(f"{C}/watch", api.CardWatchView.as_view(), name="card-watch"),
    path(f"{P}/pql/complete", api.PqlCompleteView.as_view(), name="pql-complete"),
    path(f"{P}/views", view_api.SavedViewListView.as_view(), name="saved-view-list"),
    path(f"{P}/views/<int:view_id>", view_api.SavedViewDetailView.as_view(), name="saved-view-detail"),
    path(f"{P}/views/<int:view_id>/cards", view_api.SavedViewCardsView.as_view(), name="saved-view-cards"),
]
