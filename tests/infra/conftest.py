"""What the infra tests share: the deploy files, read as an operator's tools would read them."""

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
ENTRYPOINT = INFRA / "entrypoint.sh"


def k8s_resources(*, with_examples: bool = True) -> list[dict]:
    """Every Kubernetes object under infra/k8s (kustomize's own file is not one)."""
    resources = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml" or (path.name.endswith(".example.yaml") and not with_examples):
            continue
        resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return resources


def find(resources: list[dict], kind: str, name: str) -> dict:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert matches, f"no {kind} named {name} in infra/k8s"
    return matches[0]


def entrypoint_roles() -> set[str]:
    """The roles the entrypoint itself lists when called without one."""
    result = subprocess.run(["bash", str(ENTRYPOINT)], capture_output=True, text=True, check=False)
    assert result.returncode == 64, result.stderr
    lines = result.stderr.split("roles:", 1)[1].splitlines()
    return {line.split()[0] for line in lines if line.strip()}


@pytest.fixture(scope="session")
def roles() -> set[str]:
    return entrypoint_roles()


@pytest.fixture(scope="session")
def platform_config() -> dict[str, str]:
    return find(k8s_resources(), "ConfigMap", "warung-config")["data"]
