"""The interface words' catalogs: each shipped compiled catalog says what its .po says."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import icalpub
from icalpub.i18n import COMPILE, LANGUAGES, translations

LOCALE = Path(icalpub.__file__).parent / "locale"


def messages(catalog: Catalog) -> dict[object, object]:
    """Return a catalog's translated messages (id → text), fuzzy ones left out as compiling does."""
    return {_plain(m.id): _plain(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def _plain(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value  # a plural's forms


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_shipped_compiled_catalog_says_what_its_po_file_says(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as handle:
        written = read_po(handle, locale=language)
    with open(folder / "messages.mo", "rb") as handle:
        compiled = read_mo(handle)
    assert messages(compiled) == messages(written), f"run `{COMPILE}`"
    assert compiled.plural_forms == written.plural_forms, f"run `{COMPILE}`"


def test_the_service_says_every_latvian_message_of_the_po_file() -> None:
    with open(LOCALE / "lv" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        written = messages(read_po(handle, locale="lv"))
    said = translations("lv")
    assert len(written) > 100
    for message, text in written.items():
        if isinstance(message, tuple):  # a plural: its singular and plural forms
            assert isinstance(text, tuple)
            assert [said.ngettext(message[0], message[1], n) for n in (1, 2, 0)] == [
                text[0],
                text[1],
                text[2],
            ]
        else:
            assert said.gettext(str(message)) == text
