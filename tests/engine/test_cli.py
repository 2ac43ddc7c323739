"""The `notesbot` command line, run as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.engine.vaults import write

VAULT = Path(__file__).parent.parent / "fixtures" / "vault"


def notesbot(*args: str, stdin: str | None = None, cache: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"NOTESBOT_CACHE_DIR": str(cache)}
    env.pop("NOTES_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_search_on_the_bundled_vault_answers_computer_vision(tmp_path: Path) -> None:
    result = notesbot("search", "computer vision", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[0]
    assert "Computer Vision and Robotics" in first
    assert "https://www.youtube.com/watch?v=s3MuSOl1Rog&t=2280s" in first
    assert "38:00" in first


def test_search_json_gives_hits_as_data(tmp_path: Path) -> None:
    result = notesbot("search", "computer vision", "--json", "--limit", "1", cache=tmp_path)
    hit = json.loads(result.stdout)["hits"][0]
    assert hit["note"] == "lexfridman/applications_of_deep_learning.md"
    assert hit["heading"] == "Computer Vision and Robotics"
    assert hit["timestamp"] == 2280 and hit["url"].endswith("t=2280s")


def test_search_says_how_misspelt_words_were_read(tmp_path: Path) -> None:
    result = notesbot("search", "computr vison", "--limit", "1", cache=tmp_path)
    assert result.stdout.startswith("Read as: computr → computer, vison → vision\n")
    assert "Computer Vision and Robotics" in result.stdout
    as_json = json.loads(notesbot("search", "computr vison", "--json", cache=tmp_path).stdout)
    assert as_json["corrections"] == {"computr": "computer", "vison": "vision"}


def test_search_explain_shows_each_hit_s_fields_features_weights_and_parts(tmp_path: Path) -> None:
    result = notesbot("search", "--explain", "--limit", "2", "computr vison", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Read as: computr → computer, vison → vision\n2 terms: a keyword query. Weights: ")
    hits = out.split("\n1. ", 1)[1].split("\n2. ")
    assert len(hits) == 2 and hits[0].startswith("Applications of deep learning — Computer Vision and Robotics")
    first = hits[0].splitlines()
    stage = next(line for line in first if "first stage:" in line).split()
    section, note, total = float(stage[3]), float(stage[6]), float(stage[8])
    assert abs(section + note - total) < 0.002
    table = [line.split() for line in first if line.startswith("   ") and len(line.split()) == 4]
    assert table[0] == ["feature", "value", "weight", "part"]
    rows = {name: numbers for name, *numbers in table[1:]}
    assert set(rows) == {"first_stage", "keyword_coverage", "question_coverage", "introduction", "no_moment", "phrase"}
    assert all(abs(float(value) * float(weight) - float(part)) < 0.002 for value, weight, part in rows.values())
    summed = next(line for line in first if line.lstrip().startswith("ln score")).split()[2]
    assert abs(sum(float(part) for _, _, part in rows.values()) - float(summed)) < 0.005


def test_batch_answers_one_json_line_per_query_line(tmp_path: Path) -> None:
    result = notesbot(
        "search",
        "--batch",
        "--notes",
        str(VAULT),
        "--limit",
        "3",
        stdin="occlusion pedestrians\n\nsourdough starter\n",
        cache=tmp_path,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["occlusion pedestrians", "", "sourdough starter"]
    assert lines[0]["hits"][0]["heading"] == "Perception"
    assert lines[1]["hits"] == []
    assert set(lines[2]["hits"][0]) >= {"note", "heading", "title", "score", "url", "timestamp"}


def test_twins_are_listed_in_place_by_batch_nested_by_json_and_named_by_the_text_and_explain(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    body = '## Tides\n\nThe moon pulls the oceans into tides <a class="yt-timestamp" data-t="05:00">[05:00]</a>.\n'
    for name in ("a", "b"):
        write(vault, f"{name}.md", f"---\ntitle: Moon {name}\nvideoId: moonvideo01\n---\n{body}")
    write(vault, "c.md", "---\ntitle: Other\nvideoId: othervideo1\n---\n## Tides elsewhere\n\nTides and the moon.\n")

    def search(*args: str, stdin: str | None = None) -> str:
        return notesbot("search", "--notes", str(vault), *args, stdin=stdin, cache=tmp_path / "cache").stdout

    listed = json.loads(search("--batch", stdin="moon tides\n"))["hits"]
    assert [(h["note"], h.get("twin_of")) for h in listed] == [("a.md", None), ("b.md", 1), ("c.md", None)]
    as_json = json.loads(search("--json", "moon tides"))
    assert [h["note"] for h in as_json["hits"]] == ["a.md", "c.md"]
    assert [t["note"] for t in as_json["hits"][0]["twins"]] == ["b.md"] and "twins" not in as_json["hits"][1]
    assert "   also in: Moon b\n" in search("moon tides")
    assert "   also in: Moon b\n" in search("--explain", "moon tides")


def test_nothing_found_says_so(tmp_path: Path) -> None:
    result = notesbot("search", "--notes", str(VAULT), "zzyzx", cache=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("Nothing found for 'zzyzx'.")


def test_check_lists_problems_as_path_line_message_and_fails_on_errors(tmp_path: Path) -> None:
    result = notesbot("check", "--notes", str(VAULT), cache=tmp_path)
    assert result.returncode == 1
    assert "cooking/broken_yaml.md:2: error: broken YAML front matter" in result.stdout
    assert "cooking/sourdough.md:12: warning: unreadable timestamp 'N/A': skipped" in result.stdout
    assert "5 notes" in result.stderr


def test_check_passes_a_clean_vault(tmp_path: Path) -> None:
    vault = tmp_path / "clean"
    vault.mkdir()
    (vault / "a.md").write_text("---\ntitle: A\nvideoId: aaaaaaaaaaa\n---\n## One\n\nText.\n")
    assert notesbot("check", "--notes", str(vault), cache=tmp_path / "cache").returncode == 0


def test_missing_notes_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = notesbot("search", "--notes", str(tmp_path / "nope"), "x", cache=tmp_path)
    assert result.returncode == 2
    assert "NOTES_DIR: no folder at" in result.stderr
