"""docker-compose.yml, the Dockerfile, .env.example and deploy/nginx.conf agree with the code.

No Docker engine runs here, so each container's command is run as a dry check with the
environment compose would give it (`gunicorn --check-config`, `celery … --help`,
`flask … --help`): each one imports the real app with those settings.
"""

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app.config import SETTING_NAMES, SETTINGS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
APP_SERVICES = sorted(name for name, service in SERVICES.items() if "build" in service)
ENV_EXAMPLE = REPO / ".env.example"
NGINX_CONF = (REPO / "deploy" / "nginx.conf").read_text()
DEFAULTS = {setting.name: setting.default for setting in SETTINGS}

# Variables the stock images read (postgres:16); every other one must be a setting.
IMAGE_VARIABLES = frozenset({"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"})
# What a user puts in .env for the values .env.example leaves empty.
FILLED_IN = {
    "SECRET_KEY": "k" * 48,
    "TOKEN_PEPPER": "p" * 48,
    "POSTGRES_PASSWORD": "compose-test-password",
    "PUBLIC_BASE_URL": "https://wearables.example.com",
}
# How to run each executable of the image so that it loads the app and exits.
DRY_RUN_FLAGS = {"gunicorn": ["--check-config"], "celery": ["--help"], "flask": ["--help"]}


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str) -> str:
    """Compose's `${NAME}` / `${NAME:?message}` substitution, from the filled-in .env."""
    dot_env = {**env_example(), **FILLED_IN}
    return re.sub(r"\$\{(\w+)(?::?[?-][^}]*)?\}", lambda match: dot_env[match[1]], value)


def container_environment(service: dict) -> dict[str, str]:
    """What the container sees: its env_file (.env), then `environment:` on top."""
    environment = {**env_example(), **FILLED_IN} if service.get("env_file") else {}
    for name, value in (service.get("environment") or {}).items():
        environment[name] = interpolate(str(value))
    return environment


def commands(service: dict) -> list[list[str]]:
    """The service's command and healthcheck, as argv lists."""
    found = []
    command = service.get("command")
    if command:
        found.append(shlex.split(command) if isinstance(command, str) else list(command))
    test = (service.get("healthcheck") or {}).get("test")
    if test and test[0] == "CMD":
        found.append(list(test[1:]))
    elif test and test[0] == "CMD-SHELL":
        found.append(shlex.split(test[1].replace("$$", "$")))
    return found


def dry_run(argv: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    executable, *arguments = argv
    if executable == "python" and arguments[0] == "-c":
        compile(arguments[1], "<healthcheck>", "exec")
        return subprocess.CompletedProcess(argv, 0, "", "")
    assert executable in DRY_RUN_FLAGS, f"teach this test how to check {executable!r}"
    inherited = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    return subprocess.run(
        [str(Path(sys.executable).parent / executable), *arguments, *DRY_RUN_FLAGS[executable]],
        cwd=REPO,
        env={**inherited, **environment, "HOSTNAME": "compose-test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_command_of_the_app_image_loads_the_app_with_the_compose_environment(name):
    service = SERVICES[name]
    environment = container_environment(service)

    argvs = commands(service)

    assert argvs, f"{name} runs nothing of its own"
    for argv in argvs:
        checked = dry_run(argv, environment)
        assert checked.returncode == 0, (argv, checked.stdout[-2000:], checked.stderr[-2000:])


def test_the_stock_images_run_their_own_commands():
    for name, service in SERVICES.items():
        if name not in APP_SERVICES:
            assert "command" not in service, f"{name} overrides its image's command"


def test_every_variable_set_is_a_setting_or_read_by_a_stock_image():
    names = set(env_example())
    for service in SERVICES.values():
        names |= set(service.get("environment") or {})

    assert sorted(names - SETTING_NAMES - IMAGE_VARIABLES) == []


def test_every_interpolated_variable_is_in_env_example():
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT))

    assert interpolated
    assert interpolated <= set(env_example())


def test_env_example_leaves_every_secret_to_the_operator():
    values = env_example()

    assert {name: values[name] for name in FILLED_IN} == dict.fromkeys(FILLED_IN, "")


def test_the_app_services_read_the_env_file_which_git_and_docker_ignore():
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] == ".env", name
        assert container_environment(SERVICES[name])["APP_ENV"] == "production", name
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in (REPO / ".dockerignore").read_text().splitlines()


def test_migrations_finish_before_anything_that_uses_the_schema_starts():
    assert SERVICES["migrate"]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker", "beat"):
        migrate = SERVICES[name]["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully", name
    assert SERVICES["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_long_running_services_have_healthchecks():
    # beat has nothing to probe; migrate exits.
    probed = {name for name, service in SERVICES.items() if "healthcheck" in service}

    assert probed == set(SERVICES) - {"beat", "migrate"}


def test_only_nginx_is_reachable_from_outside():
    published = {
        name: service["ports"] for name, service in SERVICES.items() if service.get("ports")
    }

    assert published.pop("nginx") == ["80:80", "443:443"]
    assert all(port.startswith("127.0.0.1:") for ports in published.values() for port in ports), (
        published
    )
    assert "api" not in published


def test_the_api_binds_where_nginx_proxies_to():
    environment = container_environment(SERVICES["api"])

    assert environment["GUNICORN_BIND"] == "0.0.0.0:8000"
    assert "server api:8000;" in NGINX_CONF


def test_files_the_stack_mounts_or_copies_exist_or_are_ignored():
    volumes = [v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", [])]
    local = [source for source in volumes if source.startswith("./")]

    assert (REPO / "deploy" / "nginx.conf").is_file()
    assert set(local) == {"./deploy/nginx.conf", "./deploy/certs"}
    assert "deploy/certs/" in (REPO / ".gitignore").read_text().splitlines()
    copied = re.findall(r"^COPY (.+) \S+$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert (REPO / source).exists(), source


def test_the_image_starts_the_same_gunicorn_as_the_api_service_and_make_serve():
    dockerfile_cmd = re.search(r"^CMD (.+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    make_serve = subprocess.run(
        ["make", "-n", "serve"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout

    assert ast.literal_eval(dockerfile_cmd[1]) == SERVICES["api"]["command"]
    assert "gunicorn --config gunicorn.conf.py wsgi:app" in make_serve


def nginx_directive(name: str) -> str:
    values = re.findall(rf"^\s*{name} (\S+);", NGINX_CONF, re.MULTILINE)
    assert len(values) == 1, (name, values)
    return values[0]


def test_nginx_body_limit_is_max_content_length():
    size = nginx_directive("client_max_body_size")
    units = {"k": 1024, "m": 1024**2}

    assert int(size[:-1]) * units[size[-1]] == DEFAULTS["MAX_CONTENT_LENGTH"]


def test_nginx_waits_longer_than_gunicorn_lets_a_request_run():
    read_timeout = nginx_directive("proxy_read_timeout")

    assert int(read_timeout.removesuffix("s")) > DEFAULTS["GUNICORN_TIMEOUT"]
