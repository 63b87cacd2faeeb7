"""The shared IAM policy engine: parse, validate, compile and evaluate policies.

Pure Python and standard library only; it imports nothing else of the project.
"""

from bridge.policy.document import Policy, parse_policy
from bridge.policy.errors import PolicyError
from bridge.policy.evaluate import PolicySet, evaluate
from bridge.policy.model import Decision, Finding, MatchedStatement, Principal, Request
from bridge.policy.statement import Statement
from bridge.policy.validate import validate

__all__ = [
    "Decision",
    "Finding",
    "MatchedStatement",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Principal",
    "Request",
    "Statement",
    "evaluate",
    "parse_policy",
    "validate",
]
