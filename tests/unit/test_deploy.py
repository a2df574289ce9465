"""The deployment files (`deploy/`) say only what is true of the bot: the compose files are valid Compose, every
variable they give the bot is one of its settings (with a value it accepts), the reverse proxy forwards to the ports
the bot listens on, the image installs the tested set of packages, and the systemd units are well formed and alike.

The compose files are checked against the Compose Specification's own JSON schema, `tests/fixtures/compose-spec.json`
(schema/compose-spec.json of https://github.com/compose-spec/compose-spec at commit 170098ba, Apache-2.0, see
tests/fixtures/compose-spec.LICENSE): the schema `docker compose config` validates with.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = ROOT / "tests" / "fixtures" / "compose-spec.json"
UNITS = DEPLOY / "systemd"
SETTINGS = {name.upper() for name in Settings.model_fields}
COMPOSE_FILES = ("compose.yaml", "compose.webhook.yaml")
# Variables Compose itself substitutes (`${NAME}`) for PostgreSQL and Caddy: they are not settings of the bot.
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD", "PUBLIC_HOST"}
INTERPOLATED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")
TOKEN = "123456789:DEPLOY-CHECK"


def compose(name: str = "compose.yaml") -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def webhook_mode() -> dict[str, dict[str, Any]]:
    """The services of compose.yaml with compose.webhook.yaml applied, as Compose merges them (mappings merged key by
    key, anything else replaced)."""
    services: dict[str, dict[str, Any]] = compose()["services"]
    for name, override in compose("compose.webhook.yaml")["services"].items():
        base = services.setdefault(name, {})
        for key, value in override.items():
            base[key] = {**base[key], **value} if isinstance(value, dict) and key in base else value
    return services


def bots(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the bot's image (the migration and the instances)."""
    return {
        name: service
        for name, service in document["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Containerfile"
    }


def instructions(path: Path) -> list[tuple[str, str]]:
    """A Containerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#")))
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.strip().partition(" ") for line in joined.splitlines() if line.strip())
    ]


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.lstrip("#").split("=", 1) for line in lines if re.match(r"#?[A-Z][A-Z0-9_]*=", line))


def accepted(values: dict[str, str]) -> Settings:
    """Settings built from these variables alone (no .env, no environment), as the bot would read them."""
    return Settings(_env_file=None, **{"bot_token": TOKEN} | {name.lower(): value for name, value in values.items()})


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_the_compose_files_are_valid_against_the_compose_specification(name: str) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose(name)), key=lambda error: list(error.path))
    assert [f"{'/'.join(map(str, error.path))}: {error.message}" for error in errors] == []


def test_the_schema_refuses_what_compose_refuses() -> None:
    """The check has teeth: a misspelt key or a wrong type fails it."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    broken = json.loads(json.dumps(compose()))  # the YAML anchor's mappings unshared
    broken["services"]["bot-a"]["restart_policy"] = "always"  # a key of deploy:, not of a service
    broken["services"]["bot-b"]["depends_on"]["postgres"]["condition"] = "service_ready"
    errors = list(validator.iter_errors(broken))
    assert {"/".join(map(str, error.path)) for error in errors} == {"services/bot-a", "services/bot-b/depends_on"}
    assert "'restart_policy' does not match any of the regexes: '^x-'" in {error.message for error in errors}


def test_compose_runs_postgresql_a_migration_and_two_instances() -> None:
    document = compose()
    services = document["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    running = bots(document)
    assert running["migrate"]["command"] == ["migrate"]
    assert running["migrate"]["restart"] == "no"
    instances = {name: service for name, service in running.items() if service["command"][0] == "run"}
    assert len(instances) == 2
    host_ports = set()
    for service in instances.values():
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        assert int(service["environment"]["HEALTH_PORT"]) > 0  # /healthz and /metrics on every instance
        assert service["environment"]["DATABASE_URL"].endswith("@postgres:5432/tongxin")
        assert "media:/var/lib/tongxin/data/media" in service["volumes"]  # either may lead next: one media folder
        host_ports |= {port.rsplit(":", 1)[0] for port in service["ports"]}
    assert len(host_ports) == 2, "the two instances publish their health on different host ports"


def test_compose_gives_the_bot_only_its_settings_with_values_it_accepts() -> None:
    document = compose()
    for name, service in bots(document).items():
        environment = service["environment"]
        assert set(environment) <= SETTINGS, f"{name}: {set(environment) - SETTINGS} are not settings"
        accepted({key: str(value).replace("${POSTGRES_PASSWORD:-}", "secret") for key, value in environment.items()})
    raw = "".join((DEPLOY / name).read_text(encoding="utf-8") for name in COMPOSE_FILES)
    assert set(INTERPOLATED.findall(raw)) == COMPOSE_VARIABLES


def test_webhook_mode_receives_on_both_instances_behind_caddy() -> None:
    services = webhook_mode()
    example = {name: value for name, value in env_example().items() if name in SETTINGS and value}
    ports: set[int] = set()
    for name in ("bot-a", "bot-b"):
        service = services[name]
        assert service["command"] == ["run", "--webhook"]
        environment = {key: str(value) for key, value in service["environment"].items()}
        assert set(environment) <= SETTINGS
        settings = accepted(example | environment | {"DATABASE_URL": "postgresql://tongxin:x@postgres/tongxin"})
        assert settings.webhook_url is not None
        assert settings.webhook_port != settings.health_port  # both servers listen in the same container
        ports |= {settings.webhook_port, settings.wechat_port, settings.health_port}
    assert len(ports) == 3, "both instances listen on the same ports (in their own containers)"
    caddy = services["caddy"]
    assert "443:443" in caddy["ports"]
    mounted = next(volume for volume in caddy["volumes"] if volume.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (DEPLOY / mounted.split(":")[0]).read_text(encoding="utf-8")
    upstream_ports = {int(port) for port in re.findall(r"\bbot-[ab]:(\d+)", caddyfile)}
    health_ports = {int(port) for port in re.findall(r"health_port (\d+)", caddyfile)}
    assert upstream_ports == {settings.webhook_port, settings.wechat_port}
    assert health_ports == {settings.health_port}
    for private in ("/healthz", "/metrics"):  # for the operator, not the internet
        assert re.search(rf"handle {private}\*\s*{{\s*respond 404", caddyfile)


def test_the_example_settings_are_settings_or_compose_variables() -> None:
    example = env_example()
    assert {"BOT_TOKEN", "ADMIN_IDS", "POSTGRES_PASSWORD", "DATABASE_URL"} <= set(example)
    assert set(example) - COMPOSE_VARIABLES <= SETTINGS, set(example) - COMPOSE_VARIABLES - SETTINGS
    filled = {name: value for name, value in example.items() if value and name in SETTINGS}
    accepted(filled)
    # The secrets are blank in the example: nobody runs with a placeholder by mistake.
    assert example["BOT_TOKEN"] == example["POSTGRES_PASSWORD"] == ""


def test_the_image_installs_the_locked_set_then_the_project_without_resolving() -> None:
    steps = instructions(DEPLOY / "Containerfile")
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    runs = [(index, arguments) for index, (keyword, arguments) in enumerate(steps) if keyword == "RUN"]
    locked = [index for index, arguments in runs if re.search(r"pip install .*-r requirements\.lock", arguments)]
    project = [index for index, arguments in runs if re.search(r"pip install .*--no-deps \.(\s|$)", arguments)]
    assert len(locked) == len(project) == 1
    assert locked[0] < project[0]
    assert any(
        keyword == "COPY" and "requirements.lock" in arguments.split() for keyword, arguments in steps[: locked[0]]
    )
    pip_installs = [arguments for _, arguments in runs if "pip install" in arguments]
    assert len(pip_installs) == 2, "nothing else is installed with pip, so nothing outside the lock"
    # The test tools of the lock (the dev extra) go in the same step, and pip checks that the bot lacks nothing.
    assert "['optional-dependencies']['dev']" in steps[locked[0]][1]
    assert "pip uninstall" in steps[locked[0]][1]
    assert "pip check" in steps[project[0]][1]
    apt = next(arguments for _, arguments in runs if "apt-get install" in arguments)
    assert "fonts-noto-cjk" in shlex.split(apt)  # CERTIFICATE_FONT's default, and the /stats chart's Chinese


def test_the_image_runs_the_bot_as_a_user_with_a_health_check() -> None:
    steps = instructions(DEPLOY / "Containerfile")
    keywords = [keyword for keyword, _ in steps]
    user = steps[keywords.index("USER")][1]
    assert user not in ("root", "0")
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert json.loads(steps[keywords.index("ENTRYPOINT")][1]) == ["python", "-m", "bot"]
    assert json.loads(steps[keywords.index("CMD")][1]) == ["run"]
    healthcheck = steps[keywords.index("HEALTHCHECK")][1]
    assert "/healthz" in healthcheck
    environment = dict(
        pair.split("=", 1) for keyword, arguments in steps if keyword == "ENV" for pair in shlex.split(arguments)
    )
    read = set(re.findall(r"os\.environ\['([A-Z_]+)'\]", healthcheck))
    assert read <= set(environment)
    assert set(environment) <= SETTINGS
    assert accepted(environment).health_port > 0


def test_the_build_context_keeps_what_the_image_needs_and_no_secrets() -> None:
    patterns = [
        line
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "!"))
    ]

    def ignored(path: str) -> bool:
        """Docker's matching, as far as these patterns go: from the context's root, `**/` at any depth."""
        name = path.rsplit("/", 1)[-1]
        return any(
            fnmatch(path, pattern) or (pattern.startswith("**/") and fnmatch(name, pattern[3:])) for pattern in patterns
        )

    needed = ["pyproject.toml", "requirements.lock", "README.md", "LICENSE"]
    packages = re.search(r"include = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert packages is not None
    needed += [name.strip('" *') for name in packages.group(1).split(",")]
    assert [path for path in needed if ignored(path)] == []
    assert [path for path in (".env", "deploy/.env", "data", "media", ".venv", ".git") if not ignored(path)] == []


def service_lines(unit: Path) -> set[str]:
    text = unit.read_text(encoding="utf-8")
    section = text.split("\n[Service]\n", 1)[1].split("\n[", 1)[0]
    return {line for line in section.splitlines() if line and not line.startswith("#")}


def test_the_systemd_units_restart_migrate_and_are_hardened_alike() -> None:
    single, template = service_lines(UNITS / "tongxin.service"), service_lines(UNITS / "tongxin@.service")
    for lines in (single, template):
        assert {
            "Restart=always",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "ReadWritePaths=/var/lib/tongxin",
            "EnvironmentFile=/etc/tongxin/env",
            "User=tongxin",
            "ExecStart=/opt/tongxin/.venv/bin/python -m bot run",
        } <= lines
        assert any(line.startswith("ExecStartPre=") and line.endswith("-m bot migrate") for line in lines)
        # Variables given in the unit itself (none today) must be settings too.
        assert {line.split("=", 2)[1] for line in lines if line.startswith("Environment=")} <= SETTINGS
    assert single ^ template == {
        "ExecStartPre=/opt/tongxin/.venv/bin/python -m bot migrate",
        "ExecStartPre=/usr/bin/flock /var/lib/tongxin/migrate.lock /opt/tongxin/.venv/bin/python -m bot migrate",
        "EnvironmentFile=/etc/tongxin/%i.env",
    }


@pytest.mark.parametrize("unit", ["tongxin.service", "tongxin@.service"])
def test_systemd_accepts_the_units(unit: str, tmp_path: Path) -> None:
    """`systemd-analyze verify` on each unit, its interpreter path pointed at this Python (the one place it may
    differ: /opt/tongxin/.venv does not exist on the machine that runs the tests)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing (Debian: apt-get install systemd)")
        pytest.skip("systemd-analyze is not installed")
    text = (UNITS / unit).read_text(encoding="utf-8").replace("/opt/tongxin/.venv/bin/python", sys.executable)
    name = unit.replace("@.", "@a.")  # an instance of the template
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(tmp_path / name)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (0, "")
