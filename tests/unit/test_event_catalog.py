"""README's event catalog is the code's: every type, with an example made by the snapshot code."""

from pathlib import Path

from integration.catalog import CATALOG, EventType
from integration.catalog_doc import example, markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_catalog_as_the_code_makes_it() -> None:
    text = README.read_text()
    begin, end = "<!-- events:begin -->\n", "<!-- events:end -->"

    shown = text[text.index(begin) + len(begin) : text.index(end)]

    assert shown == markdown(), "run: python -m integration.catalog_doc, and paste it in README"


def test_every_event_type_has_a_meaning_and_an_example_of_its_own_type() -> None:
    assert set(CATALOG) == set(EventType)
    for event in EventType:
        shown = example(event)
        assert shown["type"] == event.value
        assert shown["aggregate"]["type"] == CATALOG[event].aggregate.value
        assert shown["data"]
