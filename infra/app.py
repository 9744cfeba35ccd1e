"""The CDK app: `-c env=dev|staging|prod` synthesizes one environment, no context all three.

    .venv/bin/python -m infra.app                  # every environment into cdk.out/ (make synth)
    npx cdk deploy -c env=staging                  # one environment, through the CDK CLI

cdk-nag's AWS Solutions and Serverless checks run at synth as validation plugins; an
unacknowledged finding of either fails the synth. The feature flags in cdk.json are applied
whether the CLI runs the app or it is run directly (make synth, tests), so every path
synthesizes the same templates.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra.config import ENVIRONMENTS, load_config
from infra.stacks.invoicing_stack import InvoicingStack

ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = ROOT / "cdk.json"


def stack_name(env_name: str) -> str:
    return f"SayProInvoicing-{env_name}"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags): the CLI passes it, a direct run must read it."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return context


def create_app(*, context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """An App with cdk.json's context; values the CLI passes (`-c ...`) still take precedence."""
    return cdk.App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)


def add_nag_packs(app: cdk.App) -> None:
    """The cdk-nag packs every synth runs: AWS Solutions (security) and Serverless (DLQs,
    redrive, structured logs). Acknowledgements name their pack: `AwsSolutions::...`,
    `Serverless::...`."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True), ServerlessChecks(app, verbose=True)
    )


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or create_app()
    requested = app.node.try_get_context("env")
    for env_name in [requested] if requested else ENVIRONMENTS:
        config = load_config(env_name)
        InvoicingStack(
            app,
            stack_name(env_name),
            config=config,
            env=cdk.Environment(account=config.account, region=config.region),
            termination_protection=config.env_name == "prod",
            description=f"SayPro invoicing pipeline ({env_name})",
        )
    add_nag_packs(app)
    return app


if __name__ == "__main__":
    # The CDK CLI passes its output folder in CDK_OUTDIR; run directly (make synth), use cdk.out.
    build_app(create_app(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")).synth()
