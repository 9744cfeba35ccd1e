"""Lambda code and layers, built without Docker.

The dependency layer is `layers/dependencies/requirements.txt` (exported from uv.lock by
`make requirements`, minus boto3/botocore/s3transfer which the runtime provides) installed for
the Lambda platform: CPython 3.14 on arm64, Amazon Linux 2023 (glibc 2.34), binary wheels only.
CDK calls `try_bundle` instead of starting a container; it uses uv when there is one (the Makefile
puts it in .tools/bin) and pip otherwise.

Infrastructure tests skip bundling with the `aws:cdk:bundling-stacks` context set to [], so they
never download anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES_DIR = ROOT / "layers" / "dependencies"
REQUIREMENTS = DEPENDENCIES_DIR / "requirements.txt"
LAMBDA_PYTHON_VERSION = "3.14"
# The python3.14 runtime is Amazon Linux 2023: glibc 2.34 on aarch64. Any manylinux wheel up to
# that glibc runs there (pillow ships only manylinux_2_28 for aarch64, pydantic-core manylinux2014).
LAMBDA_GLIBC_MINOR = 34
UV_PLATFORM = f"aarch64-manylinux_2_{LAMBDA_GLIBC_MINOR}"
PIP_PLATFORMS = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{m}_aarch64" for m in range(17, LAMBDA_GLIBC_MINOR + 1)),
)
# Set to "pip" or "uv" to force an installer (e.g. to check that pip resolves the same wheels).
INSTALLER_ENV = "LAYER_INSTALLER"
_CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache"]


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else None


def _pip() -> list[str] | None:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    local = ROOT / ".tools" / "bin" / "pip"
    return [str(local)] if local.exists() else None


def install_command(target: Path, requirements: Path = REQUIREMENTS) -> list[str]:
    """The argv that installs the locked requirements for the Lambda platform into `target`."""
    forced = os.environ.get(INSTALLER_ENV, "").strip().lower()
    uv = _uv() if forced in ("", "uv") else None
    if uv:
        return [
            uv,
            "pip",
            "install",
            "--quiet",
            "--no-deps",  # requirements.txt is the whole locked closure already
            "--requirements",
            str(requirements),
            "--target",
            str(target),
            "--python-platform",
            UV_PLATFORM,
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary",
            ":all:",
        ]
    pip = _pip() if forced in ("", "pip") else None
    if pip:
        platforms = [arg for platform in PIP_PLATFORMS for arg in ("--platform", platform)]
        return [
            *pip,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # bytecode of this machine's Python would be dead weight on 3.14
            "--no-deps",
            "--requirement",
            str(requirements),
            "--target",
            str(target),
            *platforms,
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--only-binary=:all:",
        ]
    raise RuntimeError(
        "Building the dependency layer needs uv or pip: run `make install` (it provides .tools/bin/uv)"
        + (f", or unset {INSTALLER_ENV}={forced!r}" if forced else "")
    )


@jsii.implements(ILocalBundling)
class PipForLambdaPlatform:
    """Installs the locked runtime requirements as arm64 / CPython 3.14 wheels into `python/`."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        target = Path(output_dir) / "python"
        subprocess.run(install_command(target), check=True)  # noqa: S603 (fixed argv, no shell)
        # Console scripts (with this machine's shebang), man pages and the installer's lock file
        # have no use in a layer.
        for leftover in ("bin", "share"):
            shutil.rmtree(target / leftover, ignore_errors=True)
        (target / ".lock").unlink(missing_ok=True)
        return True


def dependency_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(DEPENDENCIES_DIR),
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or fails the synth, so no Docker is needed.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=PipForLambdaPlatform(),
        ),
    )


def shared_layer_code() -> lambda_.Code:
    """The `invoicing` package as it is in the repo: layers/shared/python/invoicing."""
    return lambda_.Code.from_asset(str(ROOT / "layers" / "shared"), exclude=_CODE_EXCLUDES)


def function_code(name: str) -> lambda_.Code:
    return lambda_.Code.from_asset(str(ROOT / "functions" / name), exclude=_CODE_EXCLUDES)
