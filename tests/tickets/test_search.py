"""Full-text search (tickets.search): the database's index and Python's reading give the same
tickets, every path that writes a ticket keeps the index current, and the API's `?q=` and
cross-project search use it. Runs on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import ProjectFactory, TicketFactory
from tests.migrating import migrate_to, migrate_to_latest
from tickets import fastpath, pql, search, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# (title, body): punctuation, markdown, unicode, accents, numbers, underscores, long words.
CORPUS = {
    "addr": ("Add address validation", "The **address** form needs `zip_code` checks."),
    "mail": ("E-mail digest is late", "Send it at 08:00; see https://example.com/docs/mail-digest."),
    "login": ("Login crash on mobile", "Steps:\n\n1. Open the *login* page\n2. Tap [Sign in](/x)"),
    "null": ("Stack trace", "null pointer in auth.py line 42 (NullPointerException)"),
    "cafe": ("Café menu shows ÉCLAIR twice", "Straße, naïve façade, 東京 office, Ελληνικά"),
    "ver": ("Release v1.2.3", "Bump to 3.14 and user@example.com gets the notes; foo_bar stays."),
    "plain": ("Update docs", ""),
}

# (search box input, expected keys): words are word starts, all required, in any order;
# a word with punctuation or a quoted phrase is its words in a row.
CASES = [
    ("add", {"addr"}),  # a prefix of "Add" and of "address"
    ("ADDRESS", {"addr"}),
    ("dd", set()),  # inside a word: no
    ("ress", set()),
    ("address validation", {"addr"}),
    ("validation address", {"addr"}),  # words in any order
    ('"validation address"', set()),  # a phrase in its order only
    ('"address valid"', {"addr"}),  # the last word of a phrase is a prefix too
    ("zip", {"addr"}),  # markdown code and underscore split words
    ("code", {"addr"}),
    ("zip_code", {"addr"}),
    ("e-mail", {"mail"}),
    ("mail", {"mail"}),  # "mail-digest" in the URL and "E-mail"
    ("email", set()),
    ("08:00", {"mail"}),
    ("example", {"mail", "ver"}),
    ("user@example.com", {"ver"}),
    ("docs", {"mail", "plain"}),
    ("login crash", {"login"}),
    ("login missing", set()),
    ("sign", {"login"}),  # link text
    ("*login*", {"login"}),
    ("null pointer", {"null"}),
    ('"null pointer"', {"null"}),
    ("nullpointer", {"null"}),  # a word's start: NullPointerException
    ("pointerexception", set()),
    ("auth.py", {"null"}),
    ("42", {"null"}),
    ("café", {"cafe"}),
    ("CAFÉ", {"cafe"}),
    ("cafe", set()),  # accents count
    ("éclair", {"cafe"}),
    ("straße", {"cafe"}),
    ("naïve façade", {"cafe"}),
    ("東京", {"cafe"}),
    ("ελληνικά", {"cafe"}),
    ("v1", {"ver"}),
    ("v1.2", {"ver"}),
    ("1.2.3", set()),  # "v1" does not start with "1"
    ("3.14", {"ver"}),
    ("foo", {"ver"}),
    ("bar", {"ver"}),  # "_" separates words
]


@pytest.fixture
def corpus(personas):
    project = personas.project
    ids = {}
    for key, (title, body) in CORPUS.items():
        ids[key] = TicketFactory(project=project, title=title, body=body).pk
    return ids


def _database(phrases) -> set[int]:
    return set(Ticket.objects.filter(search.q(phrases)).values_list("pk", flat=True))


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_database_and_python_agree(corpus, personas, text, expected):
    keys = {pk: key for key, pk in corpus.items()}
    compiled = pql.compile_query(text, pql.project_scope(personas.project, personas.member))
    found = {keys[pk] for pk in pql.apply(Ticket.objects.all(), compiled).values_list("pk", flat=True)}
    facts = pql.load_facts(corpus.values())
    tested = {keys[pk] for pk, one in facts.items() if compiled.test(one)}
    assert found == expected, "database"
    assert tested == expected, "Python"


def test_query_syntax_words_are_plain_words(personas):
    TicketFactory(project=personas.project, title="Not near AND or")
    for word in ("not", "near", "and", "or", "NEAR"):
        assert len(_finds(word.lower())) == 1


def test_words():
    assert search.words("E-Mail: **Café** zip_code 3.14 東京") == [
        "e",
        "mail",
        "café",
        "zip",
        "code",
        "3",
        "14",
        "東京",
    ]
    assert search.phrases('fix  e-mail "x"') == (("fix",), ("e", "mail"), ("x",))
    assert search.phrases("-- !") == ()


# --------------------------------------------------------------------------- the index stays current


def _finds(word: str) -> set[int]:
    return _database(((word,),))


def test_services_keep_the_index(personas, columns):
    ticket = services.ticket_create(
        project=personas.project, by=personas.member, title="Zebra crossing", column=columns[0]
    )
    assert _finds("zebra") == {ticket.pk}
    services.ticket_update(ticket=ticket, by=personas.member, title="Giraffe", body="long neck")
    assert _finds("zebra") == set()
    assert _finds("giraffe") == _finds("neck") == {ticket.pk}
    services.ticket_move(ticket=ticket, by=personas.member, column=columns[1])  # not a text write
    assert _finds("giraffe") == {ticket.pk}
    # A soft delete keeps the row (and its words, for a restore); the lists leave it out.
    services.ticket_delete(ticket=Ticket.objects.get(pk=ticket.pk), by=personas.member)
    listed = personas.client("member").get(f"/api/v1/projects/{personas.project.slug}/cards", {"q": "giraffe"})
    assert listed.json()["count"] == 0
    services.ticket_destroy(ticket=Ticket.objects.get(pk=ticket.pk), by=personas.member)
    assert _finds("giraffe") == set()


def test_bulk_create_and_queryset_writes_keep_the_index(personas, columns):
    made = Ticket.objects.bulk_create(
        Ticket(project=personas.project, number=900 + i, column=columns[0], rank=i, title=f"Okapi {i}")
        for i in range(3)
    )
    ids = {ticket.pk for ticket in Ticket.objects.filter(title__startswith="Okapi")}
    assert len(made) == 3 and _finds("okapi") == ids
    Ticket.objects.filter(pk__in=ids).update(body="striped")
    assert _finds("striped") == ids
    Ticket.objects.filter(pk__in=ids).delete()
    assert _finds("okapi") == _finds("striped") == set()


def test_seed_demo_is_searchable():
    call_command(
        "seed_demo", "--projects", "1", "--tickets", "30", "--users", "3", "--comments", "0", stdout=io.StringIO()
    )
    tickets = list(Ticket.objects.values_list("pk", "title"))
    assert len(tickets) == 30
    for word in {title.split()[-1].lower() for _, title in tickets}:
        assert _finds(word) == {pk for pk, title in tickets if word in search.words(title)}, word


@pytest.mark.django_db(transaction=True)
def test_restore_rebuilds_the_index(tmp_path):
    from tests.conftest import Personas
    from tests.ops.test_backup import empty_database

    personas = Personas()
    kept = TicketFactory(project=personas.project, title="Narwhal sighting").pk
    target = tmp_path / "site.zip"
    call_command("punt_backup", "-o", str(target))
    TicketFactory(project=personas.project, title="Narwhal after the backup")
    empty_database()
    assert _finds("narwhal") == set()
    call_command("punt_restore", str(target), "--noinput", stdout=io.StringIO())
    assert _finds("narwhal") == {kept}


@pytest.mark.django_db(transaction=True)
def test_migration_indexes_existing_tickets():
    from tests.conftest import Personas

    personas = Personas()
    try:
        old = migrate_to([("tickets", "0007_list_filter_indexes")]).get_model("tickets", "Ticket")
        column = personas.project.columns.first()
        old.objects.create(
            project_id=personas.project.pk, number=1, column_id=column.pk, rank=1, title="Wombat", body=""
        )
        migrate_to([("tickets", "0008_search_index")])
        assert _finds("wombat") == set(Ticket.objects.values_list("pk", flat=True))
    finally:
        migrate_to_latest()


def test_the_index_is_in_place():
    """A later migration that rebuilds the ticket table on SQLite drops its triggers, and one
    that changes title/body on PostgreSQL must recreate the generated column: see 0008."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", ["%_search_%"])
            assert {row[0].rsplit("_", 1)[1] for row in cursor.fetchall()} == {"insert", "update", "delete"}
        else:
            table = Ticket._meta.db_table
            cursor.execute(
                "SELECT attgenerated FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
                [table, fastpath.SEARCH_VECTOR],
            )
            assert cursor.fetchone() == ("s",)


# --------------------------------------------------------------------------- the ORM twin


def test_text_match_against_its_orm_twin(personas):
    """Where every searched word starts a word of the text, icontains per word agrees."""
    for title, body in [("Fix login form", "crash"), ("Add dark theme", ""), ("Login", "slow form")]:
        TicketFactory(project=personas.project, title=title, body=body)
    for phrases in [
        (("login",),),
        (("fix",), ("form",)),
        (("dark",),),
        (("slow",), ("log",)),
        (("theme",), ("crash",)),
    ]:
        database = set(Ticket.objects.filter(fastpath.text_match(phrases)).values_list("pk", flat=True))
        twin = set(Ticket.objects.filter(fastpath.text_match_twin(phrases)).values_list("pk", flat=True))
        assert database == twin, phrases


# --------------------------------------------------------------------------- the API


def test_list_q_finds_words_and_keys(personas, corpus):
    client = personas.client("member")
    url = f"/api/v1/projects/{personas.project.slug}/cards"
    titles = lambda q: {card["title"] for card in client.get(url, {"q": q}).json()["results"]}  # noqa: E731
    assert titles("add") == {"Add address validation"}
    assert titles("dd") == set()
    assert titles("e-mail late") == {"E-mail digest is late"}
    number = Ticket.objects.get(pk=corpus["plain"]).number
    assert titles(f"BLOG-{number}") == {"Update docs"}


def test_cross_project_search_uses_the_index(personas, corpus):
    other = ProjectFactory(owner_user=personas.member, name="Other", key="OTH")
    TicketFactory(project=other, title="Address book")
    response = personas.client("member").get("/api/v1/search", {"q": "addr"})
    assert response.status_code == 200, response.content
    assert {card["title"] for card in response.json()["results"]} == {"Add address validation", "Address book"}


def test_list_search_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("member")
    url = f"/api/v1/projects/{personas.project.slug}/cards"
    TicketFactory(project=personas.project, title="Walrus 0")
    with django_assert_max_num_queries(20) as few:
        client.get(url, {"q": "walrus"})
    for i in range(1, 20):
        TicketFactory(project=personas.project, title=f"Walrus {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url, {"q": "walrus"}).json()["count"] == 20
