"""Free text for synthetic events (emails, names, notes): faker's, drawn once into a pool.

Each field name gets its first ``POOL`` values from faker, in the order the events ask for them;
later events pick one of those values with a random generator of their own: larger runs repeat
names and emails, as a large customer base does. The same seed gives the same values. Faker
picks from its lists without their population weights: a weighted call cost about 210 µs, an
unweighted one 20 µs, and the pool's first values are made while a streamed run's first
deliveries wait (three fields of a thousand records: 0.65 s weighted).

The values come from several locales, as a real customer base's do: about one name in thirteen
is written with letters beyond ASCII ("Clémence Delaunay", "Janina Łukowicz") and some have an
apostrophe ("Lois O'Carolan"). A receiver that handles only ASCII text — a signature checked
over its own re-serialisation of the body, a Latin-1 header, an ASCII-only column — then meets
such a customer in a run as it would in production, and the same seed still gives the same values.
"""

from __future__ import annotations

import random
import re
from typing import Any

POOL = 1024  # faker calls per field name; past them, values are picked from those made
_WORDS = 1024  # the generator's 32-bit words drawn at once for the picks (about 512 picks)
# faker's locales, each with the share of the values it makes.
LOCALES = {"en_US": 0.7, "en_IE": 0.06, "de_DE": 0.08, "fr_FR": 0.08, "es_ES": 0.04, "pl_PL": 0.04}


# The faker providers ``_fake`` calls (and those they call), out of faker's 26: a Faker of six
# locales made with all of them took 7.5 ms, with these 2.0 ms, its values the same.
FAKER_PROVIDERS = [
    f"faker.providers.{name}"
    for name in ("person", "internet", "company", "phone_number", "address", "lorem")
]


class FakeText:
    """Seeded free text by field name: ``fake_text("email")``. Its faker is made at the first
    value asked for (a source whose fields ask for none makes none), seeded as it is made:
    the same values."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._faker: Any = None
        self._made: dict[str, list[str]] = {}
        self._pick = random.Random(seed)
        self._left: list[int] = []  # picks drawn ahead (``_picks``)

    def _fakes(self) -> Any:
        if self._faker is None:
            from faker import Faker  # heavy import; only when a value is asked for

            self._faker = Faker(LOCALES, providers=FAKER_PROVIDERS, use_weighting=False)
            self._faker.seed_instance(self._seed)
        return self._faker

    def __call__(self, name: str) -> str:
        return self.many(name, 1)[0]

    def many(self, name: str, count: int) -> list[str]:
        """``count`` values for ``name``, as ``count`` calls give them: faker's until the pool
        is full, then picks (``randrange(POOL)``'s draws: 11 random bits, again while they
        are POOL or more, taken here without its call an event)."""
        made = self._made.setdefault(name, [])
        given: list[str] = []
        while len(made) < POOL and len(given) < count:
            made.append(_fake(name, self._fakes()))
            given.append(made[-1])
        if len(given) < count:
            given += map(made.__getitem__, self._picks(count - len(given)))
        return given

    def _picks(self, count: int) -> list[int]:
        """The next ``count`` picks of the run's pool: ``randrange(POOL)``'s draws, each 11
        bits (the top of one 32-bit word of the generator), drawn again while POOL or more.
        Drawn _WORDS words at a time and sieved by numpy (110 ns a pick, where a call each
        took 200): the words left over are the next picks', whatever field asks — the
        generator picks nothing else, so the picks are the same, in the same order."""
        import numpy as np  # here: a source without free text never needs it

        shift = 32 - POOL.bit_length()
        left = self._left
        while len(left) < count:
            words = self._pick.getrandbits(32 * _WORDS).to_bytes(4 * _WORDS, "little")
            drawn = np.frombuffer(words, np.uint32) >> shift
            left += drawn[drawn < POOL].tolist()
        picked = left[:count]
        del left[:count]
        return picked


# A field holding one part of a person's name: ``first_name``, ``lastName``, ``surname``.
PERSON_NAME = re.compile(r"(first|given|last|family|sur)_?name$")


def _fake(name: str, fake: Any) -> str:
    if "email" in name:
        return str(fake.email())
    part = PERSON_NAME.search(name.lower())
    if part is not None:
        first = part.group(1) in ("first", "given")
        return str(fake.first_name() if first else fake.last_name())
    if "company" in name or "organization" in name:
        return str(fake.company())
    if "name" in name:
        return str(fake.name())
    if "phone" in name:
        return str(fake.phone_number())
    if "city" in name:
        return str(fake.city())
    if "address" in name or "street" in name:
        return str(fake.street_address())
    return str(fake.sentence(nb_words=5))
