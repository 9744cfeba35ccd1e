"""Synthesize every environment once per test session, as `make synth` does but without bundling.

Bundling is skipped (`aws:cdk:bundling-stacks` = []), so no pip runs in tests; cdk-nag runs as it
does at every synth, and its report is kept for the tests to read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.config import ENVIRONMENTS, EnvironmentConfig, load_config

NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass(frozen=True)
class Synth:
    templates: dict[str, dict[str, Any]]
    validation_report: dict[str, Any]
    outdir: Path


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from infra.app import build_app, create_app, stack_name

    outdir: Path = tmp_path_factory.mktemp("cdk.out")
    app = build_app(create_app(context=NO_BUNDLING, outdir=str(outdir)))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged finding
    return Synth(
        templates={env: assembly.get_stack_by_name(stack_name(env)).template for env in ENVIRONMENTS},
        validation_report=json.loads((outdir / "validation-report.json").read_text(encoding="utf-8")),
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def templates(synth: Synth) -> dict[str, dict[str, Any]]:
    return synth.templates


@pytest.fixture(scope="session")
def configs() -> dict[str, EnvironmentConfig]:
    return {env: load_config(env) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def prod(templates: dict[str, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(templates["prod"])


@pytest.fixture(scope="session")
def dev(templates: dict[str, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(templates["dev"])
