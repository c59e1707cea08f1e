// PUNT editing: in-place edits, Markdown preview, autocomplete, drafts, undo (every page).
