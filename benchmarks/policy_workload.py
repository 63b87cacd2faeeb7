"""Deterministic IAM workload for the policy engine benchmark.

Everything here derives from one seeded `random.Random`, so the same seed gives
the same roles, statements and requests on every machine. The workload is
plain data (frozen dataclasses and JSON-ready dicts): the benchmark hands the
same roles to bridge, to moto and (translated) to Cedar.

Shape, as asked by the benchmark brief:
- 10 services with 20 actions each (`SERVICES`), 40 resources per service;
- 50 roles of 10 to 50 statements, about 15% `Deny`, about a third with a
  `Condition` block (StringEquals, StringLike, NumericLessThan, Bool, IpAddress,
  DateGreaterThan on global condition keys);
- wildcards in actions (`s3:Get*`, `ec2:Describe*`, `iam:*`, `dynamodb:?etItem`)
  and in resources (`arn:aws:s3:::bucket-7/*`, `...:table/t-*`);
- requests spread over the roles, half of them aimed at one of the role's
  statements (so about half match something), half drawn at random.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policy_catalogue import ACTION_PATTERNS, SERVICES

ACCOUNT = "123456789012"
REGION = "us-east-1"

RESOURCES_PER_SERVICE = 40
HOT_SHARE = 0.2
ID_SPACE = 1_000_000
TEAMS = ("alpha", "beta", "gamma", "delta", "platform", "data")
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
NETWORKS = ("10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "203.0.113.0/24")
MFA_AGE_KEY = "aws:MultiFactorAuthAge"
CONDITION_OPERATORS = (
    "StringEquals", "StringLike", "NumericLessThan", "Bool", "IpAddress", "DateGreaterThan",
)  # fmt: skip


@dataclass(frozen=True)
class Condition:
    """One operator on one key with its values (the values are ORed)."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...]

    def document(self) -> dict[str, object]:
        """The statement as IAM JSON."""
        doc: dict[str, object] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": list(self.actions),
            "Resource": list(self.resources),
        }
        if self.conditions:
            doc["Condition"] = {c.operator: {c.key: list(c.values)} for c in self.conditions}
        return doc


@dataclass(frozen=True)
class Role:
    name: str
    statements: tuple[Statement, ...]

    def documents(self, per_policy: int = 50) -> list[dict[str, object]]:
        """The role's identity policies as IAM JSON, `per_policy` statements each."""
        chunks = [
            self.statements[i : i + per_policy] for i in range(0, len(self.statements), per_policy)
        ]
        return [
            {"Version": "2012-10-17", "Statement": [s.document() for s in chunk]}
            for chunk in chunks
        ]


@dataclass(frozen=True)
class BenchRequest:
    """A request for one role; context values are IAM strings (`"true"`, `"1200"`)."""

    role: int
    action: str
    resource: str
    context: Mapping[str, str]


@dataclass(frozen=True)
class Workload:
    roles: tuple[Role, ...]
    requests: tuple[BenchRequest, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def all_actions() -> tuple[str, ...]:
    return tuple(f"{svc}:{name}" for svc, names in SERVICES.items() for name in names)


def resource_arn(service: str, index: int) -> str:
    """The `index`th resource of a service, shaped like its real ARNs."""
    if service == "s3":
        return f"arn:aws:s3:::bucket-{index % 10}/data/part-{index // 10}.csv"
    if service == "dynamodb":
        prefix = "t" if index % 2 else "u"
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{prefix}-{index}"
    if service == "iam":
        return f"arn:aws:iam::{ACCOUNT}:role/r-{index}"
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{service}-res/{service}-{index}"


def request_resource(rng: random.Random, service: str) -> str:
    """A fifth of requests name a hot pool resource, the rest one of a million others."""
    if rng.random() < HOT_SHARE:
        return resource_arn(service, rng.randrange(RESOURCES_PER_SERVICE))
    return resource_arn(service, rng.randrange(RESOURCES_PER_SERVICE, ID_SPACE))


def service_resources(service: str) -> tuple[str, ...]:
    return tuple(resource_arn(service, i) for i in range(RESOURCES_PER_SERVICE))


def all_resources() -> tuple[str, ...]:
    return tuple(arn for svc in SERVICES for arn in service_resources(svc))


def resource_pattern(rng: random.Random, service: str) -> str:
    """A wildcard ARN pattern for a service (bucket prefix, table prefix, id prefix)."""
    if service == "s3":
        return f"arn:aws:s3:::bucket-{rng.randrange(10)}/*"
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{rng.choice('tu')}-*"
    if service == "iam":
        return f"arn:aws:iam::{ACCOUNT}:role/r-{rng.randrange(1, 4)}*"
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{service}-res/{service}-{rng.randrange(1, 4)}*"


def pick_action(rng: random.Random, service: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return f"{service}:*"
    if roll < 0.35:
        return rng.choice(ACTION_PATTERNS[service])
    return f"{service}:{rng.choice(SERVICES[service])}"


def pick_resource(rng: random.Random, service: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return "*"
    if roll < 0.6:
        return resource_pattern(rng, service)
    return rng.choice(service_resources(service))


def pick_condition(rng: random.Random, operator: str) -> Condition:
    """A condition on a global key; values are chosen so requests meet it about half the time."""
    if operator == "StringEquals":
        key = rng.choice(("aws:PrincipalTag/team", "aws:username"))
        pool = TEAMS if key.endswith("team") else USERS
        return Condition(operator, key, tuple(rng.sample(pool, rng.randint(1, len(pool) // 2))))
    if operator == "StringLike":
        return Condition(operator, "aws:username", (f"{rng.choice(USERS)[0]}*",))
    if operator == "NumericLessThan":
        return Condition(operator, MFA_AGE_KEY, (str(rng.choice((900, 1800, 3600))),))
    if operator == "Bool":
        return Condition(operator, "aws:MultiFactorAuthPresent", ("true",))
    if operator == "IpAddress":
        return Condition(operator, "aws:SourceIp", tuple(rng.sample(NETWORKS, rng.randint(1, 2))))
    month = rng.randint(1, 12)
    return Condition(operator, "aws:CurrentTime", (f"2026-{month:02d}-01T00:00:00Z",))


def pick_conditions(rng: random.Random) -> tuple[Condition, ...]:
    if rng.random() >= 1 / 3:
        return ()
    operators = rng.sample(CONDITION_OPERATORS, rng.choice((1, 1, 2)))
    return tuple(pick_condition(rng, op) for op in operators)


def make_statement(rng: random.Random, sid: str, service: str) -> Statement:
    return Statement(
        sid=sid,
        effect="Deny" if rng.random() < 0.15 else "Allow",
        actions=tuple(dict.fromkeys(pick_action(rng, service) for _ in range(rng.randint(1, 4)))),
        resources=tuple(
            dict.fromkeys(pick_resource(rng, service) for _ in range(rng.randint(1, 3)))
        ),
        conditions=pick_conditions(rng),
    )


def make_role(rng: random.Random, index: int) -> Role:
    """A role focused on three to five services, as a job function would be."""
    services = rng.sample(sorted(SERVICES), rng.randint(3, 5))
    count = rng.randint(10, 50)
    statements = tuple(
        make_statement(rng, f"S{index}x{i}", rng.choice(services)) for i in range(count)
    )
    return Role(f"role-{index}", statements)


def make_context(rng: random.Random) -> dict[str, str]:
    """Global condition keys of a request, each sometimes absent as in real sessions."""
    context: dict[str, str] = {
        "aws:username": rng.choice(USERS),
        "aws:PrincipalTag/team": rng.choice(TEAMS),
        "aws:SourceIp": rng.choice(
            (
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.7",
                f"192.168.1.{rng.randrange(256)}",
                f"198.51.100.{rng.randrange(256)}",
            )
        ),
        "aws:CurrentTime": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z",
    }
    if rng.random() < 0.7:
        context["aws:MultiFactorAuthPresent"] = rng.choice(("true", "true", "false"))
        context[MFA_AGE_KEY] = str(rng.randrange(0, 7200))
    if rng.random() < 0.1:
        del context["aws:PrincipalTag/team"]
    return context


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """IAM wildcards (`*` any run, `?` one character) as an anchored regular expression."""
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM wildcard matching, used to aim requests and to expand `?` for Cedar."""
    return pattern_regex(pattern).match(value) is not None


class Aimer:
    """Finds the catalogue actions and pool resources a pattern matches (memoised per run)."""

    def __init__(self, actions: Sequence[str]) -> None:
        self.actions = actions
        self.memo: dict[tuple[str, str], tuple[str, ...]] = {}

    def matching(self, pattern: str, pool: Sequence[str], kind: str) -> tuple[str, ...]:
        key = (kind, pattern)
        if key not in self.memo:
            regex = pattern_regex(pattern)
            self.memo[key] = tuple(v for v in pool if regex.match(v))
        return self.memo[key]

    def request(self, rng: random.Random, index: int, role: Role) -> BenchRequest:
        """A request on one of the role's statements: its action and resource match it."""
        statement = rng.choice(role.statements)
        service = statement.actions[0].split(":", 1)[0]
        action = rng.choice(self.matching(rng.choice(statement.actions), self.actions, "action"))
        resource = self.resource(rng, rng.choice(statement.resources), service)
        return BenchRequest(index, action, resource, make_context(rng))

    def resource(self, rng: random.Random, pattern: str, service: str) -> str:
        """A resource the pattern matches: hot from the pool sometimes, else a fresh one."""
        if pattern == "*":
            return request_resource(rng, service)
        hot = self.matching(pattern, service_resources(service), service)
        if "*" not in pattern or (hot and rng.random() < HOT_SHARE):
            return rng.choice(hot) if hot else pattern
        return pattern.replace("*", str(rng.randrange(ID_SPACE)))


def random_request(rng: random.Random, index: int, actions: Sequence[str]) -> BenchRequest:
    action = rng.choice(actions)
    resource = request_resource(rng, action.split(":", 1)[0])
    return BenchRequest(index, action, resource, make_context(rng))


def make_requests(
    rng: random.Random, roles: Sequence[Role], count: int
) -> tuple[BenchRequest, ...]:
    actions = all_actions()
    aimer = Aimer(actions)
    requests: list[BenchRequest] = []
    for _ in range(count):
        index = rng.randrange(len(roles))
        if rng.random() < 0.5:
            requests.append(aimer.request(rng, index, roles[index]))
        else:
            requests.append(random_request(rng, index, actions))
    return tuple(requests)


def generate(seed: int, requests: int, roles: int = 50) -> Workload:
    """The whole workload for one seed; same seed, same workload."""
    rng = random.Random(seed)
    role_list = tuple(make_role(rng, i) for i in range(roles))
    return Workload(
        roles=role_list,
        requests=make_requests(rng, role_list, requests),
        actions=all_actions(),
        resources=all_resources(),
    )


def more_requests(seed: int, roles: Sequence[Role], count: int) -> tuple[BenchRequest, ...]:
    """Other requests for the same roles (for warm-ups that must not see the measured ones)."""
    return make_requests(random.Random(seed), roles, count)


def unrelated_statement(rng: random.Random, index: int) -> Statement:
    """A statement on a made-up service (`svc<k>`) that no benchmark request names."""
    service = f"svc{index % 997}"
    actions = tuple(
        f"{service}:{verb}{rng.randrange(50)}"
        for verb in rng.sample(("Get", "Put", "List", "Delete"), 2)
    )
    resource = f"arn:aws:{service}:{REGION}:{ACCOUNT}:thing/{service}-{rng.randrange(100)}*"
    effect = "Deny" if rng.random() < 0.15 else "Allow"
    return Statement(f"U{index}", effect, actions, (resource,), pick_conditions(rng))


def scaling_role(seed: int, statements: int) -> Role:
    """One principal with `statements` statements: ten on real services, the rest unrelated."""
    rng = random.Random(seed)
    related = min(10, statements)
    real_services = sorted(SERVICES)
    own = [make_statement(rng, f"R{i}", rng.choice(real_services)) for i in range(related)]
    others = [unrelated_statement(rng, i) for i in range(statements - related)]
    merged = own + others
    rng.shuffle(merged)
    return Role(f"scale-{statements}", tuple(merged))
