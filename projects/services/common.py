"""What the projects services share: the user model, role names, palette and validators."""

from __future__ import annotations

import re
import zlib
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from projects.models import Membership, OrganizationMembership
from punt.errors import invalid as _invalid

User = get_user_model()
Role = Membership.Role
OrgRole = OrganizationMembership.Role

# Distinct, readable on white and dark backgrounds (Tailwind 500s, as in seed 001's examples).
PALETTE = (
    "#3B82F6",
    "#EF4444",
    "#22C55E",
    "#F59E0B",
    "#8B5CF6",
    "#EC4899",
    "#14B8A6",
    "#F97316",
    "#6366F1",
    "#84CC16",
    "#06B6D4",
    "#A855F7",
)

COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Ranks are sparse so a card move writes one row (tickets/ uses the same gap).
RANK_GAP = 1024

# "Argument not given" for the optional arguments where None means "clear it".
_UNSET: Any = object()


def _check_choice(field: str, value: str, choices: type[models.TextChoices]) -> str:
    """Refuse a word the model does not know (pages and commands call services without a serializer)."""
    if value not in choices.values:
        raise _invalid(field, f"'{value}' is not one of: {', '.join(choices.values)}.")
    return value


def color_validate(color: str) -> str:
    if not COLOR_RE.match(color or ""):
        raise _invalid("color", "Use a hex colour like #3B82F6.")
    return color.upper()


def color_pick(seed: str) -> str:
    """A palette colour chosen from `seed`, so the same name keeps the same colour."""
    return PALETTE[zlib.crc32(seed.lower().encode()) % len(PALETTE)]
