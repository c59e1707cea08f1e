"""PQL's grammar on its edge cases, through tickets.pql.parse (no database).

Each tree is written in a compact form: `field=value`, `(and ...)`, `(or ...)`, `(not ...)`,
`text[words]`, `field in (...)`, `field is empty`; quoted values keep their quotes.
"""

from __future__ import annotations

import pytest

from tickets.pql import PqlError, parse
from tickets.pql import syntax as s


def tree(node: object) -> str:
    if isinstance(node, s.Literal):
        return repr(node.text) if node.quoted else node.text
    if isinstance(node, s.Call):
        return f"{node.name}({','.join(tree(arg) for arg in node.args)})"
    if isinstance(node, s.Compare):
        return f"{node.field}{node.op}{tree(node.value)}"
    if isinstance(node, s.InList):
        return f"{node.field} {'not in' if node.negated else 'in'} ({','.join(tree(v) for v in node.values)})"
    if isinstance(node, s.IsEmpty):
        return f"{node.field} is {'not ' if node.negated else ''}empty"
    if isinstance(node, s.Text):
        return "text[" + "|".join(node.words) + "]"
    if isinstance(node, s.And):
        return "(and " + " ".join(tree(item) for item in node.items) + ")"
    if isinstance(node, s.Or):
        return "(or " + " ".join(tree(item) for item in node.items) + ")"
    if isinstance(node, s.Not):
        return f"(not {tree(node.item)})"
    raise AssertionError(node)


TREES = [
    # precedence and implicit AND
    ("a = 1 OR b = 2 AND c = 3", "(or a=1 (and b=2 c=3))"),
    ("a = 1 AND b = 2 OR c = 3", "(or (and a=1 b=2) c=3)"),
    ("type = bug priority = high", "(and type=bug priority=high)"),
    ("a = 1 OR b = 2 c = 3", "(or a=1 (and b=2 c=3))"),
    ("(a = 1 OR b = 2) c = 3", "(and (or a=1 b=2) c=3)"),
    ("a = 1 OR (b = 2 OR c = 3)", "(or a=1 (or b=2 c=3))"),
    ("((a = 1))", "a=1"),
    # NOT
    ("NOT a = 1 AND b = 2", "(and (not a=1) b=2)"),
    ("NOT (a = 1 OR b = 2)", "(not (or a=1 b=2))"),
    ("not not a = 1", "(not (not a=1))"),
    ("a != 'x' AND NOT b ~ y", "(and a!='x' (not b~y))"),
    # keywords in any case
    ("Type = Bug AnD Priority >= HIGH oR NoT label = x", "(or (and Type=Bug Priority>=HIGH) (not label=x))"),
    ("a in (x) OR b Is Not Null", "(or a in (x) b is not empty)"),
    # every operator
    ("a = 1 a != 1 a > 1 a >= 1 a < 1 a <= 1 a ~ x a !~ x", "(and a=1 a!=1 a>1 a>=1 a<1 a<=1 a~x a!~x)"),
    ("a=1", "a=1"),
    ("a>=2026-12-31", "a>=2026-12-31"),
    # strings
    ('title = "he said \\"hi\\""', "title='he said \"hi\"'"),
    ("title = 'it\\'s'", 'title="it\'s"'),
    ("title = 'x\"y'", "title='x\"y'"),
    ('title = "tab\\there"', "title='tab\\there'"),
    ('title = "back\\\\slash"', "title='back\\\\slash'"),
    ('title = "C:\\dir"', "title='C:\\\\dir'"),  # an unknown escape keeps its backslash
    ('title = "and"', "title='and'"),
    ('title = "a (b) = c"', "title='a (b) = c'"),
    # IN / NOT IN / IS
    ('a IN (x, "y z", 3)', "a in (x,'y z',3)"),
    ("a NOT IN (x)", "a not in (x)"),
    ("a not in (x, y)", "a not in (x,y)"),
    ("a IS EMPTY", "a is empty"),
    ("a is not null", "a is not empty"),
    ("a IS NONE", "a is empty"),
    ("a IS NOT EMPTY b = 1", "(and a is not empty b=1)"),
    # free text, with words that are keywords elsewhere
    ("login crash", "text[login|crash]"),
    ("work in progress", "text[work|in|progress]"),
    ("login is broken", "text[login|is|broken]"),
    ("order", "text[order]"),
    ("empty", "text[empty]"),
    ("fix: header (mobile)", "text[fix:|header|mobile]"),
    ('"quoted phrase" word', "text[quoted phrase|word]"),
    ("a = b c", "(and a=b text[c])"),
    ('crash type = bug "null pointer"', "(and text[crash] type=bug text[null pointer])"),
    ("not working", "(not text[working])"),
    # functions
    ("assignee = me()", "assignee=me()"),
    ("assignee = currentUser()", "assignee=currentUser()"),
    ("sprint in (openSprint(), closedSprints())", "sprint in (openSprint(),closedSprints())"),
    ("a = f(1, 'two')", "a=f(1,'two')"),
    ("a = f (1)", "(and a=f text[1])"),
    # relative dates are values, read by the field
    ("due < -7d", "due<-7d"),
    ("due > +1w", "due>+1w"),
    ("updated <= -3m", "updated<=-3m"),
]


@pytest.mark.parametrize(("text", "expected"), TREES, ids=[text for text, _ in TREES])
def test_tree(text, expected):
    assert tree(parse(text).where) == expected


ORDERS = [
    ("ORDER BY priority DESC, created asc, key", None, [("priority", True), ("created", False), ("key", False)]),
    ("type = bug order by priority", "type=bug", [("priority", False)]),
    ("a = 1 OrDeR bY b dEsC", "a=1", [("b", True)]),
    ("login ORDER BY updated DESC", "text[login]", [("updated", True)]),
    ("", None, []),
]


@pytest.mark.parametrize(("text", "where", "order"), ORDERS, ids=[text or "empty" for text, _w, _o in ORDERS])
def test_order_by(text, where, order):
    query = parse(text)
    assert (tree(query.where) if query.where is not None else None) == where
    assert [(item.field, item.descending) for item in query.order] == order


def test_positions_are_kept():
    query = parse("type = bug  label IN (x) ORDER BY  due")
    assert isinstance(query.where, s.And)
    first, second = query.where.items
    assert (first.position, first.field_end, first.value.position) == (0, 4, 7)
    assert (second.position, second.values[0].position) == (12, 22)
    assert query.order[0].position == 35


ERRORS = [
    # text, position, expected, message fragment
    ('"open', 0, ['"'], "Unterminated string starting at 0"),
    ("title = 'open", 8, ["'"], "Unterminated string starting at 8"),
    ("(a = 1", 6, ["')'"], "Expected ')' but found the end of the query at 6"),
    ("(a = 1 b", 8, ["')'"], "Expected ')'"),
    ("a = 1)", 5, ["AND", "OR", "ORDER BY"], "Unmatched ')' at 5"),
    (")", 0, ["AND", "OR", "ORDER BY"], "Unmatched ')' at 0"),
    ("a ! b", 2, ["!=", "!~"], "Unexpected '!' at 2"),
    ("!", 0, ["!=", "!~"], "Unexpected '!' at 0"),
    ("a =", 3, ["a value"], "Expected a value but found the end of the query at 3"),
    ("a = )", 4, ["a value"], "Expected a value but found ')' at 4"),
    ("a = and", 4, ["a value"], "Expected a value but found 'and' at 4"),
    ("a = ORDER BY b", 4, ["a value"], "Expected a value"),
    ("()", 1, ["a condition"], "Expected a condition but found ')' at 1"),
    ("not", 3, ["a field", "text", "'('"], "the end of the query at 3"),
    ("a = 1 OR", 8, ["a field", "text", "'('"], "at 8"),
    ("AND a = 1", 0, ["a field", "text", "'('"], "found 'AND' at 0"),
    ("a IN ()", 6, ["a value"], "Expected a value but found ')' at 6"),
    ("a IN (x", 7, ["','", "')'"], "Expected ',' or ')'"),
    ("a IN (x,", 8, ["a value"], "at 8"),
    ("a = me(", 7, ["a value"], "at 7"),
    ("a = f(x", 7, ["')'"], "Expected ')'"),
    ("order by", 8, ["a field to order by"], "Expected a field to order by"),
    ("ORDER BY a,", 11, ["a field to order by"], "at 11"),
    ("ORDER BY desc", 9, ["a field to order by"], "found 'desc' at 9"),
    ("ORDER BY a ASC DESC", 15, ["AND", "OR", "ORDER BY", "the end of the query"], "found 'DESC' at 15"),
    ("a = 1 ORDER BY a b = 2", 17, ["AND", "OR", "ORDER BY", "the end of the query"], "found 'b' at 17"),
    ("a = x,", 5, ["AND", "OR", "ORDER BY", "the end of the query"], "found ',' at 5"),
    ("a = 1 = 2", 6, ["AND", "OR", "ORDER BY", "the end of the query"], "found '=' at 6"),
    ("x" * (s.MAX_QUERY_LENGTH + 1), s.MAX_QUERY_LENGTH, [], "longer than 2000 characters"),
    ("(" * (s.MAX_DEPTH + 1) + "a=1" + ")" * (s.MAX_DEPTH + 1), s.MAX_DEPTH, [], "nests deeper than 40 levels"),
    ("NOT " * (s.MAX_DEPTH + 1) + "a=1", 4 * s.MAX_DEPTH, [], "nests deeper than 40 levels"),
]


@pytest.mark.parametrize(("text", "position", "expected", "message"), ERRORS, ids=[text[:30] for text, *_ in ERRORS])
def test_error(text, position, expected, message):
    with pytest.raises(PqlError) as caught:
        parse(text)
    error = caught.value
    assert error.position == position
    assert error.expected == expected
    assert message in error.message
    assert error.details == [
        {"field": "q", "message": error.message, "position": position, **({"expected": expected} if expected else {})}
    ]


def test_deepest_nesting_allowed():
    depth = s.MAX_DEPTH
    assert tree(parse("(" * depth + "a=1" + ")" * depth).where) == "a=1"
    assert tree(parse("NOT " * depth + "a=1").where).count("(not") == depth


def test_longest_query_allowed():
    assert tree(parse("x" * s.MAX_QUERY_LENGTH).where) == "text[" + "x" * s.MAX_QUERY_LENGTH + "]"


def test_blank_query_matches_everything():
    assert parse("   ").where is None
    assert tree(parse('""').where) == "(and )"
