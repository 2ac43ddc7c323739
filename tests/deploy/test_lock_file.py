"""The installs are reproducible: every dependency is pinned with hashes in the lock files, which pyproject.toml's
ranges allow, and the scripts, the image and CI install from them (the project itself without resolving again)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
APP_LOCK = REPO / "requirements.lock"
TEST_LOCK = REPO / "requirements-test.lock"


def pins(lock: Path) -> dict[str, tuple[Version, list[str]]]:
    """name -> (version, hashes) of every requirement in a pip-compile lock."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())  # one line per requirement
    found = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        [pin] = requirement.specifier
        assert pin.operator == "==", line
        found[canonicalize_name(requirement.name)] = (Version(pin.version), [o.strip() for o in options])
    return found


def wanted(*extras: str) -> list[Requirement]:
    named = PYPROJECT["dependencies"] + [r for extra in extras for r in PYPROJECT["optional-dependencies"][extra]]
    return [Requirement(r) for r in named]


@pytest.mark.parametrize(("lock", "extras"), [(APP_LOCK, ()), (TEST_LOCK, ("test", "bench"))])
def test_the_lock_pins_every_dependency_pyproject_names_within_its_range(lock: Path, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    for requirement in wanted(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock.name} does not pin {name}"
        assert requirement.specifier.contains(pinned[name][0], prereleases=True), (name, pinned[name][0])
        for extra in requirement.extras:  # psycopg[binary] brings psycopg-binary
            assert any(n.startswith(f"{name}-{extra}") for n in pinned), (name, extra)


@pytest.mark.parametrize("lock", [APP_LOCK, TEST_LOCK])
def test_every_pin_carries_sha256_hashes(lock: Path) -> None:
    for name, (_version, hashes) in pins(lock).items():
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name


def test_the_test_lock_runs_exactly_the_apps_pins() -> None:
    app, test = pins(APP_LOCK), pins(TEST_LOCK)
    assert {name: version for name, (version, _) in app.items()} == {
        name: version for name, (version, _) in test.items() if name in app
    }
    extras = [r for extra in ("test", "bench") for r in PYPROJECT["optional-dependencies"][extra]]
    tools = {canonicalize_name(Requirement(r).name) for r in extras} - {"pyyaml"}  # PyYAML: python-frontmatter's too
    assert not tools & set(app), "a test or bench tool among the app's pins"


def test_the_locks_say_how_they_are_remade() -> None:
    for lock in (APP_LOCK, TEST_LOCK):
        assert "#    bash scripts/lock.sh\n" in lock.read_text()
    script = (REPO / "scripts" / "lock.sh").read_text()
    assert "--generate-hashes" in script and "pyproject.toml" in script
    assert "--output-file requirements.lock" in script and "--output-file requirements-test.lock" in script


# ---- who installs from them --------------------------------------------------------------------------------------


def pip_installs(script: str) -> list[list[str]]:
    """The arguments of each `pip install` in a shell script or a Dockerfile (continuation lines joined)."""
    joined = re.sub(r"\\\n", " ", script)
    return [shlex.split(m) for m in re.findall(r"pip install ([^\n&|;]+)", joined)]


def installs_lock_then_project(script: str, lock: str, project: str) -> bool:
    installs = [[a for a in args if a not in {"--quiet", "--no-cache-dir"}] for args in pip_installs(script)]
    hashed = installs.index(["--require-hashes", "-r", lock]) if ["--require-hashes", "-r", lock] in installs else None
    return hashed is not None and installs[hashed + 1 :] == [["--no-deps", *project.split()]]


@pytest.mark.parametrize(
    ("script", "lock", "project"),
    [
        ("scripts/serve.sh", "requirements.lock", "-e ."),
        ("scripts/test.sh", "requirements-test.lock", "-e ."),
        ("deploy/Dockerfile", "requirements.lock", "."),
    ],
)
def test_scripts_and_the_image_install_the_lock_with_hashes_then_the_project_alone(
    script: str, lock: str, project: str
) -> None:
    text = (REPO / script).read_text()
    assert installs_lock_then_project(text, lock, project), pip_installs(text)


def test_ci_installs_through_the_test_script() -> None:
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_the_image_copies_the_lock_before_installing_it() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert dockerfile.index("COPY requirements.lock") < dockerfile.index("-r requirements.lock")
