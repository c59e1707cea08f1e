"""PQL's grammar: a lexer and a recursive-descent parser that turn a query into a tree.

    query      := [or_expr] [ORDER BY order_item ("," order_item)*]
    or_expr    := and_expr (OR and_expr)*
    and_expr   := not_expr ([AND] not_expr)*          -- adjacent terms are ANDed
    not_expr   := NOT not_expr | primary
    primary    := "(" or_expr ")" | predicate | condition | text
    predicate  := IS (BLOCKED | BLOCKING) | HAS (BLOCKERS | DUPLICATES)   -- ticket links
    condition  := FIELD op value          -- FIELD: a word, or a quoted custom field name
                | FIELD [NOT] IN "(" value ("," value)* ")"
                | FIELD IS [NOT] (EMPTY | NULL | NONE)
    op         := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~"
    value      := WORD | STRING | NAME "(" [value ("," value)*] ")"
    order_item := FIELD [ASC | DESC]

A word (or a quoted string: `"Customer tier" = ACME`, a custom field's name) is a field only
when an operator (or IN / NOT IN / IS) follows it; otherwise it is free text,
so plain words ("login crash", "fix: header (mobile)") are a valid query.
Keywords are case-insensitive. This module knows no fields: names are checked when the
tree is compiled (tickets.pql.compiler), which reports the position kept on every node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from punt.errors import Invalid

# Longest first: ">=" before ">".
OPERATORS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "none", "order", "by", "asc", "desc"}
EMPTY_WORDS = {"empty", "null", "none"}
# Two-word conditions on a ticket's links (a word alone, or another pair, stays free text).
PREDICATES = {"is blocked", "is blocking", "has blockers", "has duplicates"}
# Characters that end a bare word; quotes start a string only at the start of a word.
_SPECIAL = set("()=!<>~,")
MAX_QUERY_LENGTH = 2000
MAX_DEPTH = 40


class PqlError(Invalid):
    """A query the language refuses: 400 with the message and the character position."""

    def __init__(self, message: str, position: int, expected: list[str] | None = None) -> None:
        self.position = position
        self.expected = list(expected or [])
        text = f"{message} at {position}" if " at " not in message else message
        detail: dict[str, object] = {"field": "q", "message": text, "position": position}
        if self.expected:
            detail["expected"] = self.expected
        super().__init__(text, details=[detail])  # type: ignore[list-item]


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "(", ")", ",", "end"
    text: str  # the word, the string's content, the operator
    position: int
    end: int

    def keyword(self) -> str | None:
        """The keyword this bare word is, lower-cased; None for anything else."""
        if self.kind == "word" and self.text.lower() in KEYWORDS:
            return self.text.lower()
        return None


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if char in "\"'":
            quote, i, out = char, i + 1, []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n:
                    # An unknown escape keeps its backslash ("C:\dir" stays as typed).
                    out.append(_ESCAPES.get(text[i + 1], text[i : i + 2]))
                    i += 2
                else:
                    out.append(text[i])
                    i += 1
            if i >= n:
                raise PqlError(f"Unterminated string starting at {start}", start, [quote])
            i += 1
            tokens.append(Token("string", "".join(out), start, i))
        elif char in "(),":
            tokens.append(Token(char, char, start, i + 1))
            i += 1
        elif char in "=!<>~":
            op = next((op for op in OPERATORS if text.startswith(op, i)), None)
            if op is None:  # a lone "!"
                raise PqlError(f"Unexpected '!' at {start}", start, ["!=", "!~"])
            tokens.append(Token("op", op, start, start + len(op)))
            i += len(op)
        else:
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            tokens.append(Token("word", text[start:i], start, i))
    tokens.append(Token("end", "", n, n))
    return tokens


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Literal:
    """A word, a quoted string or a number, as written (the field decides what it means)."""

    text: str
    quoted: bool
    position: int


@dataclass(frozen=True)
class Call:
    """A function: me(), openSprint(), startOfWeek(), ..."""

    name: str
    args: tuple[Value, ...]
    position: int


Value = Literal | Call


@dataclass(frozen=True)
class Text:
    """Free text: every word must appear in the title or the body."""

    words: tuple[str, ...]
    position: int


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # "=", "!=", ">", ">=", "<", "<=", "~", "!~"
    value: Value
    position: int
    field_end: int = 0


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[Value, ...]
    negated: bool
    position: int
    field_end: int = 0


@dataclass(frozen=True)
class IsEmpty:
    field: str
    negated: bool
    position: int
    field_end: int = 0


@dataclass(frozen=True)
class Predicate:
    """`is blocked`, `is blocking`, `has blockers`, `has duplicates`: `name` is the two words,
    lower-cased and joined by a space."""

    name: str
    position: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Text | Compare | InList | IsEmpty | Predicate | And | Or | Not
Condition = Compare | InList | IsEmpty


@dataclass(frozen=True)
class OrderItem:
    field: str
    descending: bool
    position: int


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[OrderItem, ...] = field(default=())
    text: str = ""


# --------------------------------------------------------------------------- parser


class Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_QUERY_LENGTH:
            raise PqlError(f"The query is longer than {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH)
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    # helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, expected: list[str], token: Token | None = None) -> PqlError:
        token = token or self.token
        found = "the end of the query" if token.kind == "end" else f"'{self.text[token.position : token.end]}'"
        message = f"Expected {' or '.join(expected)} but found {found} at {token.position}"
        return PqlError(message, token.position, expected)

    def at_keyword(self, *words: str) -> bool:
        return self.token.keyword() in words

    def at_order_by(self) -> bool:
        return self.at_keyword("order") and self.peek().keyword() == "by"

    # grammar
    def parse(self) -> Query:
        where = None
        if self.token.kind not in ("end", ")") and not self.at_order_by():
            where = self.or_expr()
        order: list[OrderItem] = []
        if self.at_order_by():
            self.advance()
            self.advance()
            order.append(self.order_item())
            while self.token.kind == ",":
                self.advance()
                order.append(self.order_item())
        if self.token.kind != "end":
            if self.token.kind == ")":
                position = self.token.position
                raise PqlError(f"Unmatched ')' at {position}", position, ["AND", "OR", "ORDER BY"])
            raise self.fail(["AND", "OR", "ORDER BY", "the end of the query"])
        return Query(where=where, order=tuple(order), text=self.text)

    def order_item(self) -> OrderItem:
        token = self.token
        if token.kind != "word" or token.keyword():
            raise self.fail(["a field to order by"])
        self.advance()
        descending = False
        if self.at_keyword("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        return OrderItem(field=token.text, descending=descending, position=token.position)

    def nest(self) -> None:
        """One more level of parentheses or NOT: bounded, so a query cannot exhaust the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            position = self.token.position
            raise PqlError(f"The query nests deeper than {MAX_DEPTH} levels at {position}", position)

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def starts_term(self) -> bool:
        token = self.token
        if token.kind in ("(", "string"):
            return True
        if token.kind != "word":
            return False
        # Other keywords are plain words outside their place ("work in progress").
        return token.keyword() not in ("and", "or") and not self.at_order_by()

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while True:
            if self.at_keyword("and"):
                self.advance()
                items.append(self.not_expr())
            elif self.starts_term():
                items.append(self.not_expr())
            else:
                break
        merged: list[Node] = []
        for item in items:  # adjacent free words are one text term
            if isinstance(item, Text) and merged and isinstance(merged[-1], Text):
                merged[-1] = Text(merged[-1].words + item.words, merged[-1].position)
            else:
                merged.append(item)
        return merged[0] if len(merged) == 1 else And(tuple(merged))

    def not_expr(self) -> Node:
        if self.at_keyword("not") and not self.is_condition_start():
            self.nest()
            self.advance()
            item = self.not_expr()
            self.depth -= 1
            return Not(item)
        return self.primary()

    def is_condition_start(self) -> bool:
        """A word is a field when an operator, IN (...), NOT IN (...) or IS [NOT] EMPTY follows."""
        if self.token.kind not in ("word", "string"):
            return False
        following = self.peek()
        if following.kind == "op":
            return True
        keyword = following.keyword()
        if keyword == "in":
            return self.peek(2).kind == "("
        if keyword == "not":
            return self.peek(2).keyword() == "in" and self.peek(3).kind == "("
        if keyword == "is":
            after = self.peek(3) if self.peek(2).keyword() == "not" else self.peek(2)
            return after.keyword() in EMPTY_WORDS
        return False

    def primary(self) -> Node:
        token = self.token
        if token.kind == "(":
            self.nest()
            self.advance()
            if self.token.kind == ")":
                raise self.fail(["a condition"])
            inner = self.or_expr()
            if self.token.kind != ")":
                raise self.fail(["')'"] if self.token.kind == "end" else ["AND", "OR", "')'"])
            self.advance()
            self.depth -= 1
            return inner
        if token.kind == "string" and self.is_condition_start():
            return self.condition()
        if token.kind == "string":
            self.advance()
            return Text((token.text,), token.position) if token.text.strip() else And(())
        if token.kind == "word" and self.is_condition_start():
            return self.condition()
        following = self.peek()
        pair = f"{token.text} {following.text}".lower()
        if token.kind == "word" and following.kind == "word" and pair in PREDICATES:
            self.advance()
            self.advance()
            return Predicate(pair, token.position)
        if token.kind == "word" and token.keyword() not in ("and", "or"):
            self.advance()
            return Text((token.text,), token.position)
        raise self.fail(["a field", "text", "'('"])

    def condition(self) -> Condition:
        name = self.advance()
        position, end = name.position, name.end
        if self.token.kind == "op":
            op = self.advance().text
            return Compare(name.text, op, self.value(), position, end)
        keyword = self.advance().keyword()
        if keyword == "is":
            negated = False
            if self.at_keyword("not"):
                self.advance()
                negated = True
            if self.token.keyword() not in EMPTY_WORDS:
                raise self.fail(["EMPTY"])
            self.advance()
            return IsEmpty(name.text, negated, position, end)
        negated = keyword == "not"
        if negated:
            self.advance()  # IN
        if self.token.kind != "(":
            raise self.fail(["'('"])
        self.advance()
        values = [self.value()]
        while self.token.kind == ",":
            self.advance()
            values.append(self.value())
        if self.token.kind != ")":
            raise self.fail(["','", "')'"])
        self.advance()
        return InList(name.text, tuple(values), negated, position, end)

    def value(self) -> Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Literal(token.text, True, token.position)
        if token.kind == "word" and token.keyword() not in ("and", "or", "order"):
            self.advance()
            if self.token.kind == "(" and self.token.position == token.end:
                self.advance()
                args: list[Value] = []
                if self.token.kind != ")":
                    args.append(self.value())
                    while self.token.kind == ",":
                        self.advance()
                        args.append(self.value())
                if self.token.kind != ")":
                    raise self.fail(["')'"])
                self.advance()
                return Call(token.text, tuple(args), token.position)
            return Literal(token.text, False, token.position)
        raise self.fail(["a value"])


def parse(text: str) -> Query:
    """The tree of `text`; PqlError (a 400) with the position for anything malformed."""
    return Parser(text or "").parse()


# Relative dates: -7d, +1d, -2w, -3m, 1y (m is months; minutes make no sense for dates).
RELATIVE_DATE = re.compile(r"^([+-]?)(\d{1,4})([dwmy])$", re.IGNORECASE)
