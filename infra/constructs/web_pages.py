"""The pages people use (web/): static files in a private bucket, served by CloudFront through
origin access control, with the API behind the same domain, so the pages call it without CORS.

The hosted invoice page itself is rendered by the download function (`/download/...`); CloudFront
passes those paths, and the API's, to the HTTP API uncached with every viewer header but Host (the
bearer token included). Every answer carries the security headers below; the static pages' CSP
allows nothing but this origin, and the identity provider for the sign-in's calls (discovery and
the token endpoint). `sign-in/config.json` tells the pages which issuer and client to sign in with.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as deployment
from constructs import Construct

from infra.bundling import ROOT
from infra.config import EnvironmentConfig
from infra.constructs.log_retention import log_retention
from infra.nag import acknowledge

WEB_DIR = ROOT / "web"
API_PATHS = (
    "/invoices*",
    "/support*",
    "/operations/*",
    "/statements*",
    "/download/*",
    "/reports/*",
    "/feedback/*",
)
"""What CloudFront hands to the HTTP API (the rest is the pages' bucket)."""
STATIC_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SIGN_IN_CONFIG = "sign-in/config.json"
"""Read by web/sign-in/oidc.js: the issuer and the pages' client, written per environment."""


def identity_provider_origins(config: EnvironmentConfig) -> list[str]:
    """Where the pages' sign-in fetches from: the issuer's discovery document and token endpoint."""
    issuer = urlsplit(config.jwt_issuer)
    return list(dict.fromkeys([f"https://{issuer.netloc}", *config.pages_sign_in.identity_provider_origins]))


def static_csp(config: EnvironmentConfig) -> str:
    """The static pages' CSP: this origin only, and the identity provider for the sign-in's calls."""
    return f"{STATIC_CSP}; connect-src 'self' {' '.join(identity_provider_origins(config))}"


def sign_in_config(config: EnvironmentConfig) -> dict[str, str]:
    sign_in = config.pages_sign_in
    return {
        "issuer": config.jwt_issuer,
        "client_id": sign_in.client_id,
        "scopes": sign_in.scopes,
        "send_to_api": sign_in.send_to_api,
    }


class WebPages(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        api_url: str,
        access_logs: s3.IBucket,
        removal_policy: RemovalPolicy,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Pages",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # public pages' code, nothing personal
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="pages/",
            removal_policy=removal_policy,
            auto_delete_objects=False,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{config.resource_prefix}-pages",
            comment="Security headers of every page and API answer through CloudFront",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=static_csp(config), override=False
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
            ),
        )
        api_domain = Fn.select(2, Fn.split("/", api_url))
        api = origins.HttpOrigin(api_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY)
        to_api = cloudfront.BehaviorOptions(
            origin=api,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=headers,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{config.resource_prefix}: the account's Invoices section, the console, invoice pages",
            default_root_object="account/index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
            ),
            additional_behaviors=dict.fromkeys(API_PATHS, to_api),
            enable_logging=False,
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.deployment = deployment.BucketDeployment(
            self,
            "Deploy",
            sources=[
                deployment.Source.asset(str(WEB_DIR)),
                deployment.Source.json_data(SIGN_IN_CONFIG, sign_in_config(config)),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/account/*", "/console/*", "/sign-in/*"],
            memory_limit=256,
            log_group=logs.LogGroup(
                self,
                "DeployLogs",
                log_group_name=f"/aws/lambda/{config.resource_prefix}-pages-deployment",
                encryption_key=log_key,
                retention=log_retention(config.log_retention_days),
                removal_policy=removal_policy,
            ),
        )
        self._acknowledge_deployment_handler()
        for rule, reason in (
            (
                "AwsSolutions::AwsSolutions-CFR1",
                "The invoices are the marketplace's, for customers in every country.",
            ),
            (
                "AwsSolutions::AwsSolutions-CFR2",
                "No WAF in front of it yet: the API behind it is throttled per route and every request is "
                "authorized (a JWT or a signed link); a web ACL is a per-account decision left to devops.",
            ),
            (
                "AwsSolutions::AwsSolutions-CFR3",
                "CloudFront standard logs need an ACL-enabled bucket; the API's own access logs record every "
                "request that reaches a function, and the static files hold nothing personal.",
            ),
            (
                "AwsSolutions::AwsSolutions-CFR4",
                "The default *.cloudfront.net certificate, whose TLS policy CloudFront sets: the minimum "
                "version is set with the marketplace's own domain and certificate, when devops attach them.",
            ),
        ):
            acknowledge(self.distribution, rule, reason)

    def _acknowledge_deployment_handler(self) -> None:
        """CDK's own BucketDeployment handler (a stack-wide singleton): it copies web/ into the
        bucket at deploy time and invalidates the distribution, nothing at run time."""
        stack = Stack.of(self)
        pinned = "CDK pins its deployment handler's runtime, updated with each CDK release."
        replaces = "It replaces every page file of the bucket on a deploy."
        bucket_id = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        reasons = {
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": "CDK's deployment handler writes its own logs with this policy.",
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "A CloudFront invalidation names no resource.",
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]": replaces,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            f"{stack.region}/*]": "It reads the pages' asset zip from the CDK bootstrap bucket.",
            "AwsSolutions::AwsSolutions-L1": pinned,
            "Serverless::Serverless-LambdaDLQ": "Invoked by CloudFormation, which reports a failure itself.",
            "Serverless::Serverless-LambdaLatestVersion": pinned,
            "Serverless::Serverless-LambdaTracing": "A deploy-time copy: nothing to trace at run time.",
        }
        for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*"):
            reasons[f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]"] = (
                "CDK's own grant to its handler, which copies the pages into their bucket."
            )
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                for rule, reason in reasons.items():
                    acknowledge(child, rule, reason)
