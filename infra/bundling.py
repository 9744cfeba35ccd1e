"""Builds the dependency layer without Docker: pip (via uv) for the Lambda platform, at synth.

CDK calls `try_bundle` instead of starting a container. Infrastructure tests skip bundling with
the `aws:cdk:bundling-stacks` context set to [], so they never download anything.
"""

from __future__ import annotations

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
LAMBDA_PYTHON_VERSION = "3.14"
# Amazon Linux 2023 (glibc 2.34) under the 3.14 runtime: manylinux_2_28 wheels run there.
LAMBDA_PLATFORM = "aarch64-manylinux_2_28"


@jsii.implements(ILocalBundling)
class PipForLambdaPlatform:
    """pip install of the locked runtime requirements for arm64 / CPython 3.14 wheels only."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        requirements = DEPENDENCIES_DIR / "requirements.txt"
        target = Path(output_dir) / "python"
        uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
        if Path(uv).exists():
            command = [
                uv,
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--requirements",
                str(requirements),
                "--target",
                str(target),
                "--python-platform",
                LAMBDA_PLATFORM,
                "--python-version",
                LAMBDA_PYTHON_VERSION,
                "--only-binary",
                ":all:",
            ]
        else:
            command = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--requirement",
                str(requirements),
                "--target",
                str(target),
                "--platform",
                "manylinux_2_28_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                LAMBDA_PYTHON_VERSION,
                "--only-binary=:all:",
            ]
        subprocess.run(command, check=True)  # noqa: S603 (fixed argv, no shell)
        return True


def dependency_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(DEPENDENCIES_DIR),
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds, so no Docker is needed.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=PipForLambdaPlatform(),
        ),
    )


def shared_layer_code() -> lambda_.Code:
    """The `invoicing` package as it is in the repo: layers/shared/python/invoicing."""
    return lambda_.Code.from_asset(str(ROOT / "layers" / "shared"), exclude=["**/__pycache__", "**/*.pyc"])


def function_code(name: str) -> lambda_.Code:
    return lambda_.Code.from_asset(str(ROOT / "functions" / name), exclude=["**/__pycache__", "**/*.pyc"])
