"""infra/k8s: every object valid against the Kubernetes API schema (offline), and the pieces wired together."""

import configparser
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.infra.conftest import K8S, find, k8s_resources

# The oldest minor version still supported by the big managed offerings, and the newest bundled schema.
KUBERNETES_VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]
PLATFORM_IMAGE = "warung-crm:latest"
WORKERS = {"worker-interactive", "worker", "worker-broadcasts"}


def runs_the_platform_image(resource) -> bool:
    if resource["kind"] not in ("Deployment", "Job"):
        return False
    return resource["spec"]["template"]["spec"]["containers"][0]["image"] == PLATFORM_IMAGE


def pod_specs(resources):
    """Pod templates of the platform's own Deployments and Jobs."""
    return [(r["metadata"]["name"], r["spec"]["template"]["spec"]) for r in resources if runs_the_platform_image(r)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schema(version):
    resources = k8s_resources()
    assert len(resources) >= 15
    for resource in resources:
        # strict: a misspelt field is an error, as `kubectl apply` with server-side validation would say
        kubernetes_validate.validate(resource, version, strict=True)


def test_a_misspelt_field_is_refused_by_the_validator():
    web = find(k8s_resources(), "Deployment", "web")
    web["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["periodSecond"] = 10
    with pytest.raises(kubernetes_validate.ValidationError, match="periodSecond"):
        kubernetes_validate.validate(web, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_applies_everything_but_the_migrations_job_and_the_secret_examples():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed <= on_disk
    assert on_disk - listed == {"migrate-job.yaml", "secret.example.yaml"}
    assert {i["name"] for i in kustomization["images"]} == {"warung-crm"}


def test_every_platform_pod_runs_a_role_of_the_entrypoint(roles):
    specs = pod_specs(k8s_resources())
    used = {spec["containers"][0]["args"][0] for _, spec in specs}
    assert used <= roles
    assert used == {"web", "worker-interactive", "worker", "worker-broadcasts", "beat", "migrate"}


def test_platform_pods_run_unprivileged_with_resources_and_shared_configuration():
    resources = k8s_resources()
    secret_keys = set(find(resources, "Secret", "warung-secrets")["stringData"])
    for name, spec in pod_specs(resources):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        container = spec["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        # Writable: /tmp, and for the processes that write and serve shop exports, the shared media volume.
        exports = {"/var/lib/warung/media"} if name in ("web", "worker") else set()
        assert {"/tmp"} | exports == {m["mountPath"] for m in container["volumeMounts"]}, name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        refs = [next(iter(source.values()))["name"] for source in container["envFrom"]]
        assert refs == ["warung-config", "warung-secrets"], name
        for variable in container.get("env", []):
            if "valueFrom" in variable:
                assert variable["valueFrom"]["secretKeyRef"]["key"] in secret_keys, name


def test_web_probes_use_healthz_for_liveness_and_readyz_for_readiness_on_the_platform_host(platform_config):
    container = find(k8s_resources(), "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert headers == {"Host": platform_config["PLATFORM_DOMAIN"], "X-Forwarded-Proto": "https"}, probe


def test_web_and_every_worker_autoscale_and_beat_never_runs_twice():
    resources = k8s_resources()
    deployments = {r["metadata"]["name"] for r in resources if runs_the_platform_image(r) and r["kind"] == "Deployment"}
    assert deployments == {"web", "beat"} | WORKERS
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in resources if h["kind"] == "HorizontalPodAutoscaler"}
    assert scaled == {"web"} | WORKERS
    beat = find(resources, "Deployment", "beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    web = find(resources, "Deployment", "web")
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_migrations_job_talks_to_postgresql_directly_and_pods_go_through_pgbouncer_in_session_mode():
    resources = k8s_resources()
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
    ini.read_string(find(resources, "ConfigMap", "pgbouncer-config")["data"]["pgbouncer.ini"])
    assert ini["pgbouncer"]["pool_mode"] == "session"
    assert ini["pgbouncer"]["server_reset_query"] == "DISCARD ALL"

    secrets = find(resources, "Secret", "warung-secrets")["stringData"]
    service = find(resources, "Service", "pgbouncer")
    app_db = urlsplit(secrets["DATABASE_URL"])
    assert (app_db.hostname, app_db.port) == (service["metadata"]["name"], service["spec"]["ports"][0]["port"])
    assert app_db.path.lstrip("/") in ini["databases"]

    job = find(resources, "Job", "migrate")["spec"]["template"]["spec"]["containers"][0]
    database_url = next(v for v in job["env"] if v["name"] == "DATABASE_URL")
    assert database_url["valueFrom"]["secretKeyRef"]["key"] == "MIGRATE_DATABASE_URL"
    assert urlsplit(secrets["MIGRATE_DATABASE_URL"]).hostname != "pgbouncer"


def test_ingress_serves_the_platform_domain_and_every_shop_subdomain_over_tls(platform_config):
    resources = k8s_resources()
    ingress = find(resources, "Ingress", "warung")
    host = platform_config["PLATFORM_DOMAIN"]
    assert {rule["host"] for rule in ingress["spec"]["rules"]} == {host, f"*.{host}"}
    assert set(ingress["spec"]["tls"][0]["hosts"]) == {host, f"*.{host}"}
    service = find(resources, "Service", "web")
    port_names = {p["name"] for p in service["spec"]["ports"]}
    for rule in ingress["spec"]["rules"]:
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == "web" and backend["port"]["name"] in port_names
