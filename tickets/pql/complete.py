"""What may come next at a cursor in a PQL query: fields, operators, values, keywords.

The query before the cursor is read with the language's own tokenizer and walked by a small
state machine that mirrors the grammar (tickets.pql.syntax), forgiving what a half-typed
query lacks. The word under the cursor (if any) is the prefix the suggestions must start
with, and its span is what a client replaces with the chosen suggestion.

Values come from the project (members, labels, sprints, columns: one query for the kind the
field takes, none otherwise) or from the language (types, priorities, statuses, states).
Custom fields (issue 21) are offered by name (quoted when it has spaces) with their operators,
and a select's options as values: one more query (the fields with their options) when the
suggestions involve fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Model, Q

from projects.models import Column, Label, Project, Sprint
from tickets.models import CustomField, Ticket
from tickets.pql.compiler import CATEGORIES, CUSTOM_OPS, FIELDS, NAMES, PRIORITIES, FieldSpec
from tickets.pql.syntax import _SPECIAL, KEYWORDS, PqlError, Token, tokenize

MAX_VALUES = 20

OPERATOR_WORDS = {
    "=": "is",
    "!=": "is not",
    ">": "after / more than",
    ">=": "at least",
    "<": "before / less than",
    "<=": "at most",
    "~": "contains",
    "!~": "does not contain",
}
LIST_AND_EMPTY = (
    ("IN (", "any of a list"),
    ("NOT IN (", "none of a list"),
    ("IS EMPTY", "has no value"),
    ("IS NOT EMPTY", "has a value"),
)
VALUE_WORDS = {
    "person": "a person",
    "label": "a label",
    "sprint": "a sprint",
    "column": "a board column",
    "type": ", ".join(Ticket.Type.values),
    "priority": " < ".join(PRIORITIES),
    "status": " < ".join(CATEGORIES),
    "state": "open, closed",
    "project": "a project key",
    "ticket": "a ticket key",
    "date": "2026-12-31, -7d, today()",
}
# The two-word link predicates (tickets.pql.syntax.PREDICATES), offered where a term starts.
PREDICATE_WORDS = (
    ("is blocked", "blocked by an open ticket"),
    ("is blocking", "blocks another ticket"),
    ("has blockers", "blocked by any ticket, open or closed"),
    ("has duplicates", "another ticket duplicates it"),
)
FIELD_WORDS = {"title": "text", "body": "text", "text": "title or body", "number": "a number", "estimate": "points"}
# (function, what it means, offered before anything is typed)
VALUE_FUNCTIONS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "person": (("me", "you", True), ("currentUser", "you", False)),
    "sprint": (("openSprint", "the active sprint", True), ("closedSprints", "every closed sprint", True)),
    "date": (
        ("today", "today", True),
        ("startOfWeek", "this week's Monday", True),
        ("endOfWeek", "this week's Sunday", True),
    ),
}
RELATIVE_DATES = (("-7d", "7 days ago"), ("-30d", "30 days ago"), ("+7d", "in 7 days"))
STATE_VALUES = ("open", "closed")
# A project's named things: the model and the order they are offered in (newest sprints first).
NAMED_VALUES: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "label": (Label, ("name", "id")),
    "sprint": (Sprint, ("-created_at", "-id")),
    "column": (Column, ("order", "id")),
}


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "field", "operator", "value", "keyword", "function"
    value: str  # what to insert
    label: str
    detail: str = ""


@dataclass
class Completion:
    q: str
    cursor: int
    start: int
    end: int
    suggestions: list[Suggestion]

    def as_json(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "cursor": self.cursor,
            "replace": {"start": self.start, "end": self.end},
            "suggestions": [asdict(suggestion) for suggestion in self.suggestions],
        }


@dataclass
class _State:
    """Where the walk is: what the grammar expects next, and the field a value is for."""

    expect: str = "term"
    spec: FieldSpec | None = None
    custom: CustomField | None = None  # the custom field a value is for
    depth: int = 0  # open groups "(" (not IN lists)
    count: int = 0  # tokens read


def complete(text: str, cursor: int, *, project: Project) -> Completion:
    """Suggestions for the cursor at `cursor` (0..len(text)) in `text`, in `project`'s terms.

    Never raises for a malformed query: a query being typed is malformed most of the time.
    """
    before = text[:cursor]
    tokens, partial, start = _tokens_and_partial(before)
    custom = _CustomFields(project)
    state = _walk(tokens, custom)
    prefix = partial.lstrip("\"'")
    suggestions = _suggest(state, prefix, project=project, quoted=partial != prefix, custom=custom)
    return Completion(q=text, cursor=cursor, start=start, end=_word_end(text, cursor, partial), suggestions=suggestions)


# --------------------------------------------------------------------------- reading


def _tokens_and_partial(before: str) -> tuple[list[Token], str, int]:
    """The complete tokens before the cursor, the word being typed at it and where that starts."""
    try:
        tokens = tokenize(before)[:-1]  # without "end"
    except PqlError as error:  # an open quote or a lone "!": that is what is being typed
        start = error.position
        try:
            tokens = tokenize(before[:start])[:-1]
        except PqlError:
            tokens = []
        return tokens, before[start:], start
    last = tokens[-1] if tokens else None
    if last is not None and last.end == len(before) and last.kind == "word":
        return tokens[:-1], last.text, last.position
    return tokens, "", len(before)


def _word_end(text: str, cursor: int, partial: str) -> int:
    """Where the word under the cursor ends (the rest of it is replaced too)."""
    end = cursor
    if partial[:1] in ("'", '"'):
        closing = text.find(partial[0], cursor)
        return closing + 1 if closing >= 0 else len(text)
    while end < len(text) and not text[end].isspace() and text[end] not in _SPECIAL and text[end] not in "\"'":
        end += 1
    return end


class _CustomFields:
    """The project's live custom fields with their options, read on first use."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._fields: list[CustomField] | None = None

    def all(self) -> list[CustomField]:
        if self._fields is None:
            queryset = CustomField.objects.filter(project=self.project, deleted_at__isnull=True)
            self._fields = list(queryset.order_by("position", "id").prefetch_related("options"))
        return self._fields

    def named(self, name: str) -> CustomField | None:
        """The field `name` means as the compiler reads it (built-in names first, cf[...] forces)."""
        lowered = name.strip().lower()
        if lowered.startswith("cf[") and lowered.endswith("]"):
            lowered = lowered[3:-1].strip()
        elif lowered in NAMES:
            return None
        return next((f for f in self.all() if lowered in (f.key.lower(), f.name.lower())), None)


def _walk(tokens: list[Token], custom: _CustomFields) -> _State:
    state = _State(count=len(tokens))
    i = 0
    while i < len(tokens):
        token, following = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        keyword = token.keyword()
        expect = state.expect
        i += 1
        if expect in ("term", "after_term"):
            if token.kind == "(":
                state.depth += 1
                state.expect = "term"
            elif token.kind == ")":
                state.depth = max(0, state.depth - 1)
                state.expect = "after_term"
            elif keyword in ("and", "or", "not"):
                state.expect = "term"
            elif keyword == "order" and (following is None or following.keyword() == "by"):
                state.expect = "after_order"
            elif token.kind in ("word", "string") and _is_field(token, following, custom):
                state.custom = custom.named(token.text)
                state.spec = None if state.custom is not None else NAMES.get(token.text.lower())
                state.expect = "after_field"
            else:  # free text, a quoted string, or something the parser would refuse
                state.expect = "after_term"
        elif expect == "after_field":
            if token.kind == "op":
                state.expect = "value"
            elif keyword == "not":
                state.expect = "after_not"
            elif keyword == "in":
                state.expect = "after_in"
            elif keyword == "is":
                state.expect = "after_is"
            else:
                state.expect = "after_term"
        elif expect == "after_not":
            state.expect = "after_in" if keyword == "in" else "after_term"
        elif expect == "after_in":
            state.expect = "list_value" if token.kind == "(" else "after_term"
        elif expect in ("after_is", "after_is_not"):
            state.expect = "after_is_not" if keyword == "not" and expect == "after_is" else "after_term"
        elif expect in ("value", "list_value"):
            after = "after_term" if expect == "value" else "after_list_value"
            if token.kind == ")":  # an empty list, or a comma before the end
                state.expect = "after_term"
            elif token.kind in ("word", "string") and following is not None and following.kind == "(":
                i = _skip_call(tokens, i + 1)
                state.expect = after if i <= len(tokens) else "in_call"
            else:
                state.expect = after
        elif expect == "after_list_value":
            state.expect = "list_value" if token.kind == "," else "after_term"
        elif expect == "in_call":
            state.expect = "after_term"
        elif expect == "after_order":
            state.expect = "order_field" if keyword == "by" else "after_term"
        elif expect in ("order_field", "after_order_field", "after_direction"):
            if token.kind == ",":
                state.expect = "order_field"
            elif expect == "order_field":
                state.expect = "after_order_field"
            else:
                state.expect = "after_direction"
    return state


def _skip_call(tokens: list[Token], index: int) -> int:
    """Past the ")" closing a call whose "(" is at `index` - 1; len(tokens) + 1 if it is still open."""
    depth = 1
    while index < len(tokens):
        kind = tokens[index].kind
        depth += 1 if kind == "(" else -1 if kind == ")" else 0
        index += 1
        if depth == 0:
            return index
    return len(tokens) + 1


def _is_field(token: Token, following: Token | None, custom: _CustomFields) -> bool:
    """As the parser decides: a word is a field when an operator, IN, NOT or IS follows it; the last
    word before the cursor is a field when it names one."""
    if following is None:
        if token.kind == "string":
            return custom.named(token.text) is not None
        return (token.text.lower() in NAMES or custom.named(token.text) is not None) and not token.keyword()
    return following.kind == "op" or following.keyword() in ("in", "not", "is")


# --------------------------------------------------------------------------- suggesting


def _suggest(state: _State, prefix: str, *, project: Project, quoted: bool, custom: _CustomFields) -> list[Suggestion]:
    expect = state.expect
    found: list[Suggestion] = []
    # Custom field names are matched by name or key (their value may be quoted).
    extra: list[Suggestion] = []
    if expect in ("term", "after_term") and not quoted:
        extra = _custom_fields(custom, prefix)
    if expect == "term":
        found = _fields(condition=True)
        found += [Suggestion("keyword", "NOT", "NOT", "negate what follows"), Suggestion("keyword", "(", "(", "group")]
        found += [Suggestion("keyword", words, words, detail) for words, detail in PREDICATE_WORDS]
        if state.count == 0:
            found.append(Suggestion("keyword", "ORDER BY", "ORDER BY", "sort"))
    elif expect == "after_term":
        found = [
            Suggestion("keyword", "AND", "AND", "both"),
            Suggestion("keyword", "OR", "OR", "either"),
            Suggestion("keyword", "NOT", "NOT", "negate what follows"),
        ]
        if state.depth:
            found.append(Suggestion("keyword", ")", ")", "close the group"))
        else:
            found.append(Suggestion("keyword", "ORDER BY", "ORDER BY", "sort"))
        found += _fields(condition=True)
    elif expect == "after_field":
        found = _custom_operators(state.custom) if state.custom is not None else _operators(state.spec)
    elif expect == "after_not":
        found = [Suggestion("operator", "IN (", "IN (…)", "none of a list")]
    elif expect == "after_in":
        found = [Suggestion("keyword", "(", "(", "start the list")]
    elif expect == "after_is":
        found = [Suggestion("keyword", "EMPTY", "EMPTY", "has no value"), Suggestion("keyword", "NOT", "NOT", "")]
    elif expect == "after_is_not":
        found = [Suggestion("keyword", "EMPTY", "EMPTY", "has a value")]
    elif expect in ("value", "list_value"):
        if state.custom is not None:
            return _custom_values(state.custom, prefix, project=project, quoted=quoted)
        return _values(state.spec, prefix, project=project, quoted=quoted)
    elif expect == "after_list_value":
        found = [Suggestion("keyword", ",", ",", "another value"), Suggestion("keyword", ")", ")", "end the list")]
    elif expect == "in_call":
        found = [Suggestion("keyword", ")", ")", "")]
    elif expect == "after_order":
        found = [Suggestion("keyword", "BY", "BY", "")]
    elif expect == "order_field":
        found = _fields(condition=False)
    elif expect == "after_order_field":
        found = [
            Suggestion("keyword", "ASC", "ASC", "lowest first"),
            Suggestion("keyword", "DESC", "DESC", "highest first"),
            Suggestion("keyword", ",", ",", "then by"),
        ]
    elif expect == "after_direction":
        found = [Suggestion("keyword", ",", ",", "then by")]
    return [suggestion for suggestion in found if _starts(suggestion.value, prefix) and not quoted] + extra


def _starts(value: str, prefix: str) -> bool:
    return value.lower().startswith(prefix.lower())


def _fields(*, condition: bool) -> list[Suggestion]:
    """Fields for a condition (those with operators) or for ORDER BY (those that sort)."""
    specs = [spec for spec in FIELDS.values() if (spec.ops if condition else spec.order)]
    return [
        Suggestion("field", spec.name, spec.name.capitalize(), _field_detail(spec))
        for spec in sorted(specs, key=lambda spec: spec.name)
    ]


def _custom_fields(custom: _CustomFields, prefix: str) -> list[Suggestion]:
    """The project's custom fields whose name or key starts with `prefix`."""
    return [
        Suggestion("field", quote(f.name), f.name, f"custom field: {CustomField.Type(f.type).label.lower()}")
        for f in custom.all()
        if _starts(f.name, prefix) or _starts(f.key, prefix)
    ]


def _custom_operators(field: CustomField) -> list[Suggestion]:
    found = [Suggestion("operator", op, op, OPERATOR_WORDS[op]) for op in CUSTOM_OPS[field.type]]
    found += [Suggestion("operator", value, value.replace("(", "(…)"), detail) for value, detail in LIST_AND_EMPTY]
    return found


def _custom_values(field: CustomField, prefix: str, *, project: Project, quoted: bool) -> list[Suggestion]:
    """A select's options, a user field's members, a checkbox's true / false, a date's dates."""
    kind = field.type
    if kind in (CustomField.Type.SELECT, CustomField.Type.MULTI_SELECT):
        return [
            Suggestion("value", quote(option.name), option.name, field.name)
            for option in field.options.all()
            if _starts(option.name, prefix)
        ][:MAX_VALUES]
    if kind == CustomField.Type.USER:
        return _values(FIELDS["assignee"], prefix, project=project, quoted=quoted)
    if kind == CustomField.Type.DATE:
        return _values(FIELDS["due"], prefix, project=project, quoted=quoted)
    if kind == CustomField.Type.CHECKBOX:
        return [Suggestion("value", word, word, field.name) for word in ("true", "false") if _starts(word, prefix)]
    return []


def _field_detail(spec: FieldSpec) -> str:
    words = spec.help or VALUE_WORDS.get(spec.values) or FIELD_WORDS.get(spec.name, "")
    aliases = f" (also {', '.join(spec.aliases)})" if spec.aliases else ""
    return words + aliases


def _operators(spec: FieldSpec | None) -> list[Suggestion]:
    if spec is None or not spec.ops:
        return []
    found = [Suggestion("operator", op, op, OPERATOR_WORDS[op]) for op in spec.ops]
    found += [Suggestion("operator", value, value.replace("(", "(…)"), detail) for value, detail in LIST_AND_EMPTY]
    return found


def _values(spec: FieldSpec | None, prefix: str, *, project: Project, quoted: bool) -> list[Suggestion]:
    if spec is None:
        return []
    kind = spec.values
    found = [
        Suggestion("function", f"{name}()", f"{name}()", detail)
        for name, detail, shown in VALUE_FUNCTIONS.get(kind, ())
        if (shown or prefix) and _starts(name, prefix) and not quoted
    ]
    for value, label, detail in _named_values(kind, prefix, project):
        found.append(Suggestion("value", quote(value), label, detail))
        if len(found) >= MAX_VALUES:
            break
    return found[:MAX_VALUES]


def _named_values(kind: str, prefix: str, project: Project) -> Iterable[tuple[str, str, str]]:
    """(value, label, detail) of `kind` starting with `prefix`, from the project or the language."""
    low = prefix.lower()
    if kind == "person":
        members = (
            project.memberships.filter(user__is_active=True)
            .filter(Q(user__username__istartswith=prefix) | Q(user__display_name__icontains=prefix))
            .order_by("user__username")
            .values_list("user__username", "user__display_name")[: MAX_VALUES * 2]
        )
        for username, display_name in members:
            words = display_name.lower().split()
            if username.lower().startswith(low) or any(word.startswith(low) for word in words):
                yield username, display_name or username, f"@{username}"
    elif kind in ("label", "sprint", "column"):
        model, order = NAMED_VALUES[kind]
        names = (
            model._default_manager.filter(project=project, name__istartswith=prefix)
            .order_by(*order)
            .values_list("name", flat=True)
        )
        detail = VALUE_WORDS[kind]
        for name in names[:MAX_VALUES]:
            yield name, name, detail
    elif kind in ("type", "priority", "status"):
        choices = {"type": Ticket.Type.choices, "priority": Ticket.Priority.choices}.get(kind, Column.Category.choices)
        for value, label in choices:
            if value.startswith(low):
                yield value, str(label), kind
    elif kind == "state":
        for value in STATE_VALUES:
            if value.startswith(low):
                yield value, value.capitalize(), "state"
    elif kind == "project":
        if project.key.lower().startswith(low):
            yield project.key, project.name, "this project"
    elif kind == "date":
        for value, detail in RELATIVE_DATES:
            if value.startswith(prefix):
                yield value, value, detail


def quote(value: str) -> str:
    """`value` as the tokenizer reads it back: bare when it is one plain word, else "quoted"."""
    plain = (
        value
        and not any(char.isspace() or char in _SPECIAL or char in "\"'\\" for char in value)
        and value.lower() not in KEYWORDS
    )
    if plain:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
