"""Durable download links: the link-key secret, the download function, and its HTTP API route.

`GET /download/{invoice_number}` has no authorizer on purpose: the signed, expiring, per-invoice
token in the link is the credential (see domain/links.py). The `/invoices` routes are behind a
JWT authorizer: identity comes only from the verified token's claims. Their function also serves
support's `POST /invoices/{invoice_number}/corrections`, so it may read an order by key and
write what a correction writes (the ledger's items, the documents under invoices/).
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import EnvironmentConfig, RouteThrottle
from infra.constructs.invoice_generator import SharedLayers
from infra.constructs.log_retention import API_LOG_GROUP_PREFIX, log_retention
from infra.constructs.service_function import ServiceFunction
from infra.constructs.storage import removal_policy
from infra.nag import acknowledge
from infra.resources import (
    INVOICE_PDF_PREFIX,
    OPERATIONS_REPORT_DOCUMENT,
    OPERATIONS_REPORTS_PREFIX,
    RECONCILIATION_PREFIX,
    RENDITIONS_PREFIX,
    SWEEP_INDEX,
    VENDOR_STATEMENTS_PREFIX,
)

API_INVOKED = (
    "Invoked synchronously by the HTTP API, and a DeadLetterConfig only ever receives asynchronous "
    "invocations: a failure is answered to the caller (5xx), logged and counted by the function's "
    "errors metric, and the caller asks again; nothing is queued to be lost."
)
# One JSON object per request (CloudWatch Logs Insights reads its fields). Never the query string:
# the download link's token is in it; the route key names the route without the invoice number.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "error": "$context.error.message",
}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    """Access logs in CloudWatch, one JSON object per request (ACCESS_LOG_FIELDS)."""

    def __init__(self, destination: apigw.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class DownloadApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        orders: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        report_counters: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        self._report_counters = report_counters
        # The keyring {"current": kid, "keys": {kid: secret}}; the first key is generated here.
        self.link_keys = secretsmanager.Secret(
            self,
            "LinkKeys",
            secret_name=f"{config.resource_prefix}-link-keys",
            description="HMAC keys signing invoice download links (rotate by procedure, see README)",
            encryption_key=data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"current": "k1"}),
                generate_string_key="k1_secret",
                password_length=64,
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.RETAIN
            if config.removal_policy == "retain"
            else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.link_keys,
            "AwsSolutions::AwsSolutions-SMG4",
            "Rotation must keep the previous key for the link lifetime: it follows the documented "
            "add-key, make-current, retire-after-lifetime procedure, not a single-value rotation Lambda.",
        )
        service = ServiceFunction(
            self,
            "Download",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="invoice_download",
            name="invoice-download",
            description="GET /download/{invoice_number}?token= -> the invoice page, or 302 to the PDF",
            memory_mb=256,
            timeout=Duration.seconds(10),
            environment={
                "INVOICES_TABLE_NAME": invoices.table_name,
                "INVOICE_BUCKET_NAME": documents.bucket_name,
                "LINK_KEYS_SECRET_ID": self.link_keys.secret_arn,
                "REPORT_COUNTERS_TABLE_NAME": report_counters.table_name,
                "REPORT_COUNTER_SHARDS": str(config.report_counter_shards),
                "LINK_LIFETIME_DAYS": str(config.link_lifetime_days),
            },
        )
        self.function = service.function
        service.no_dead_letter_config(API_INVOKED)
        self.link_keys.grant_read(service.role)
        for statement in (
            iam.PolicyStatement(
                sid="InvoiceRecords",
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="CountRefusedDownloads",
                actions=["dynamodb:UpdateItem"],
                resources=[report_counters.table_arn],
            ),
            iam.PolicyStatement(
                sid="DataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[data_key.key_arn]
            ),
        ):
            service.role.add_to_policy(statement)
        service.allow_invoice_pdfs(
            "PresignPdfs",
            ["s3:GetObject", "s3:GetObjectVersion"],
            documents,
            INVOICE_PDF_PREFIX,
            "Read-only, only the invoices/ prefix: the presigned URL is signed by this role for one PDF.",
        )
        service.allow_invoice_pdfs(
            "PresignReports",
            ["s3:GetObject"],
            documents,
            RECONCILIATION_PREFIX,
            "Read-only, only reports/reconciliation/: the presigned URL of one report file, for finance.",
        )
        service.allow_invoice_pdfs(
            "PresignOperationsReports",
            ["s3:GetObject"],
            documents,
            OPERATIONS_REPORTS_PREFIX,
            "Read-only, only reports/operations/: the presigned URL of one operations report file.",
        )
        service.allow_invoice_pdfs(
            "PresignStatements",
            ["s3:GetObject"],
            documents,
            VENDOR_STATEMENTS_PREFIX,
            "Read-only, only reports/vendor-statements/: the presigned URL of one statement, for its vendor.",
        )
        service.allow_invoice_pdfs(
            "PresignRenditions",
            ["s3:GetObject"],
            documents,
            RENDITIONS_PREFIX,
            "Read-only, only renditions/: the presigned URL of an invoice's newest rendition.",
        )

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"{API_LOG_GROUP_PREFIX}{config.resource_prefix}-invoices-access",
            encryption_key=data_key,
            retention=log_retention(config.log_retention_days),
            removal_policy=removal_policy(config),
        )
        self.api = apigw.HttpApi(
            self,
            "Api",
            api_name=f"{config.resource_prefix}-invoices",
            description="Invoice download links (and, next, the invoices API)",
            create_default_stage=False,
        )
        stage = apigw.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            # Only for a route not given its own limits by throttle_routes.
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_throttles.stage_default.rate_limit,
                burst_limit=config.api_throttles.stage_default.burst_limit,
            ),
            access_log_settings=_AccessLogs(apigw.LogGroupLogDestination(access_logs)),
        )
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        self._stage = cfn_stage
        self._route_settings: dict[str, dict[str, float]] = {}
        self.url = stage.url.rstrip("/") if stage.url else ""
        route = self.api.add_routes(
            path="/download/{invoice_number}",
            methods=[apigw.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("DownloadIntegration", self.function),
        )
        # The hosted invoice page's "send me a fresh link" (an expired link's token, in the form).
        route += self.api.add_routes(
            path="/download/{invoice_number}/fresh-link",
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("FreshLinkIntegration", self.function),
        )
        # ... and its "report a problem" (the link's token in the form), into the inquiry log.
        route += self.api.add_routes(
            path="/download/{invoice_number}/problem",
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("ReportProblemIntegration", self.function),
        )
        # Finance opens a reconciliation report's files the same way, a vendor its statements:
        # a signed link per file.
        route += self.api.add_routes(
            path="/reports/{report_id}/{file_name}",
            methods=[apigw.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("ReportDownloadIntegration", self.function),
        )
        route += self.api.add_routes(
            path="/feedback/{invoice_number}",
            methods=[apigw.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("FeedbackIntegration", self.function),
        )
        route += self.api.add_routes(
            path="/statements/{statement_id}",
            methods=[apigw.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("StatementDownloadIntegration", self.function),
        )
        for item in route:
            acknowledge(
                item,
                "AwsSolutions::AwsSolutions-APIG4",
                "Public by design: the signed, expiring token in the link (one invoice, or one report file) "
                "is the authorization.",
            )
            acknowledge(
                item,
                "AwsSolutions::AwsSolutions-COG4",
                "Not a Cognito user pool API: the link token is the credential on this route.",
            )
        self.throttle_routes(route, config.api_throttles.download)
        self._add_invoices_api(
            config=config,
            layers=layers,
            invoices=invoices,
            orders=orders,
            documents=documents,
            data_key=data_key,
        )

    def throttle_routes(self, routes: list[apigw.HttpRoute], limits: RouteThrottle) -> None:
        """Give each route its own token bucket (the stage's RouteSettings, keyed by route key), so
        that a flood on one route is refused there and the others keep their capacity."""
        for route in routes:
            cfn_route = route.node.default_child
            assert isinstance(cfn_route, apigw.CfnRoute)
            self._route_settings[cfn_route.route_key] = {
                "ThrottlingRateLimit": limits.rate_limit,
                "ThrottlingBurstLimit": limits.burst_limit,
            }
            # A stage naming a route key that does not exist yet is refused ("Unable to find
            # Route by key"): create the routes first.
            self._stage.node.add_dependency(route)
        self._stage.route_settings = dict(self._route_settings)

    def _add_invoices_api(
        self,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        orders: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
    ) -> None:
        """GET /invoices..., each caller only its own, identity from the verified JWT only, on a
        read-only function; POST /invoices/{invoice_number}/corrections, support only (checked by
        the function), on a function of its own that alone may write (the same code: one resolver)."""
        environment = {
            "INVOICES_TABLE_NAME": invoices.table_name,
            "LINK_KEYS_SECRET_ID": self.link_keys.secret_arn,
            "DOWNLOAD_BASE_URL": self.url,
            "LINK_LIFETIME_DAYS": str(config.link_lifetime_days),
            "ORDERS_TABLE_NAME": orders.table_name,
            "INVOICE_BUCKET_NAME": documents.bucket_name,
            "INVOICE_SERIES": config.invoice_series,
            "CREDIT_NOTE_SERIES": config.credit_note_series,
            "SELLER_JSON": json.dumps(config.seller.model_dump()),
            "PAYMENT_POLICY_JSON": json.dumps(
                {"pay_later": {k: v.model_dump() for k, v in config.pay_later.items()}}
            ),
            "REPORT_COUNTERS_TABLE_NAME": self._report_counters.table_name,
            "REPORT_COUNTER_SHARDS": str(config.report_counter_shards),
            "REPORT_TARGETS_JSON": json.dumps(config.report_targets),
        }
        service = ServiceFunction(
            self,
            "Invoices",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="invoices_api",
            name="invoices-api",
            description="A customer's or vendor's own invoices (list, one, download link), read-only",
            environment=environment,
        )
        self.invoices_function = service.function
        service.no_dead_letter_config(API_INVOKED)
        self.link_keys.grant_read(service.role)
        service.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadOwnInvoices",
                actions=["dynamodb:GetItem", "dynamodb:Query"],
                resources=[
                    invoices.table_arn,
                    f"{invoices.table_arn}/index/by-customer",
                    f"{invoices.table_arn}/index/by-vendor",
                ],
            )
        )
        # The console's operations picture: the backlog (sweep index) and the week's counters.
        service.role.add_to_policy(
            iam.PolicyStatement(
                sid="OperationsBacklog",
                actions=["dynamodb:Query"],
                resources=[f"{invoices.table_arn}/index/{SWEEP_INDEX}"],
            )
        )
        service.role.add_to_policy(
            iam.PolicyStatement(
                sid="OperationsWeek",
                actions=["dynamodb:BatchGetItem"],
                resources=[self._report_counters.table_arn],
            )
        )
        # The console's past reports: a listing of the operations reports' folders, and each
        # report's report.json (never its PDF or CSVs: those go by their signed links).
        service.role.add_to_policy(
            iam.PolicyStatement(
                sid="OperationsReportList",
                actions=["s3:ListBucket"],
                resources=[documents.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{OPERATIONS_REPORTS_PREFIX}OPS-*"]}},
            )
        )
        report_documents = f"{OPERATIONS_REPORTS_PREFIX}*/{OPERATIONS_REPORT_DOCUMENT}"
        service.allow(
            "OperationsReportDocuments", ["s3:GetObject"], [documents.arn_for_objects(report_documents)]
        )
        acknowledge(
            service.role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{self._bucket_id(documents)}.Arn>/{report_documents}]",
            "One report.json per report id (a week, month, quarter or span): the console reads the one asked "
            "for, and no other file of the reports or any invoice.",
        )
        service.role.add_to_policy(
            iam.PolicyStatement(
                sid="DataKey",  # the CMK-encrypted table and SSE-KMS report documents
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=[data_key.key_arn],
            )
        )
        self.corrections_function = self._add_corrections_function(
            config=config,
            layers=layers,
            invoices=invoices,
            orders=orders,
            documents=documents,
            data_key=data_key,
            environment=environment,
        )
        authorizer = authorizers.HttpJwtAuthorizer(
            "Jwt",
            config.jwt_issuer,
            jwt_audience=self._audiences(config),
            identity_source=["$request.header.Authorization"],
        )
        integration = integrations.HttpLambdaIntegration("InvoicesIntegration", self.invoices_function)
        for path in (
            "/invoices",
            "/invoices/{invoice_number}",
            "/invoices/{invoice_number}/download-link",
            "/statements",
            "/support/invoices",
            "/support/invoices/{invoice_number}/timeline",
            "/support/inquiries",
            "/support/inquiries/{inquiry_id}",
            "/operations/overview",
            "/operations/reports",
            "/operations/reports/{report_id}",
        ):
            routes = self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=integration, authorizer=authorizer
            )
            self.throttle_routes(routes, config.api_throttles.invoices)
            self._not_cognito(routes)
        # Support only (the function refuses any other role with 403), its own smaller bucket.
        corrections = self.api.add_routes(
            path="/invoices/{invoice_number}/corrections",
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration(
                "CorrectionsIntegration", self.corrections_function
            ),
            authorizer=authorizer,
        )
        self.throttle_routes(corrections, config.api_throttles.corrections)
        self._not_cognito(corrections)
        # Support's resend writes (a request, announced): the writing function, the same bucket.
        writes = integrations.HttpLambdaIntegration("SupportWritesIntegration", self.corrections_function)
        for path in (
            "/support/invoices/{invoice_number}/resend",
            "/support/inquiries/{inquiry_id}/actions",
            # Customers and vendors report a problem with their own invoice (the function checks).
            "/invoices/{invoice_number}/inquiries",
        ):
            routes = self.api.add_routes(
                path=path, methods=[apigw.HttpMethod.POST], integration=writes, authorizer=authorizer
            )
            self.throttle_routes(routes, config.api_throttles.corrections)
            self._not_cognito(routes)

    def _add_corrections_function(
        self,
        *,
        config: EnvironmentConfig,
        layers: SharedLayers,
        invoices: dynamodb.ITableV2,
        orders: dynamodb.ITableV2,
        documents: s3.IBucket,
        data_key: kms.IKey,
        environment: dict[str, str],
    ) -> lambda_.IFunction:
        """The corrections route's function: reads the order by key, writes the ledger, the documents."""
        service = ServiceFunction(
            self,
            "Corrections",
            config=config,
            log_key=data_key,
            layers=layers.all,
            code_folder="invoices_api",
            name="invoice-corrections",
            description="Support's corrections: POST /invoices/{invoice_number}/corrections only",
            # A correction renders and stores two PDFs: the memory of the generator that does the
            # same, within the HTTP API's 30-second integration limit.
            memory_mb=config.generator_memory_mb,
            timeout=Duration.seconds(28),
            environment=environment,
        )
        service.no_dead_letter_config(API_INVOKED)
        for statement in (
            iam.PolicyStatement(
                # A correction's transaction: each item is authorised as the PutItem / UpdateItem /
                # ConditionCheckItem it is (TransactWriteItems has no action of its own).
                sid="CorrectInvoices",
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[invoices.table_arn],
            ),
            iam.PolicyStatement(
                sid="OrdersByKey", actions=["dynamodb:GetItem"], resources=[orders.table_arn]
            ),
            iam.PolicyStatement(
                sid="DataKey",  # the CMK-encrypted tables and the SSE-KMS documents
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[data_key.key_arn],
            ),
        ):
            service.role.add_to_policy(statement)
        service.allow_invoice_pdfs(
            "InvoiceDocuments",
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            documents,
            INVOICE_PDF_PREFIX,
            "Only under the invoices/ prefix: a correction reads the invoice's document (by version) and "
            "stores the credit note's and revised invoice's documents and PDFs, keyed per number.",
        )
        return service.function

    @staticmethod
    def _audiences(config: EnvironmentConfig) -> list[str]:
        """The API's audience; and the pages' client when they send their ID token (it names it)."""
        pages = config.pages_sign_in
        return [config.jwt_audience] + ([pages.client_id] if pages.send_to_api == "id_token" else [])

    @staticmethod
    def _bucket_id(bucket: s3.IBucket) -> str:
        return Stack.of(bucket).get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]

    @staticmethod
    def _not_cognito(routes: list[apigw.HttpRoute]) -> None:
        for route in routes:
            acknowledge(
                route,
                "AwsSolutions::AwsSolutions-COG4",
                "A JWT authorizer trusting the marketplace's identity provider guards it, not Cognito.",
            )
