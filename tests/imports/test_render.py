"""The import's fast path for plain text gives exactly what tickets.markdown.render gives."""

from __future__ import annotations

import random

import pytest

from imports.applier import render
from tickets import markdown

WORDS = ["the", "Login", "fails", "(again)", "5/6", "it's", '"quoted"', "PROJ-12", "a-b", "ok:", "why?", "yes!", "x;"]

SAMPLES = [
    "",
    "one line",
    "two\nlines",
    "para one\n\npara two",
    "a\n\n\n\nb\n",
    "\n\nleading blank lines",
    "Imported from Jira PROJ-123.\nReported by Zed Stranger.",
    "Originally by Tina Trello:\n\nCopy is ready.",
    # Not plain: each must go the parser's way and still come out the same.
    "- a list",
    "1. numbered",
    "10) numbered",
    "heading\n---",
    "    code",
    "hard  \nbreak",
    "*bold*",
    "a & b < c",
    "#12 at the start",
    "see http://example.com/x",
    "trailing space ",
    "tab\tinside",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_samples(text):
    assert render(text) == markdown.render(text, None, set())


def test_random_plain_texts():
    rng = random.Random(21)
    for _ in range(500):
        paragraphs = [
            "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        ]
        text = ("\n" * rng.randint(2, 3)).join(paragraphs)
        assert render(text) == markdown.render(text, None, set()), text
