"""Every file of deploy/ is well-formed, and agrees with the others, with bot/config.py and with pyproject.toml.

There is no Docker engine or cluster here: the files are parsed and checked statically.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.cli import _parser
from bot.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
# The environment variable names bot/config.py reads.
SETTINGS = {(field.validation_alias or name).upper() for name, field in Settings.model_fields.items()}


def test_the_settings_names_are_read_from_bot_config() -> None:
    assert {"SLACK_SIGNING_SECRET", "NOTES_DIR", "NOTESBOT_CACHE_DIR", "DATABASE_URL", "PORT"} <= SETTINGS


# ---- Dockerfile ------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            found.append((instruction.upper(), " ".join(arguments.split())))
    return found


def docker_env() -> dict[str, str]:
    env = {}
    for instruction, arguments in dockerfile():
        if instruction == "ENV":
            env |= dict(part.split("=", 1) for part in shlex.split(arguments))
    return env


def exec_form(arguments: str) -> list[str]:
    return yaml.safe_load(arguments)  # a JSON array, which YAML reads


def instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def test_the_image_is_python_3_11_slim_as_pyproject_requires() -> None:
    assert instructions("FROM") == ["python:3.11-slim"]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11"


def test_the_image_installs_the_project_with_pip_from_the_files_it_copies() -> None:
    copied = [shlex.split(arguments)[:-1] for arguments in instructions("COPY")]
    sources = [source for sources in copied for source in sources]
    assert {"requirements.lock", "pyproject.toml", "bot"} <= set(sources)
    assert all((REPO / source).exists() for source in sources), sources
    assert any(re.search(r"\bpip install (--no-cache-dir )?--no-deps \.( |$)", run) for run in instructions("RUN"))


def test_the_build_context_ignore_file_lets_the_copied_files_through() -> None:
    patterns = [p for p in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if p and p[0] != "#"]
    for source in ("requirements.lock", "pyproject.toml", "README.md", "bot/", "bot/migrations/env.py"):
        included = False
        for pattern in patterns:  # last match wins, as in Docker
            negated = pattern.startswith("!")
            bare = pattern.lstrip("!")
            if fnmatch(source, bare) or (bare.endswith("/") and source.startswith(bare)):
                included = negated
        assert included, source


def test_the_image_runs_as_a_non_root_user_it_creates() -> None:
    users = instructions("USER")
    assert users and users[-1] not in {"root", "0"}
    assert any("useradd" in run and users[-1] in run for run in instructions("RUN"))
    order = [instruction for instruction, _ in dockerfile()]
    assert order.index("USER") < order.index("CMD")


def test_the_image_keeps_the_index_cache_and_its_database_on_volumes_it_may_write() -> None:
    env = docker_env()
    assert set(env) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK"} <= SETTINGS
    sqlite_folder = str(Path(make_url(env["DATABASE_URL"]).database).parent)
    assert exec_form(instructions("VOLUME")[0]) == [env["NOTESBOT_CACHE_DIR"], sqlite_folder]
    assert any(f"chown notesbot {env['NOTESBOT_CACHE_DIR']} {sqlite_folder}" in run for run in instructions("RUN"))
    assert instructions("EXPOSE") == [env["PORT"]]


def test_the_healthcheck_asks_healthz_on_the_port_the_bot_listens_on() -> None:
    [healthcheck] = instructions("HEALTHCHECK")
    assert "CMD" in healthcheck and "/healthz" in healthcheck
    assert "os.environ.get('PORT', '3000')" in healthcheck
    assert docker_env()["PORT"] == str(Settings.model_fields["port"].default)


def test_the_image_starts_notesbot_serve_a_command_that_exists() -> None:
    command = exec_form(instructions("CMD")[0])
    assert command == ["notesbot", "serve"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["notesbot"] == "bot.cli:main"
    assert hasattr(_parser().parse_args(command[1:]), "run")


def test_the_migrations_the_server_runs_at_start_are_packaged() -> None:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bot"]
    for path in (REPO / "bot" / "migrations").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(REPO / "bot").as_posix()
            assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def test_the_readme_build_command_is_the_one_the_dockerfile_states() -> None:
    readme = (DEPLOY / "README.md").read_text()
    stated = re.search(r"docker build -f deploy/Dockerfile -t notesbot \.", (DEPLOY / "Dockerfile").read_text())
    assert stated and stated.group(0) in readme
    assert "no docker engine" in readme.lower()


# ---- docker-compose.yml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def bots(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if s.get("image") == "notesbot:latest"}


def compose_mount(volume: str) -> tuple[str, str, str]:
    """`source:target[:mode]`, where the source may hold `${VAR:-default}` (colons included)."""
    match = re.fullmatch(r"(.+):(/[^:]*)(?::(ro|rw))?", volume)
    assert match, volume
    return match.group(1), match.group(2), match.group(3) or "rw"


def test_compose_runs_two_bot_replicas_built_from_the_dockerfile(compose: dict) -> None:
    replicas = bots(compose)
    assert len(replicas) == 2
    for service in replicas.values():
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert context == REPO
        assert (context / service["build"]["dockerfile"]).is_file()


def test_compose_bots_read_only_settings_bot_config_knows(compose: dict) -> None:
    for service in bots(compose).values():
        assert set(service["environment"]) <= SETTINGS


def test_compose_mounts_the_notes_read_only_and_the_cache_on_a_volume(compose: dict) -> None:
    for service in bots(compose).values():
        env = service["environment"]
        mounts = {target: (source, mode) for source, target, mode in map(compose_mount, service["volumes"])}
        assert mounts[env["NOTES_DIR"]][1] == "ro"
        assert mounts[env["NOTESBOT_CACHE_DIR"]][0] in compose["volumes"]


def test_compose_bots_share_the_postgresql_service(compose: dict) -> None:
    for service in bots(compose).values():
        url = urlparse(service["environment"]["DATABASE_URL"].replace("${POSTGRES_PASSWORD:-notesbot}", "pw"))
        assert url.scheme == "postgresql"
        database = compose["services"][url.hostname]
        assert database["image"].startswith("postgres:")
        assert url.path.lstrip("/") == database["environment"]["POSTGRES_DB"]
        assert service["depends_on"][url.hostname]["condition"] == "service_healthy"
        assert "healthcheck" in database


def test_compose_puts_one_port_in_front_of_both_replicas(compose: dict) -> None:
    proxy = compose["services"]["proxy"]
    [published] = proxy["ports"]
    assert published.endswith(":80")
    assert any(v.startswith("./nginx.conf:") and v.endswith(":ro") for v in proxy["volumes"])
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"listen 80;", nginx)
    upstream = set(re.findall(r"server (\S+?):(\d+)", nginx))
    assert upstream == {(name, service["environment"]["PORT"]) for name, service in bots(compose).items()}


# ---- docker-compose.socket-mode.yml -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def socket_compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.socket-mode.yml").read_text())


def test_socket_mode_compose_runs_one_bot_with_the_app_token_and_no_open_port(socket_compose: dict) -> None:
    [bot] = socket_compose["services"].values()
    assert (DEPLOY / bot["build"]["context"]).resolve() == REPO and bot["image"] == "notesbot:latest"
    env = bot["environment"]
    assert set(env) <= SETTINGS and "SLACK_APP_TOKEN" in env and "SLACK_SIGNING_SECRET" not in env
    assert "ports" not in bot  # Slack's requests come over the socket; the probes stay inside the container
    sqlite_folder = str(Path(make_url(env["DATABASE_URL"]).database).parent)
    mounts = {target: source for source, target, _mode in map(compose_mount, bot["volumes"])}
    assert {mounts[sqlite_folder], mounts[env["NOTESBOT_CACHE_DIR"]]} <= set(socket_compose["volumes"])
    assert compose_mount(next(v for v in bot["volumes"] if ":/notes" in v))[2] == "ro"


def test_socket_mode_compose_restarts_the_bot_when_it_exits_and_checks_readyz(socket_compose: dict) -> None:
    [bot] = socket_compose["services"].values()
    assert bot["restart"] == "unless-stopped"  # notesbot exits when its link has been down too long
    probe = " ".join(bot["healthcheck"]["test"])
    assert "/readyz" in probe and "os.environ.get('PORT', '3000')" in probe
    assert bot["environment"]["PORT"] == str(Settings.model_fields["port"].default)


# ---- Kubernetes ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict]:
    documents = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(document), path
            documents[document["kind"]] = document
    return documents


def pod(manifests: dict[str, dict]) -> dict:
    return manifests["Deployment"]["spec"]["template"]


def container(manifests: dict[str, dict]) -> dict:
    [only] = pod(manifests)["spec"]["containers"]
    return only


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_the_cluster_has_every_object_the_bot_needs(manifests: dict[str, dict]) -> None:
    expected = {"Deployment", "Service", "Ingress", "ConfigMap", "Secret", "PodDisruptionBudget"}
    assert expected <= set(manifests)


def test_the_deployment_runs_three_replicas_of_notesbot_serve(manifests: dict[str, dict]) -> None:
    deployment = manifests["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod(manifests)["metadata"]["labels"].items()
    assert container(manifests)["args"] == exec_form(instructions("CMD")[0])
    assert pod(manifests)["spec"]["securityContext"]["runAsNonRoot"] is True


def test_probes_ask_readyz_and_healthz_on_the_port_the_bot_listens_on(manifests: dict[str, dict]) -> None:
    bot = container(manifests)
    ports = {port["name"]: port["containerPort"] for port in bot["ports"]}
    assert str(ports["http"]) == manifests["ConfigMap"]["data"]["PORT"]
    assert bot["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert bot["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_settings_come_from_the_configmap_and_the_secret_with_names_bot_config_reads(
    manifests: dict[str, dict],
) -> None:
    sources = {
        next(iter(source.values()))["name"]: kind for source in container(manifests)["envFrom"] for kind in source
    }
    assert sources == {
        manifests["ConfigMap"]["metadata"]["name"]: "configMapRef",
        manifests["Secret"]["metadata"]["name"]: "secretRef",
    }
    assert set(manifests["ConfigMap"]["data"]) <= SETTINGS
    assert set(manifests["Secret"]["stringData"]) <= SETTINGS
    secret_names = {"DATABASE_URL", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET"}
    assert not secret_names & set(manifests["ConfigMap"]["data"]), "secrets do not belong in the ConfigMap"


def test_the_secret_holds_placeholders_not_credentials(manifests: dict[str, dict]) -> None:
    for name, value in manifests["Secret"]["stringData"].items():
        assert "CHANGE-ME" in value, name
        assert not re.search(r"xox[abpe]-|xapp-", value), name


def test_the_notes_are_mounted_read_only_where_notes_dir_points(manifests: dict[str, dict]) -> None:
    mounts = {m["mountPath"]: m for m in container(manifests)["volumeMounts"]}
    settings = manifests["ConfigMap"]["data"]
    assert mounts[settings["NOTES_DIR"]]["readOnly"] is True
    assert settings["NOTESBOT_CACHE_DIR"] in mounts
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod(manifests)["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == [manifests["PersistentVolumeClaim"]["metadata"]["name"]]


def test_the_service_reaches_the_pods_http_port(manifests: dict[str, dict]) -> None:
    service = manifests["Service"]["spec"]
    assert service["selector"].items() <= pod(manifests)["metadata"]["labels"].items()
    [port] = service["ports"]
    assert port["targetPort"] in {p["name"] for p in container(manifests)["ports"]}


def test_the_ingress_sends_slack_events_and_the_oauth_pages_to_the_service(manifests: dict[str, dict]) -> None:
    service = manifests["Service"]
    paths = [path for rule in manifests["Ingress"]["spec"]["rules"] for path in rule["http"]["paths"]]
    assert {p["path"] for p in paths} == {"/slack/events", "/slack/install", "/slack/oauth_redirect"}
    for path in paths:
        backend = path["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_the_disruption_budget_keeps_most_replicas_of_the_deployment(manifests: dict[str, dict]) -> None:
    budget = manifests["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"].items() <= pod(manifests)["metadata"]["labels"].items()
    assert 1 <= budget["minAvailable"] < manifests["Deployment"]["spec"]["replicas"]


# ---- systemd ---------------------------------------------------------------------------------------


def unit() -> list[tuple[str, str, str]]:
    """(section, key, value) of every line: systemd allows a key (Environment=) more than once."""
    section, entries = "", []
    for line in (DEPLOY / "notesbot.service").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        else:
            key, _, value = line.partition("=")
            entries.append((section, key, value))
    return entries


def unit_values(section: str, key: str) -> list[str]:
    return [value for s, k, value in unit() if (s, k) == (section, key)]


def test_the_unit_migrates_then_serves_as_an_unprivileged_user() -> None:
    [start] = unit_values("Service", "ExecStart")
    [before] = unit_values("Service", "ExecStartPre")
    program, *arguments = start.split()
    assert program.endswith("/bin/notesbot") and arguments == ["serve"]
    program, *arguments = before.split()
    assert program.endswith("/bin/notesbot") and arguments == ["db", "upgrade"]
    assert hasattr(_parser().parse_args(["db", "upgrade"]), "run")
    assert unit_values("Service", "User") == ["notesbot"]
    assert unit_values("Service", "Restart") == ["on-failure"]
    assert unit_values("Install", "WantedBy") == ["multi-user.target"]


def test_the_unit_sets_only_settings_bot_config_reads() -> None:
    names = {value.split("=", 1)[0] for value in unit_values("Service", "Environment")}
    assert names and names <= SETTINGS
    assert unit_values("Service", "CacheDirectory") == ["notesbot"]
    cache = next(v for v in unit_values("Service", "Environment") if v.startswith("NOTESBOT_CACHE_DIR="))
    assert cache == "NOTESBOT_CACHE_DIR=/var/cache/notesbot"


# ---- README ----------------------------------------------------------------------------------------


def test_the_readme_documents_exactly_the_settings_bot_config_reads() -> None:
    readme = (DEPLOY / "README.md").read_text()
    rows = [line for line in readme.split("## Settings", 1)[1].splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[1])}
    assert documented == SETTINGS


def test_the_readme_explains_socket_mode_http_scaling_and_the_probes() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for heading in ("## HTTP or Socket Mode", "## When to scale out"):
        assert heading in readme
    for path in ("/healthz", "/readyz", "/metrics", "/slack/events"):
        assert path in readme


# ---- stopping without dropping answers -------------------------------------------------------------------------

# How long notesbot takes at most, after SIGTERM, to finish the answers it acknowledged (the setting's default).
SHUTDOWN_GRACE_SECONDS = Settings.model_fields["shutdown_grace_seconds"].default


def seconds(duration: str) -> float:
    """A compose duration such as `30s` or `1m30s`."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    return int(parts.group(1) or 0) * 60 + int(parts.group(2) or 0)


def test_a_stopping_pod_pauses_for_the_service_then_has_time_to_finish(manifests: dict[str, dict]) -> None:
    pause = container(manifests)["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep" and int(pause[1]) >= 3
    grace = pod(manifests)["spec"]["terminationGracePeriodSeconds"]
    configured = float(manifests["ConfigMap"]["data"].get("SHUTDOWN_GRACE_SECONDS", SHUTDOWN_GRACE_SECONDS))
    assert int(pause[1]) + configured < grace


def test_compose_gives_the_bots_more_time_to_stop_than_they_take(compose: dict, socket_compose: dict) -> None:
    for service in [*bots(compose).values(), *socket_compose["services"].values()]:
        assert seconds(service["stop_grace_period"]) > SHUTDOWN_GRACE_SECONDS


def test_systemd_waits_longer_than_the_bot_takes_to_stop() -> None:
    [timeout] = unit_values("Service", "TimeoutStopSec")
    assert int(timeout) > SHUTDOWN_GRACE_SECONDS
    assert unit_values("Service", "KillSignal") in ([], ["SIGTERM"])  # systemd's default: SIGTERM


def test_nginx_sends_a_request_a_stopping_or_failed_replica_did_not_take_to_the_other() -> None:
    [directive] = re.findall(r"proxy_next_upstream ([^;]+);", (DEPLOY / "nginx.conf").read_text())
    # non_idempotent: POSTs too; safe since each Slack delivery is recorded once (event_id or trigger_id)
    assert {"error", "http_503", "non_idempotent"} <= set(directive.split())


# ---- Kubernetes with git-sync ----------------------------------------------------------------------------------

GIT_SYNC = DEPLOY / "k8s-git-sync"


def git_sync_patch() -> dict:
    return yaml.safe_load((GIT_SYNC / "git-sync.yaml").read_text())


def git_sync_args(spec: dict) -> dict[str, str]:
    return dict(arg.removeprefix("--").partition("=")[::2] for arg in spec["args"])


def git_sync_containers(pod_spec: dict) -> tuple[dict, dict]:
    [clone] = [c for c in pod_spec["initContainers"] if c["image"].startswith("registry.k8s.io/git-sync/")]
    [sidecar] = [c for c in pod_spec["containers"] if c["image"].startswith("registry.k8s.io/git-sync/")]
    return clone, sidecar


def test_the_git_sync_variant_is_the_base_with_its_claim_dropped() -> None:
    kustomization = yaml.safe_load((GIT_SYNC / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../k8s"]
    paths = [p["path"] for p in kustomization["patches"] if "path" in p]
    assert all((GIT_SYNC / path).is_file() for path in paths)
    [dropped] = [yaml.safe_load(p["patch"]) for p in kustomization["patches"] if "patch" in p]
    claim = yaml.safe_load((K8S / "pvc.yaml").read_text())
    assert dropped["$patch"] == "delete"
    assert (dropped["kind"], dropped["metadata"]["name"]) == (claim["kind"], claim["metadata"]["name"])


def test_git_sync_clones_first_then_keeps_the_link_notes_dir_points_at() -> None:
    clone, sidecar = git_sync_containers(git_sync_patch()["spec"]["template"]["spec"])
    first, then = git_sync_args(clone), git_sync_args(sidecar)
    for container_ in (clone, sidecar):
        assert re.fullmatch(r"registry\.k8s\.io/git-sync/git-sync:v4\.\d+\.\d+", container_["image"])
        [mount] = container_["volumeMounts"]
        assert (mount["name"], mount["mountPath"]) == ("notes", first["root"])
    assert "one-time" in first and "one-time" not in then and "period" in then
    assert {k: v for k, v in first.items() if k != "one-time"} == {k: v for k, v in then.items() if k != "period"}
    assert "CHANGE-ME" in first["repo"]
    settings = yaml.safe_load((GIT_SYNC / "settings.yaml").read_text())["data"]
    assert set(settings) <= SETTINGS
    assert settings["NOTES_DIR"] == f"{first['root']}/{first['link']}"
    assert settings["NOTES_WATCH"] == "events"  # an emptyDir is a local disk
    assert load_settings(notes_watch=settings["NOTES_WATCH"]).notes_watch == "events"


def test_the_bot_reads_the_empty_dir_git_sync_writes(manifests: dict[str, dict]) -> None:
    [notes] = git_sync_patch()["spec"]["template"]["spec"]["volumes"]
    assert notes == {"name": "notes", "emptyDir": {}, "persistentVolumeClaim": None}  # null: the claim removed
    bot_mount = next(m for m in container(manifests)["volumeMounts"] if m["name"] == "notes")
    _clone, sidecar = git_sync_containers(git_sync_patch()["spec"]["template"]["spec"])
    assert bot_mount["readOnly"] is True and bot_mount["mountPath"] == git_sync_args(sidecar)["root"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl (with kustomize) on this machine")
def test_the_git_sync_variant_renders_with_kustomize() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(GIT_SYNC)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    documents = {d["kind"]: d for d in yaml.safe_load_all(rendered)}
    assert "PersistentVolumeClaim" not in documents
    spec = documents["Deployment"]["spec"]["template"]["spec"]
    assert sorted(c["name"] for c in spec["containers"]) == ["git-sync", "notesbot"]
    assert [c["name"] for c in spec["initContainers"]] == ["git-sync-clone"]
    assert {"name": "notes", "emptyDir": {}} in spec["volumes"]
    assert documents["ConfigMap"]["data"]["NOTES_DIR"] == "/notes/current"
    assert documents["ConfigMap"]["data"]["PORT"] == "3000"  # the base's other settings kept
