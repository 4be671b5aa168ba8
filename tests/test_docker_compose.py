"""docker-compose.yml: parsed by a real compose client, pinned like the jar we test with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest

from tests.conftest import zipkin_server

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def compose_command() -> Optional[List[str]]:
    """`docker compose` (v2 plugin) or `docker-compose` (v1); neither needs an engine for config."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture(scope="module")
def compose_config() -> dict:
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose client installed (.ci/run installs one)")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--format", "json"]
        if command == ["docker", "compose"]
        else [*command, "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    if command == ["docker", "compose"]:
        return dict(json.loads(result.stdout))
    return parse_v1_config(result.stdout)


def parse_v1_config(text: str) -> dict:
    """docker-compose v1 prints YAML; PyYAML comes with it."""
    import yaml

    return dict(yaml.safe_load(text))


def test_zipkin_image_matches_the_jar_version(compose_config: dict) -> None:
    image = compose_config["services"]["zipkin"]["image"]

    assert image.endswith(f":{zipkin_server.ZIPKIN_VERSION}"), image


def test_zipkin_serves_9411_in_memory_with_a_healthcheck(compose_config: dict) -> None:
    zipkin = compose_config["services"]["zipkin"]

    assert [(int(p["published"]), int(p["target"])) for p in zipkin["ports"]] == [(9411, 9411)]
    assert zipkin["environment"]["STORAGE_TYPE"] == "mem"
    assert zipkin["healthcheck"]["test"]
