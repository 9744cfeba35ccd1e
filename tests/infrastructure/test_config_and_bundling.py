"""Per-environment configuration, log retention and the dependency layer's build, without a full synth."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infra.config import ENVIRONMENTS, LOG_RETENTION_DAYS, EnvironmentConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def _with(env: str, **changes: Any) -> dict[str, Any]:
    return {**load_config(env).model_dump(), **changes}


# --- configuration ----------------------------------------------------------------------------


def test_every_environment_file_is_valid_and_names_its_own_resources() -> None:
    for env in ENVIRONMENTS:
        config = load_config(env)
        assert config.env_name == env
        assert config.resource_prefix == f"saypro-invoicing-{env}"


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown environment 'qa'"):
        load_config("qa")


def test_a_log_retention_cloudwatch_does_not_offer_is_refused() -> None:
    with pytest.raises(ValidationError, match="log_retention_days 10 is not one of"):
        EnvironmentConfig.model_validate(_with("dev", log_retention_days=10))


def test_prod_cannot_be_configured_to_lose_its_data() -> None:
    with pytest.raises(ValidationError, match="prod keeps its data"):
        EnvironmentConfig.model_validate(_with("prod", removal_policy="destroy"))
    with pytest.raises(ValidationError, match="prod keeps its data"):
        EnvironmentConfig.model_validate(_with("prod", deletion_protection=False))


def test_locked_documents_need_a_period_within_retention_and_a_retained_bucket() -> None:
    with pytest.raises(ValidationError, match="document_lock_days is required"):
        EnvironmentConfig.model_validate(_with("staging", document_lock_mode="governance"))
    with pytest.raises(ValidationError, match="cannot be destroyed with the stack"):
        EnvironmentConfig.model_validate(_with("dev", document_lock_mode="compliance", document_lock_days=7))


def test_unknown_settings_are_refused_rather_than_ignored() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        EnvironmentConfig.model_validate(_with("dev", log_retension_days=14))


def test_every_configurable_log_retention_is_the_one_cloudwatch_gets() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Template

    from infra.constructs.log_retention import log_retention

    stack = cdk.Stack(cdk.App(), "Retention")
    for days in LOG_RETENTION_DAYS:
        logs.LogGroup(stack, f"Keep{days}Days", retention=log_retention(days))
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    kept = {
        int(key[4:].split("Days")[0]): group["Properties"]["RetentionInDays"] for key, group in groups.items()
    }
    assert kept == {days: days for days in LOG_RETENTION_DAYS}
    with pytest.raises(ValueError, match="cannot keep logs 10 days"):
        log_retention(10)


# --- the dependency layer ---------------------------------------------------------------------


def test_the_layer_is_installed_as_arm64_cpython_3_14_binary_wheels_with_uv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra import bundling

    monkeypatch.setattr(bundling, "_uv", lambda: "/opt/uv")
    command = bundling.install_command(Path("/out/python"))
    assert command[:3] == ["/opt/uv", "pip", "install"]
    flags = dict(itertools.pairwise(command))
    assert flags["--python-platform"] == "aarch64-manylinux_2_34"
    assert flags["--python-version"] == "3.14"
    assert flags["--only-binary"] == ":all:"
    assert flags["--target"] == "/out/python"
    assert flags["--requirements"] == str(ROOT / "layers" / "dependencies" / "requirements.txt")
    assert "--no-deps" in command


def test_with_pip_the_layer_accepts_every_manylinux_wheel_amazon_linux_2023_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra import bundling

    monkeypatch.setenv(bundling.INSTALLER_ENV, "pip")
    monkeypatch.setattr(bundling, "_pip", lambda: ["pip"])
    command = bundling.install_command(Path("/out/python"))
    platforms = {value for flag, value in itertools.pairwise(command) if flag == "--platform"}
    # pydantic-core publishes manylinux2014 wheels for aarch64, pillow only manylinux_2_28.
    assert {"manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"} <= platforms
    assert "manylinux_2_34_aarch64" in platforms and "manylinux_2_35_aarch64" not in platforms
    assert {"--only-binary=:all:", "--no-compile", "--no-deps"} <= set(command)
    assert command[command.index("--implementation") + 1] == "cp"
    assert command[command.index("--python-version") + 1] == "3.14"


def test_without_an_installer_the_synth_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import bundling

    monkeypatch.setattr(bundling, "_uv", lambda: None)
    monkeypatch.setattr(bundling, "_pip", lambda: None)
    with pytest.raises(RuntimeError, match="make install"):
        bundling.install_command(Path("/out/python"))


def test_the_layer_requirements_are_the_locked_runtime_dependencies() -> None:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (make install provides .tools/bin/uv)")
    exported = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--no-header",
            *(
                "--no-emit-package",
                "boto3",
                "--no-emit-package",
                "botocore",
                "--no-emit-package",
                "s3transfer",
            ),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    committed = (ROOT / "layers" / "dependencies" / "requirements.txt").read_text(encoding="utf-8")
    assert committed == exported, "run `make requirements` after changing the dependencies"
    pinned = {line.split("==")[0] for line in committed.splitlines() if "==" in line}
    assert pinned.isdisjoint({"boto3", "botocore", "s3transfer"})  # the Lambda runtime provides them
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "fpdf2", "pillow", "jinja2"} <= pinned


def test_every_route_needs_its_own_valid_throttle() -> None:
    throttles = load_config("prod").api_throttles.model_dump()
    without_webhook = {k: v for k, v in throttles.items() if k != "ses_webhook"}
    with pytest.raises(ValidationError, match=r"api_throttles\.ses_webhook\s+Field required"):
        EnvironmentConfig.model_validate(_with("prod", api_throttles=without_webhook))
    for wrong, problem in (
        ({"rate_limit": 0, "burst_limit": 10}, "greater than 0"),
        ({"rate_limit": 20000, "burst_limit": 5000}, "less than or equal to 10000"),
        ({"rate_limit": 100, "burst_limit": 50}, "could not hold one second"),
    ):
        with pytest.raises(ValidationError, match=problem):
            EnvironmentConfig.model_validate(_with("dev", api_throttles={**throttles, "download": wrong}))
