"""Every Query action, registered by importing its module; `VERSIONS` routes on `Version`."""

from __future__ import annotations

from bridge.query import (  # noqa: F401 - each module registers its actions
    iam_credential_report,
    iam_credentials,
    iam_last_accessed,
    iam_mfa,
    iam_policies,
    iam_providers,
    iam_reports,
    iam_roles,
    iam_simulate,
    iam_users,
)
from bridge.query.iam import IAM
from bridge.query.registry import Registry
from bridge.query.sts import STS

VERSIONS: dict[str, Registry] = {"2010-05-08": IAM, "2011-06-15": STS}
