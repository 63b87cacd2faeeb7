"""SAML identity-provider metadata files loaded when the bridge starts.

Each `<Name>.xml` in the metadata folder becomes (or updates) the IAM SAML provider
`arn:aws:iam::<account>:saml-provider/<Name>`, so an operator can keep IdP metadata
under version control beside `bridge.yaml`. A file that cannot be used stops the start
with an error naming the file and the fault; nothing is half-applied (each provider
is written in its own transaction, after every file was read and checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.directory import ids
from bridge.directory.saml_providers import parse_metadata
from bridge.directory.service import Directory
from bridge.errors import AlreadyExists, ClientFault, ConfigError, NotFound


@dataclass(frozen=True)
class MetadataFile:
    name: str
    path: Path
    document: str


def read_metadata_files(folder: Path) -> list[MetadataFile]:
    """Every `*.xml` file, checked; all faults are reported together."""
    files, faults = [], []
    for path in sorted(folder.glob("*.xml")):
        try:
            document = path.read_text(encoding="utf-8")
            parse_metadata(document)
        except (OSError, UnicodeDecodeError) as exc:
            faults.append((str(path), f"cannot read the file: {exc}"))
            continue
        except ClientFault as exc:
            faults.append((str(path), exc.message))
            continue
        files.append(MetadataFile(path.stem, path, document))
    if faults:
        raise ConfigError(faults)
    return files


def sync_metadata_files(directory: Directory, folder: Path) -> list[str]:
    """Create or update the providers of `folder`; return the ARNs that changed."""
    if not folder.is_dir():
        return []
    changed = []
    for item in read_metadata_files(folder):
        try:
            arn = _apply(directory, item)
        except ClientFault as exc:
            raise ConfigError([(str(item.path), exc.message)]) from None
        if arn is not None:
            changed.append(arn)
    return changed


def _apply(directory: Directory, item: MetadataFile) -> str | None:
    arn = ids.saml_provider_arn(directory.account_id, item.name)
    try:
        current = directory.saml_providers.get(arn)
    except NotFound:
        return _create(directory, item, arn)
    if current.metadata_document == item.document:
        return None
    directory.saml_providers.update(arn, item.document)
    return arn


def _create(directory: Directory, item: MetadataFile, arn: str) -> str | None:
    """Several gunicorn workers start at once and may race to create the same provider:
    the one that loses finds it made by another, which is the same outcome."""
    try:
        directory.saml_providers.create(item.name, item.document)
    except AlreadyExists:
        return None
    return arn
