"""Synthesize every environment once per test session; bundling is skipped (no pip in tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from infra.app import build_app, create_app

    outdir: Path = tmp_path_factory.mktemp("cdk.out")
    app = build_app(create_app(context=NO_BUNDLING, outdir=str(outdir)))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged finding
    return {
        env: assembly.get_stack_by_name(f"SayProInvoicing-{env}").template
        for env in ("dev", "staging", "prod")
    }


@pytest.fixture(scope="session")
def prod(templates: dict[str, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(templates["prod"])


@pytest.fixture(scope="session")
def dev(templates: dict[str, dict[str, Any]]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(templates["dev"])
