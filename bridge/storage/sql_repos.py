"""The repositories of `interfaces.py` over one SQLAlchemy `Session`.

Rows convert to records field by field (the column types return the record field
types). Writes check keys first so that `AlreadyExists` and `NotFound` name the
entity, and flush at once so a constraint that still fails (a concurrent writer)
surfaces at the call. Lists are sorted in Python with the orderings every store
shares (`bridge.storage.ordering`), never by the database collation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.models import (
    AccessKeyRow,
    AttachmentRow,
    Base,
    InlinePolicyRow,
    LoginProfileRow,
    MembershipRow,
    NamedRow,
    PolicyVersionRow,
    UserRow,
)
from bridge.storage.ordering import by_name

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Rec = TypeVar("Rec", bound="DataclassInstance")
M = TypeVar("M", bound=Base)
NM = TypeVar("NM", bound=NamedRow)


def to_record(record_type: type[Rec], row: Base) -> Rec:
    values = {f.name: getattr(row, f.name) for f in fields(record_type)}
    return cast(Rec, cast(Any, record_type)(**values))


def values_of(record: DataclassInstance) -> dict[str, Any]:
    """The record's fields, shallow (tags stay `Tag` objects for the column type)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def flush(session: Session, what: str) -> None:
    """Flush now; a unique or foreign-key violation becomes `AlreadyExists` naming `what`."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"{what} already exists") from exc


class Keyed(Generic[Rec, M]):
    """Records in one table keyed by one string column."""

    def __init__(
        self,
        session: Session,
        model: type[M],
        record_type: type[Rec],
        key: InstrumentedAttribute[str],
        *,
        kind: str,
        extra: Callable[[Rec], dict[str, Any]] | None = None,
    ) -> None:
        self.session = session
        self.model = model
        self.record_type = record_type
        self._key = key
        self.kind = kind
        self._extra = extra or (lambda _record: {})

    def key_of(self, record: Rec) -> str:
        return str(getattr(record, self._key.key))

    def row(self, key: str) -> M | None:
        return self.session.scalars(select(self.model).where(self._key == key)).one_or_none()

    def get(self, key: str) -> Rec | None:
        row = self.row(key)
        return None if row is None else to_record(self.record_type, row)

    def where(self, *criteria: ColumnElement[bool], order: Any = None) -> list[Rec]:
        query = select(self.model).where(*criteria)
        if order is not None:
            query = query.order_by(*order)
        return [to_record(self.record_type, r) for r in self.session.scalars(query)]

    def add(self, record: Rec, what: str = "") -> None:
        what = what or f"{self.kind} `{self.key_of(record)}`"
        if self.row(self.key_of(record)) is not None:
            raise AlreadyExists(f"{what} already exists")
        self.session.add(self.model(**values_of(record), **self._extra(record)))
        flush(self.session, what)

    def update(self, record: Rec) -> None:
        row = self._existing(self.key_of(record))
        for name, value in {**values_of(record), **self._extra(record)}.items():
            setattr(row, name, value)
        flush(self.session, f"{self.kind} `{self.key_of(record)}`")

    def remove(self, key: str) -> None:
        self.session.delete(self._existing(key))
        self.session.flush()

    def _existing(self, key: str) -> M:
        row = self.row(key)
        if row is None:
            raise NotFound(f"{self.kind} `{key}` does not exist")
        return row


class SqlNamed(Generic[Rec, NM]):
    """Users, groups, roles or managed policies: keyed by id, unique by lower-cased name."""

    def __init__(
        self,
        session: Session,
        model: type[NM],
        record_type: type[Rec],
        key: InstrumentedAttribute[str],
        *,
        kind: str,
        on_remove: Callable[[Session, str], None],
    ) -> None:
        self._rows = Keyed(session, model, record_type, key, kind=kind, extra=self._name_key)
        self._model = model
        self._on_remove = on_remove

    @staticmethod
    def _name_key(record: Rec) -> dict[str, Any]:
        return {"name_key": str(getattr(record, "name")).lower()}  # noqa: B009

    def get(self, entity_id: str) -> Rec | None:
        return self._rows.get(entity_id)

    def by_name(self, name: str) -> Rec | None:
        found = self._rows.where(self._model.name_key == name.lower())
        return found[0] if found else None

    def list(self, path_prefix: str = "/") -> list[Rec]:
        starts = func.substr(self._model.path, 1, len(path_prefix)) == path_prefix
        return cast(list[Rec], by_name(cast(Any, self._rows.where(starts))))

    def add(self, entity: Rec) -> None:
        self._check_name_free(entity)
        name = str(getattr(entity, "name"))  # noqa: B009
        self._rows.add(entity, f"{self._rows.kind} `{self._rows.key_of(entity)}` or `{name}`")

    def update(self, entity: Rec) -> None:
        if self._rows.row(self._rows.key_of(entity)) is not None:
            self._check_name_free(entity)
        self._rows.update(entity)

    def remove(self, entity_id: str) -> None:
        if self._rows.row(entity_id) is None:
            raise NotFound(f"{self._rows.kind} `{entity_id}` does not exist")
        self._on_remove(self._rows.session, entity_id)
        self._rows.remove(entity_id)

    def _check_name_free(self, entity: Rec) -> None:
        name = str(getattr(entity, "name"))  # noqa: B009
        other = self.by_name(name)
        if other is not None and self._rows.key_of(other) != self._rows.key_of(entity):
            raise AlreadyExists(f"{self._rows.kind} named `{name}` already exists")


def forget_principal(session: Session, principal_id: str) -> None:
    """Drop the rows keyed by a removed user, group or role id (not all have foreign keys)."""
    for model, column in (
        (MembershipRow, MembershipRow.user_id),
        (MembershipRow, MembershipRow.group_id),
        (AttachmentRow, AttachmentRow.principal_id),
        (InlinePolicyRow, InlinePolicyRow.principal_id),
        (LoginProfileRow, LoginProfileRow.user_id),
        (AccessKeyRow, AccessKeyRow.user_id),
    ):
        session.execute(delete(model).where(column == principal_id))


def forget_policy(session: Session, policy_id: str) -> None:
    session.execute(delete(AttachmentRow).where(AttachmentRow.policy_id == policy_id))
    session.execute(delete(PolicyVersionRow).where(PolicyVersionRow.policy_id == policy_id))


def require(session: Session, model: type[Base], key: str | tuple[str, ...], what: str) -> None:
    """Raise `NotFound` naming `what` when the row keyed `key` is absent."""
    if session.get(model, key) is None:
        raise NotFound(f"{what} does not exist")


def require_user(session: Session, user_id: str) -> None:
    require(session, UserRow, user_id, f"user `{user_id}`")
