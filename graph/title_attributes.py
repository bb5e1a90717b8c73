"""Brands and attribute values read from product titles, for feeds that carry nothing else.

Many shop feeds are id + title (+ price). Their titles still say a lot: sizes and units
(`1-gal.`, `3/4 in.`, `20-Volt`), colours and finishes, materials, and, as their first words,
the brand. Brands are learnt from the catalogue itself: a leading token (extended by the next
token when that token rarely appears anywhere else, as in `Hampton Bay`) that starts the
titles of several products and mostly appears in leading position. Everything extracted is
marked `source: 'title'` in the graph, so it can be told apart from loaded attributes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

TITLE_SOURCE = "title"
BRAND_KEY = "brand"
MIN_BRAND_PRODUCTS = 5
_LEADING_SHARE = 0.5
_EXTENSION_SHARE = 0.7
_MAX_BRAND_TOKENS = 3

_NUMBER = r"(\d+(?:\.\d+)?(?:[-\s]\d+/\d+)?|\d+/\d+|\.\d+)"
# (unit pattern, attribute key, canonical unit); longer units first so `cu. ft.` beats `ft.`.
_UNITS: tuple[tuple[str, str, str], ...] = (
    (r"cu\.?\s*ft\.?", "cubic feet", "cu. ft."),
    (r"sq\.?\s*ft\.?", "square feet", "sq. ft."),
    (r"in\.|inch(?:es)?\b|\"", "inches", "in."),
    (r"ft\.|feet\b|foot\b", "feet", "ft."),
    (r"yd\.|yards?\b", "yards", "yd."),
    (r"gal\.?|gallons?\b", "gallons", "gal."),
    (r"qt\.|quarts?\b", "quarts", "qt."),
    (r"fl\.\s*oz\.|oz\.|ounces?\b", "ounces", "oz."),
    (r"lbs?\.|pounds?\b", "pounds", "lb."),
    (r"mm\b", "millimetres", "mm"),
    (r"cm\b", "centimetres", "cm"),
    (r"volts?\b|v\b", "voltage", "V"),
    (r"watts?\b|w\b", "wattage", "W"),
    (r"amps?\b", "amperage", "A"),
    (r"gauge\b", "gauge", "gauge"),
    (r"btu\b", "btu", "BTU"),
    (r"grit\b", "grit", "grit"),
    (r"gpf\b", "gallons per flush", "GPF"),
    (r"cfm\b", "airflow", "CFM"),
    (r"light\b", "lights", "light"),
    (r"gang\b", "gangs", "gang"),
    (r"piece\b", "pieces", "piece"),
    (r"pack\b", "pack", "pack"),
)
_MEASURE = re.compile(
    rf"(?<![\w/.]){_NUMBER}\s*-?\s*(?:{'|'.join(f'({u})' for u, _, _ in _UNITS)})",
    re.IGNORECASE,
)

COLOURS = (
    "oil rubbed bronze",
    "brushed nickel",
    "satin nickel",
    "polished nickel",
    "polished chrome",
    "polished brass",
    "antique brass",
    "matte black",
    "soft white",
    "bright white",
    "daylight",
    "white",
    "black",
    "brown",
    "red",
    "blue",
    "green",
    "yellow",
    "gray",
    "grey",
    "silver",
    "gold",
    "beige",
    "ivory",
    "almond",
    "bisque",
    "biscuit",
    "bronze",
    "chrome",
    "clear",
    "tan",
    "orange",
    "pink",
    "purple",
    "espresso",
    "charcoal",
    "natural",
)
MATERIALS = (
    "stainless steel",
    "cast iron",
    "wrought iron",
    "galvanized steel",
    "steel",
    "aluminum",
    "brass",
    "copper",
    "iron",
    "wood",
    "plywood",
    "cedar",
    "pine",
    "oak",
    "maple",
    "walnut",
    "cherry",
    "bamboo",
    "vinyl",
    "pvc",
    "cpvc",
    "plastic",
    "resin",
    "fiberglass",
    "concrete",
    "ceramic",
    "porcelain",
    "glass",
    "granite",
    "marble",
    "quartz",
    "rubber",
    "nylon",
    "polyester",
    "cotton",
    "wool",
    "wicker",
    "leather",
    "acrylic",
    "polycarbonate",
    "polypropylene",
)
_NOT_BRANDS = frozenset(COLOURS) | frozenset(MATERIALS) | {"the", "a", "an", "new", "set", "pack"}


def _word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(words, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in ordered) + r")\b", re.IGNORECASE)


_COLOUR = _word_pattern(COLOURS)
_MATERIAL = _word_pattern(MATERIALS)


def _canonical_number(raw: str) -> str:
    """`1 1/2` and `1-1/2` are one size; `.8` is `0.8`."""
    number = re.sub(r"[\s-]+", "-", raw.strip())
    return "0" + number if number.startswith(".") else number


def measures(title: str) -> dict[str, str]:
    """The first value of each unit in the title: {"inches": "3/4 in.", "voltage": "20 V"}."""
    found: dict[str, str] = {}
    for match in _MEASURE.finditer(title):
        unit_index = next(i for i, group in enumerate(match.groups()[1:]) if group is not None)
        _, key, unit = _UNITS[unit_index]
        found.setdefault(key, f"{_canonical_number(match.group(1))} {unit}")
    return found


def _first_word(pattern: re.Pattern[str], title: str) -> str | None:
    match = pattern.search(title)
    return match.group(1).lower() if match else None


def _tokens(title: str) -> list[str]:
    return title.split()


def _brand_like(token: str) -> bool:
    return token[:1].isalpha() and token[:1].isupper() and token.lower() not in _NOT_BRANDS


@dataclass(frozen=True, slots=True)
class BrandVocabulary:
    """Brand names learnt from a catalogue's titles, matched as a title's leading tokens."""

    brands: frozenset[str]

    @classmethod
    def learn(cls, titles: Iterable[str], *, min_products: int = MIN_BRAND_PRODUCTS) -> BrandVocabulary:
        leading: Counter[str] = Counter()
        anywhere: Counter[str] = Counter()
        prefixes: Counter[tuple[str, ...]] = Counter()
        for title in titles:
            tokens = _tokens(title)
            anywhere.update({t.lower() for t in tokens})
            if tokens and _brand_like(tokens[0]):
                leading[tokens[0].lower()] += 1
                for n in range(1, min(_MAX_BRAND_TOKENS, len(tokens)) + 1):
                    prefixes[tuple(tokens[:n])] += 1
        brands: set[str] = set()
        for prefix, count in prefixes.items():
            first = prefix[0].lower()
            if count < min_products or leading[first] < _LEADING_SHARE * anywhere[first]:
                continue
            # Each later token is capitalised and mostly seen right after the shorter prefix
            # (`Hampton Bay`); a third one must also follow it in most of its titles
            # (`Home Decorators Collection`, not the product line `American Standard Berwick`).
            if all(
                _brand_like(t)
                and prefixes[prefix[: i + 1]] >= _LEADING_SHARE * anywhere[t.lower()]
                and (i < 2 or prefixes[prefix[: i + 1]] >= _EXTENSION_SHARE * prefixes[prefix[:i]])
                for i, t in enumerate(prefix[1:], start=1)
            ):
                brands.add(" ".join(prefix))
        return cls(frozenset(brands))

    def match(self, title: str) -> str | None:
        """The longest learnt brand that the title starts with."""
        tokens = _tokens(title)
        for n in range(min(_MAX_BRAND_TOKENS, len(tokens)), 0, -1):
            candidate = " ".join(tokens[:n])
            if candidate in self.brands:
                return candidate
        return None


@dataclass(frozen=True, slots=True)
class TitleFacts:
    brand: str | None
    attributes: dict[str, str]


def extract(title: str, vocabulary: BrandVocabulary) -> TitleFacts:
    """Brand, measures, colour and material that one title states."""
    attributes = measures(title)
    if colour := _first_word(_COLOUR, title):
        attributes["colour"] = colour
    if material := _first_word(_MATERIAL, title):
        attributes["material"] = material
    return TitleFacts(vocabulary.match(title), attributes)
