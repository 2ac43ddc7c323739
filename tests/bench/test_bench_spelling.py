"""The typo benchmark (bench/spelling.py) makes its cases from any vault and runs end to end."""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
from pathlib import Path

from rapidfuzz.distance import OSA

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "spelling.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_spelling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_slip_is_one_edit_that_keeps_the_first_letter() -> None:
    bench = load_bench()
    rng = random.Random(3)
    for word in ("theorem", "consent", "market", "vision") * 25:
        typed = bench.slip(word, rng)
        assert typed[0] == word[0]
        assert OSA.distance(word, typed) <= 1


def test_keyboard_neighbours_are_next_to_the_key() -> None:
    bench = load_bench()
    assert set(bench.neighbours("g")) == set("tyfhvb")
    assert set(bench.neighbours("q")) == set("wa")
    assert "g" not in bench.neighbours("g")


def run(vault: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), "--corpus", str(vault), "--cache", str(cache), "--cases", "40"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_runs_on_the_bundled_vault_and_reports_both_rates(tmp_path: Path) -> None:
    done = run(REPO / "notes", tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "40 slips, 40 rare words, seed 7"
    for line in lines[1:]:
        rates = [float(part.split()[-1]) for part in line.split(":", 1)[1].split(",")]
        assert len(rates) == 2 and all(0.0 <= rate <= 1.0 for rate in rates)


def test_a_vault_too_small_for_cases_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "a.md").write_text("---\ntitle: A\n---\n## One\n\nTwo words.\n", encoding="utf-8")
    done = run(tmp_path / "vault", tmp_path / "cache")
    assert done.returncode == 1
    assert "too few words" in done.stderr
