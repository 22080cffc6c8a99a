"""Task names: Coder's validation rule and its two ways of generating a name."""

from __future__ import annotations

import random
import re

_NAME = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")

# Docker-style "adjective_surname" words for the fallback name.
_ADJECTIVES = (
    "admiring", "brave", "clever", "dazzling", "eager", "festive", "gallant", "happy",
    "jolly", "keen", "lucid", "mystifying", "nifty", "optimistic", "quirky", "serene",
    "trusting", "vibrant", "wizardly", "zealous",
)  # fmt: skip
_SURNAMES = (
    "babbage", "curie", "darwin", "euler", "fermi", "goldberg", "hopper", "hypatia",
    "kepler", "lovelace", "meitner", "noether", "pascal", "ritchie", "shannon", "turing",
    "wilson", "yonath",
)  # fmt: skip


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid task name (Coder's detail text), or None when it is."""
    if len(name) > 32:
        return "must be <= 32 characters"
    if len(name) < 1:
        return "must be >= 1 character"
    if name in ("new", "create"):
        return f'cannot use "{name}" as a name'
    if not _NAME.match(name):
        return "must be alphanumeric with hyphens"
    return None


def _hex4(rng: random.Random) -> str:
    return f"{rng.getrandbits(16):04x}"


def _moby_name(rng: random.Random) -> str:
    middle = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_SURNAMES)}"[:22].rstrip("-")
    return middle


def fallback_name(rng: random.Random, *, prefix: str) -> str:
    """`<prefix><adjective>-<surname>-<4 hex>` (v2.28 uses prefix `task-`, GA none)."""
    return f"{prefix}{_moby_name(rng)}-{_hex4(rng)}"


def _cut_at_word(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    if text[limit] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(), True


def _collapse(prompt: str) -> str:
    return " ".join(prompt.split())


def name_from_prompt(prompt: str, rng: random.Random) -> str:
    """GA's name for a prompt: its first words as a slug plus `-<4 hex>`."""
    head, _ = _cut_at_word(_collapse(prompt), 27)
    slug = re.sub(r"\s+", "-", head.lower())
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    slug = re.sub(r"-+", "-", slug).strip("-")
    if not slug:
        return fallback_name(rng, prefix="")
    return f"{slug}-{_hex4(rng)}"


def display_name_from_prompt(prompt: str) -> str:
    """GA's display name: the prompt cut to 64 characters on a word boundary, capitalised."""
    text, was_cut = _cut_at_word(_collapse(prompt), 64)
    if was_cut:
        text = text[:63].rstrip() + "…"
    return text[:1].upper() + text[1:]
