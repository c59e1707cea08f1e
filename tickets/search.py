"""Full-text search of tickets: one rule for what a search box's words find, read three ways.

A ticket's searchable text is its title and body, as one text. Its words are the runs of
letters and digits (Unicode; anything else, underscore included, separates words),
lower-cased. A search is a list of phrases, each the words of one thing typed (`login`,
`e-mail`, `"null pointer"`); a ticket matches when every phrase does, and a phrase matches
where its words follow each other in that order, each one the start of a word of the text:
`add` finds "address", `e-mail` finds "E-Mail" and "e mails", `dd` finds nothing in "address".
Accents count (`cafe` does not find "café"; PostgreSQL has no unaccent in an immutable index
expression, so FTS5 is told not to remove diacritics either).

The three readings, held to the same answers by tests/tickets/test_search.py:

- PostgreSQL: the `search_vector` tsvector column (generated from title and body with every
  non-alphanumeric character made a space, so its parser sees only the words above; GIN
  index) `@@` a tsquery of `'word':*` joined by `<->` and `&`;
- SQLite: the FTS5 table `tickets_ticket_search` (unicode61, kept by triggers) `MATCH`
  `"word"* + "word"*` phrases joined by AND;
- Python (`matches`): the words above, for live subscriptions and webhook filters.

Both indexes are kept by the database itself (a generated column; triggers), so every path
that writes a ticket (services, bulk creates of the demo seeds, backup restore, deletes,
raw SQL) keeps them current: none can forget. Migration 0008 builds them for existing rows.
Known differences, outside what users type: PostgreSQL ignores words longer than 2,047 bytes
and positions past 16,383 (a phrase deep in a huge body); case folding of a few letters
(Turkish dotted I, German sharp s) follows each engine's tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Q

from tickets import fastpath

# A word: letters and digits (str.isalnum), never "_" (FTS5's unicode61 and PostgreSQL's parser
# both separate at it).
_WORD = re.compile(r"[^\W_]+")

Phrase = tuple[str, ...]


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, in order."""
    return _WORD.findall(text.lower())


def phrases(text: str) -> tuple[Phrase, ...]:
    """A search box's input: each whitespace-separated part is a phrase of its words."""
    return tuple(phrase for part in text.split() if (phrase := tuple(words(part))))


def matches(search: Iterable[Phrase], title: str, body: str) -> bool:
    """Python's reading: every phrase's words follow each other in the text, each a word's start."""
    text = words(f"{title} {body}")
    return all(_has_phrase(text, phrase) for phrase in search)


def _has_phrase(text: list[str], phrase: Phrase) -> bool:
    if not phrase:
        return True
    last = len(text) - len(phrase)
    return any(
        all(text[start + offset].startswith(word) for offset, word in enumerate(phrase)) for start in range(last + 1)
    )


def q(search: tuple[Phrase, ...]) -> Q:
    """The database's reading (tickets.fastpath.text_match: the index of the connection's vendor)."""
    return fastpath.text_match(search)
