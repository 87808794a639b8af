"""deploy/helm/values.yaml without Kubernetes: its keys against the official chart's values schema, and its content
against the project's own files (code locations, settings, the DuckDB folder, the pools).

The chart's keys below are those of helm/dagster/values.schema.json in dagster-io/dagster (the `dagster/dagster`
chart; its dagster-user-deployments subchart has the same UserDeployment keys): the sections this file sets, each
with the properties the schema allows there. What `helm install` would add (rendering, the cluster) is not checked.
"""

from __future__ import annotations

import re

import pytest
import yaml

from dagster_project.settings import PROJECT_ROOT

VALUES = PROJECT_ROOT / "deploy" / "helm" / "values.yaml"
TOP_LEVEL = {
    "dagsterWebserver",
    "dagster-user-deployments",
    "postgresql",
    "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret",
    "rabbitmq",
    "redis",
    "flower",
    "ingress",
    "imagePullSecrets",
    "computeLogManager",
    "scheduler",
    "runLauncher",
    "pythonLogs",
    "dagsterDaemon",
    "busybox",
    "migrate",
    "telemetry",
    "serviceAccount",
    "global",
    "retention",
    "additionalInstanceConfig",
}
USER_DEPLOYMENTS = {"enabled", "enableSubchart", "imagePullSecrets", "deployments"}
USER_DEPLOYMENT = {
    "name",
    "image",
    "dagsterApiGrpcArgs",
    "codeServerArgs",
    "includeConfigInLaunchedRuns",
    "deploymentNamespace",
    "port",
    "env",
    "envConfigMaps",
    "envSecrets",
    "annotations",
    "nodeSelector",
    "affinity",
    "tolerations",
    "podSecurityContext",
    "securityContext",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "labels",
    "volumeMounts",
    "volumes",
    "schedulerName",
    "initContainers",
    "sidecarContainers",
}
USER_DEPLOYMENT_REQUIRED = {"name", "image", "port"}
IMAGE = {"repository", "tag", "pullPolicy"}
PULL_POLICIES = {"Always", "IfNotPresent", "Never"}
RUN_LAUNCHER_TYPES = {"CeleryK8sRunLauncher": "celeryK8sRunLauncher", "K8sRunLauncher": "k8sRunLauncher"}
K8S_RUN_LAUNCHER = {
    "image",
    "imagePullPolicy",
    "jobNamespace",
    "loadInclusterConfig",
    "kubeconfigFile",
    "envConfigMaps",
    "envSecrets",
    "envVars",
    "volumeMounts",
    "volumes",
    "labels",
    "failPodOnRunFailure",
    "resources",
    "schedulerName",
    "securityContext",
    "runK8sConfig",
}
POSTGRESQL = {
    "image",
    "enabled",
    "postgresqlHost",
    "postgresqlUsername",
    "postgresqlPassword",
    "postgresqlDatabase",
    "postgresqlParams",
    "postgresqlScheme",
    "service",
}
DAEMON = {
    "enabled",
    "image",
    "runCoordinator",
    "heartbeatTolerance",
    "env",
    "envConfigMaps",
    "envSecrets",
    "deploymentLabels",
    "labels",
    "nodeSelector",
    "affinity",
    "tolerations",
    "podSecurityContext",
    "securityContext",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "annotations",
    "runMonitoring",
    "runRetries",
    "sensors",
    "schedules",
    "schedulerName",
    "volumeMounts",
    "volumes",
    "initContainerResources",
}
RUN_COORDINATOR = {"enabled", "type", "config"}
RUN_COORDINATOR_TYPES = {"QueuedRunCoordinator", "CustomRunCoordinator"}
# A Kubernetes object name (RFC 1123 label): what the chart names the deployment and service after.
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def deployments(values) -> list[dict]:
    return values["dagster-user-deployments"]["deployments"]


def test_only_keys_the_chart_knows(values, deployments):
    assert set(values) <= TOP_LEVEL
    assert set(values["dagster-user-deployments"]) <= USER_DEPLOYMENTS
    assert values["dagster-user-deployments"]["enabled"] is True
    for deployment in deployments:
        assert set(deployment) <= USER_DEPLOYMENT, deployment["name"]
        assert set(deployment) >= USER_DEPLOYMENT_REQUIRED, deployment["name"]
        assert set(deployment["image"]) <= IMAGE and deployment["image"]["pullPolicy"] in PULL_POLICIES
        assert isinstance(deployment["port"], int)
        # One of the two ways to start the code server, a list of strings.
        [args] = [deployment[key] for key in ("dagsterApiGrpcArgs", "codeServerArgs") if key in deployment]
        assert all(isinstance(arg, str) for arg in args)
        assert all(set(source) == {"name"} for source in deployment.get("envSecrets", []))
    assert set(values["postgresql"]) <= POSTGRESQL
    assert set(values["dagsterDaemon"]) <= DAEMON
    assert set(values["dagsterDaemon"]["runCoordinator"]) <= RUN_COORDINATOR


def test_runs_are_kubernetes_jobs_queued_by_the_daemon(values):
    launcher = values["runLauncher"]
    assert set(launcher) == {"type", "config"} and launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {RUN_LAUNCHER_TYPES["K8sRunLauncher"]}
    assert set(launcher["config"]["k8sRunLauncher"]) <= K8S_RUN_LAUNCHER
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    assert coordinator["type"] in RUN_COORDINATOR_TYPES


def test_one_user_deployment_per_code_location(deployments):
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"]
    locations = {entry["python_module"]["location_name"]: entry["python_module"]["module_name"] for entry in workspace}
    served = {}
    for deployment in deployments:
        assert K8S_NAME.match(deployment["name"]), deployment["name"]
        args = deployment["codeServerArgs"]
        served[deployment["name"]] = args[args.index("-m") + 1]
    # The location names with "_" (not allowed in Kubernetes names) as "-"; the same modules.
    assert served == {name.replace("_", "-"): module for name, module in locations.items()}
    assert len({d["image"]["repository"] for d in deployments}) == 1


def test_code_servers_and_runs_get_the_projects_settings(values, deployments):
    secrets = {tuple(source["name"] for source in d["envSecrets"]) for d in deployments}
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert secrets == {tuple(source["name"] for source in launcher["envSecrets"])}
    assert all(d["includeConfigInLaunchedRuns"] == {"enabled": True} for d in deployments)
    [name] = secrets.pop()
    assert f"kubectl create secret generic {name}" in (PROJECT_ROOT / "docs" / "deploy.md").read_text()


def test_the_duckdb_folder_is_one_volume_for_every_run(deployments):
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.prod.yml").read_text())
    [compose_mount] = [m for m in compose["x-code-server"]["volumes"] if m.startswith("warehouse:")]
    kpis = next(d for d in deployments if d["codeServerArgs"][1] == "dagster_project.definitions")
    [mount] = kpis["volumeMounts"]
    [volume] = kpis["volumes"]
    assert mount["mountPath"] == compose_mount.split(":")[1] == "/opt/dagster/app/data"
    assert mount["name"] == volume["name"] and volume["persistentVolumeClaim"]["claimName"]


def test_the_instance_keeps_the_docker_stacks_limits(values):
    docker = yaml.safe_load((PROJECT_ROOT / "docker" / "dagster" / "dagster.yaml").read_text())
    assert values["additionalInstanceConfig"] == {"concurrency": docker["concurrency"]}
