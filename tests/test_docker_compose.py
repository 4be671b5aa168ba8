"""docker-compose.yml: parsed by a real compose client, pinned like the jar we test with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.conftest import zipkin_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import kafka_server
import opensearch_server

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


def render(*profiles: str) -> dict:
    """The compose file as the client resolves it, with these profiles active."""
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose client installed (.ci/run installs one)")
    selected = [arg for profile in profiles for arg in ("--profile", profile)]
    result = subprocess.run(
        [*command, *selected, "-f", str(COMPOSE_FILE), "config", "--format", "json"]
        if command == ["docker", "compose"]
        else [*command, *selected, "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    if command == ["docker", "compose"]:
        return dict(json.loads(result.stdout))
    return parse_v1_config(result.stdout)


@pytest.fixture(scope="module")
def compose_config() -> dict:
    return render()


@pytest.fixture(scope="module")
def kafka_profile() -> dict:
    return render("kafka")


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


def test_only_the_plain_zipkin_starts_without_a_profile(kafka_profile: dict) -> None:
    profiles = {name: s.get("profiles", []) for name, s in kafka_profile["services"].items()}
    assert profiles == {
        "zipkin": [],
        "kafka": ["kafka"],
        "opensearch": ["kafka"],
        "zipkin-kafka": ["kafka"],
    }


def environment(service: dict) -> Dict[str, str]:
    """Environment as a dict, whichever form the client printed."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_the_kafka_profile_is_the_stack_the_scripts_run(kafka_profile: dict) -> None:
    services = kafka_profile["services"]
    assert {"kafka", "opensearch", "zipkin-kafka"} <= set(services)
    assert services["kafka"]["image"] == f"apache/kafka:{kafka_server.KAFKA_VERSION}"
    assert services["opensearch"]["image"].endswith(f":{opensearch_server.OPENSEARCH_VERSION}")
    collector = services["zipkin-kafka"]
    # the full image (the slim one has no Kafka collector), same version as the jar
    assert collector["image"] == f"openzipkin/zipkin:{zipkin_server.ZIPKIN_VERSION}"
    env = environment(collector)
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert (env["STORAGE_TYPE"], env["ES_HOSTS"]) == ("elasticsearch", "http://opensearch:9200")
    depends = collector["depends_on"]
    assert {name: depends[name]["condition"] for name in depends} == {
        "kafka": "service_healthy",
        "opensearch": "service_healthy",
    }
    kafka_env = environment(services["kafka"])
    assert "EXTERNAL://localhost:19092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    published = [(int(p["published"]), int(p["target"])) for p in services["kafka"]["ports"]]
    assert published == [(19092, 19092)]
    for name in ("kafka", "opensearch", "zipkin-kafka"):
        assert services[name]["healthcheck"]["test"], name
