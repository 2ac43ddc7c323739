"""Records of the engine pickle as their class and fields, and read back as the same records."""

import pickle
from pathlib import Path

from bot.engine.vault import list_notes, parse_file

VAULT = Path(__file__).parent.parent / "fixtures" / "vault"


def test_parsed_notes_read_back_from_a_pickle_equal_to_what_was_parsed() -> None:
    parsed = [parse_file(VAULT, path, stamp) for path, stamp in list_notes(VAULT).items()]
    assert [pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL)) for record in parsed] == parsed


def test_a_section_is_pickled_as_its_class_and_fields_in_order() -> None:
    note = parse_file(VAULT, "science/self_driving_cars.md", list_notes(VAULT)["science/self_driving_cars.md"]).note
    section = note.sections[1]
    assert section.__reduce__() == (
        type(section),
        (section.heading, section.path, section.level, section.text, section.timestamps, section.line),
    )
