"""SAML metadata files in the home's `idp_metadata/` become IAM SAML providers at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.app import create_app
from bridge.bootstrap import initialise_home
from bridge.errors import ConfigError
from bridge.services import Services
from bridge.settings import load_settings
from tests.data.saml.gen import build_metadata, keypair

ARN = "arn:aws:iam::123456789012:saml-provider/corp-idp"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idp-files") / "home"
    initialise_home(path, account_id="123456789012", force=False, environ={})
    (path / "idp_metadata").mkdir()
    return path


def services_of(home: Path) -> Services:
    app = create_app(load_settings(home, environ={}))
    services = app.extensions["bridge"]
    assert isinstance(services, Services)
    return services


def test_metadata_file_becomes_a_provider_and_updates_follow(home: Path) -> None:
    folder = home / "idp_metadata"
    (folder / "corp-idp.xml").write_text(build_metadata(keypair("idp")))
    first = services_of(home).directory.saml_providers.get(ARN)
    assert first.name == "corp-idp"
    rollover = build_metadata(keypair("idp"), keypair("idp-rollover"))
    (folder / "corp-idp.xml").write_text(rollover)
    assert services_of(home).directory.saml_providers.get(ARN).metadata_document == rollover


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("broken.xml", "<EntityDescriptor", "broken.xml"),
        ("entities.xml", '<!DOCTYPE x [<!ENTITY a "b">]><x/>', "entities.xml"),
        ("bad name!.xml", None, "bad name!.xml"),
    ],
    ids=["malformed", "doctype", "invalid-provider-name"],
)
def test_a_bad_file_stops_the_start_naming_it(
    home: Path, name: str, content: str | None, fragment: str
) -> None:
    path = home / "idp_metadata" / name
    path.write_text(content if content is not None else build_metadata(keypair("idp")))
    try:
        with pytest.raises(ConfigError) as caught:
            services_of(home)
        assert any(fragment in key for key, _ in caught.value.faults)
    finally:
        path.unlink()


def test_workers_racing_to_create_the_same_provider_do_not_fail(home: Path) -> None:
    """Gunicorn workers start together: the one that loses the race finds it done."""
    from bridge.idp_files import MetadataFile, _create

    directory = services_of(home).directory
    document = build_metadata(keypair("idp"))
    item = MetadataFile("raced", home / "idp_metadata" / "raced.xml", document)
    arn = "arn:aws:iam::123456789012:saml-provider/raced"
    assert _create(directory, item, arn) == arn
    assert _create(directory, item, arn) is None
    assert directory.saml_providers.get(arn).metadata_document == document
