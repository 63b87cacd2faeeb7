"""IAM service last accessed: GenerateServiceLastAccessedDetails and its Get.

A job is computed at once from what the directory records and kept in the store
(`uow.report_jobs`), so any instance answers for a job started at another.
"""

from __future__ import annotations

import fnmatch
import uuid
from datetime import datetime
from typing import Any

from bridge.directory import ids
from bridge.errors import NotFound
from bridge.policy import PolicyError, parse_policy
from bridge.query.iam import IAM, MARKER, MAX_ITEMS, arn_field, paginate
from bridge.query.iam_reports import (
    JOB_RETENTION,
    any_resource,
    decode_content,
    encode_content,
    load_job,
    principal_policies,
    save_job,
)
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Result
from bridge.storage.interfaces import User
from bridge.storage.report_jobs import ReportJob

SERVICE_NAMES = {
    "iam": "AWS Identity and Access Management",
    "sts": "AWS Security Token Service",
    "s3": "Amazon S3",
    "ec2": "Amazon EC2",
    "lambda": "AWS Lambda",
    "dynamodb": "Amazon DynamoDB",
    "sqs": "Amazon SQS",
    "sns": "Amazon SNS",
    "kms": "AWS Key Management Service",
    "logs": "Amazon CloudWatch Logs",
    "cloudwatch": "Amazon CloudWatch",
    "secretsmanager": "AWS Secrets Manager",
}
Use = tuple[str, str, datetime, str | None]  # entity arn, service, when, region
JOB_KIND = "service_last_accessed"


@IAM.action(
    "GenerateServiceLastAccessedDetails",
    arn_field("Arn"),
    Field("Granularity", choices=("SERVICE_LEVEL", "ACTION_LEVEL"), default="SERVICE_LEVEL"),
    resource=lambda _ctx, p: str(p["Arn"]),
)
def generate_service_last_accessed_details(ctx: ActionContext, p: Params) -> Result:
    """Computed at once from what the directory records: access keys' and roles' last use."""
    documents, uses = _entity_activity(ctx, p["Arn"])
    services = tuple(_service_entry(ns, uses) for ns in sorted(_namespaces(documents)))
    job_id = str(uuid.UUID(bytes=ctx.services.rng.token_bytes(16), version=4))
    now = ctx.services.clock.now()
    content = encode_content(list(services))
    save_job(ctx, ReportJob(job_id, JOB_KIND, now, now + JOB_RETENTION, content, p["Granularity"]))
    return {"JobId": job_id}


@IAM.action(
    "GetServiceLastAccessedDetails",
    Field("JobId", required=True, min_len=36, max_len=36),
    MARKER,
    MAX_ITEMS,
    resource=any_resource,
)
def get_service_last_accessed_details(ctx: ActionContext, p: Params) -> Result:
    job = load_job(ctx, p["JobId"])
    if job is None or job.kind != JOB_KIND:
        raise NotFound(f"no service last accessed job has the id `{p['JobId']}`")
    page, meta = paginate(decode_content(job.content), p)
    return {
        "JobStatus": "COMPLETED",
        "JobType": job.detail,
        "JobCreationDate": job.created_at,
        "ServicesLastAccessed": list(page),
        "JobCompletionDate": job.created_at,
        **meta,
    }


def _entity_activity(ctx: ActionContext, arn: str) -> tuple[list[str], list[Use]]:
    """The policy documents of a user, group, role or managed policy, and recorded uses."""
    parsed = ids.parse_arn(arn, "Arn")
    if parsed.kind == "policy":
        entities = ctx.directory.policies.list_entities(arn)
        uses = [u for user in entities.users for u in _key_uses(ctx, user)]
        uses += [u for g in entities.groups for u in _group_uses(ctx, g.name)]
        uses += [u for role in entities.roles for u in _role_uses(ctx, role)]
        return [ctx.directory.policies.default_document(arn)], uses
    found = principal_policies(ctx, arn)
    documents = [policy.document for policy in found.identity]
    if parsed.kind == "user":
        return documents, _key_uses(ctx, ctx.directory.users.get(parsed.name))
    if parsed.kind == "group":
        return documents, _group_uses(ctx, parsed.name)
    return documents, _role_uses(ctx, ctx.directory.roles.get(parsed.name))


def _key_uses(ctx: ActionContext, user: User) -> list[Use]:
    """The user's keys' last use, and the decisions `/v1/authorize` made on the user."""
    arn = ids.entity_arn(ctx.account_id, "user", user.path, user.name)
    return [
        (arn, key.last_used_service, key.last_used_at, key.last_used_region)
        for key in ctx.directory.keys.list(user.name)
        if key.last_used_at is not None and key.last_used_service is not None
    ] + _decision_uses(ctx, user.user_id, arn)


def _decision_uses(ctx: ActionContext, entity_id: str, arn: str) -> list[Use]:
    """Service last accessed from `/v1/authorize` decisions (`bridge.authz.last_access`)."""
    return [
        (arn, use.namespace, use.last_authenticated, use.region)
        for use in ctx.services.last_access.uses([entity_id])
    ]


def _group_uses(ctx: ActionContext, group_name: str) -> list[Use]:
    members = ctx.directory.groups.users_in_group(group_name)
    return [use for user in members for use in _key_uses(ctx, user)]


def _role_uses(ctx: ActionContext, role: Any) -> list[Use]:
    """A role's last use through STS is when it was assumed; its sessions' decisions at
    `/v1/authorize` count for the services they named."""
    arn = ids.entity_arn(ctx.account_id, "role", role.path, role.name)
    uses = _decision_uses(ctx, role.role_id, arn)
    if role.last_used_at is None:
        return uses
    return [(arn, "sts", role.last_used_at, role.last_used_region), *uses]


def _namespaces(documents: list[str]) -> set[str]:
    """The service prefixes that the documents' Allow statements name (`*` → every known)."""
    found: set[str] = set()
    for document in documents:
        try:
            statements = parse_policy(document, strict=False).statements
        except PolicyError:
            continue
        for statement in statements:
            if statement.effect != "Allow":
                continue
            patterns = ["*"] if statement.not_action else statement.action
            for pattern in patterns:
                prefix = pattern.split(":", 1)[0].lower()
                found |= set(fnmatch.filter(SERVICE_NAMES, prefix)) | (
                    {prefix} if "*" not in prefix and "?" not in prefix else set()
                )
    return found


def _service_entry(namespace: str, uses: list[Use]) -> dict[str, Any]:
    mine = [use for use in uses if use[1] == namespace]
    entry: dict[str, Any] = {
        "ServiceName": SERVICE_NAMES.get(namespace, namespace),
        "ServiceNamespace": namespace,
        "TotalAuthenticatedEntities": len({use[0] for use in mine}),
    }
    if mine:
        entity, _, when, region = max(mine, key=lambda use: use[2])
        entry |= {
            "LastAuthenticated": when,
            "LastAuthenticatedEntity": entity,
            "LastAuthenticatedRegion": region,
        }
    return entry
