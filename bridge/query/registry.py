"""Query actions: what each one reads, which IAM action and resource it is judged on, and
the handler that does it. Modules `iam_*.py` and `sts.py` fill one registry each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.authz.decide import Authorizer, RequestFacts
from bridge.authz.principal import Caller
from bridge.directory.service import Directory
from bridge.errors import AccessDenied
from bridge.query.params import Field
from bridge.services import Services

Result = Mapping[str, Any]
Params = dict[str, Any]


@dataclass
class ActionContext:
    services: Services
    authorizer: Authorizer
    caller: Caller | None
    request_id: str
    facts: RequestFacts

    @property
    def directory(self) -> Directory:
        return self.services.directory

    @property
    def account_id(self) -> str:
        return self.services.settings.account_id

    def arn(self, kind: str, path: str, name: str) -> str:
        """`arn:aws:iam::<account>:<kind><path><name>`, e.g. `user/eng/alice` for path `/eng/`."""
        return f"arn:aws:iam::{self.account_id}:{kind.rstrip('/')}{path}{name}"

    def require_caller(self) -> Caller:
        if self.caller is None:
            raise AccessDenied("this action needs a signed request")
        return self.caller

    def authorize(self, action: str, resource: str) -> None:
        """Raise `AccessDenied` naming the action and resource unless the caller may."""
        caller = self.require_caller()
        decision = self.authorizer.decide(caller, action, resource, self.facts)
        if not decision.allowed:
            reason = "with an explicit deny" if decision.effect == "explicitDeny" else ""
            raise AccessDenied(
                f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                f"{resource}{(' ' + reason) if reason else ''}"
            )


Handler = Callable[[ActionContext, Params], Result | None]
ResourceOf = Callable[[ActionContext, Params], str]


@dataclass(frozen=True)
class Action:
    name: str
    handler: Handler
    fields: tuple[Field, ...] = ()
    resource: ResourceOf | None = None  # None: the action is not IAM-authorized here
    has_output: bool = True
    signed: bool = True


@dataclass
class Registry:
    service: str
    actions: dict[str, Action] = field(default_factory=dict)

    def action(
        self,
        name: str,
        *fields: Field,
        resource: ResourceOf | None = None,
        has_output: bool = True,
        signed: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Decorator registering a handler as the action `name`."""

        def register(handler: Handler) -> Handler:
            if name in self.actions:
                raise ValueError(f"action {name} registered twice")
            self.actions[name] = Action(name, handler, fields, resource, has_output, signed)
            return handler

        return register

    def get(self, name: str) -> Action | None:
        return self.actions.get(name)
