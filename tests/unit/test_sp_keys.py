"""The bridge's SAML SP key pair: generated once in the home, checked when loaded, and able
to decrypt an EncryptedAssertion made for its certificate."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bridge.clock import FixedClock, SystemRandom
from bridge.errors import ConfigError
from bridge.settings import Settings, load_settings
from bridge.sp_keys import (
    SPKeyPair,
    ensure_sp_key_pair,
    generate_sp_key_pair,
    load_sp_key_pair,
    write_sp_key_pair,
)
from bridge.storage.interfaces import SAMLProvider
from bridge.verify.saml import SAMLVerifier, SPConfig
from bridge.verify.saml_errors import InvalidSAMLResponse
from tests.data.saml.gen import (
    ACS_URL,
    NOW,
    PROVIDER_ARN,
    SP_ENTITY_ID,
    KeyPair,
    build_assertion,
    build_metadata,
    build_response,
    encrypt,
    keypair,
    sign,
    to_b64,
)

CLOCK = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
BASE = "https://bridge.example.test"


def _settings(home: Path, env: dict[str, str] | None = None) -> Settings:
    return load_settings(home, environ=env or {})


def _pair() -> SPKeyPair:
    return generate_sp_key_pair(f"{BASE}/saml/metadata", clock=CLOCK, rng=SystemRandom())


def test_generated_certificate_names_the_host_for_ten_years() -> None:
    pair = _pair()
    cert = pair.certificate
    common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "bridge.example.test"
    assert cert.issuer == cert.subject
    assert cert.not_valid_after_utc - CLOCK.now() == timedelta(days=3650)
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 2048


def test_ensure_creates_the_home_files_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = ensure_sp_key_pair(settings, BASE, clock=CLOCK, rng=SystemRandom())
    key_file = settings.effective_sp_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() == first.key_pem
    assert settings.effective_sp_cert_file.read_bytes() == first.cert_pem
    second = ensure_sp_key_pair(settings, BASE, clock=CLOCK, rng=SystemRandom())
    assert second == first


def test_configured_files_are_loaded_and_never_created(tmp_path: Path) -> None:
    pair = _pair()
    write_sp_key_pair(pair, tmp_path / "k.pem", tmp_path / "c.pem")
    env = {"BRIDGE_SP_KEY_FILE": "k.pem", "BRIDGE_SP_CERT_FILE": "c.pem"}
    assert (
        ensure_sp_key_pair(_settings(tmp_path, env), BASE, clock=CLOCK, rng=SystemRandom()) == pair
    )
    missing = {"BRIDGE_SP_KEY_FILE": "absent.pem", "BRIDGE_SP_CERT_FILE": "c.pem"}
    with pytest.raises(ConfigError) as caught:
        ensure_sp_key_pair(_settings(tmp_path, missing), BASE, clock=CLOCK, rng=SystemRandom())
    assert [key for key, _ in caught.value.faults] == [str(tmp_path.resolve() / "absent.pem")]
    assert not (tmp_path / "absent.pem").exists()


def _write_broken(tmp_path: Path, case: str) -> tuple[Path, Path]:
    pair, other = _pair(), _pair()
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    write_sp_key_pair(pair, key, cert)
    if case == "key-readable-by-others":
        os.chmod(key, 0o644)
    elif case == "certificate-of-another-key":
        cert.write_bytes(other.cert_pem)
    elif case == "key-not-pem":
        key.write_bytes(b"not a key")
    elif case == "certificate-not-pem":
        cert.write_bytes(b"not a certificate")
    elif case == "certificate-missing":
        cert.unlink()
    return key, cert


@pytest.mark.parametrize(
    ("case", "faulty", "expected"),
    [
        ("key-readable-by-others", "k.pem", "chmod 600"),
        ("certificate-of-another-key", "c.pem", "does not certify the key"),
        ("key-not-pem", "k.pem", "not an unencrypted PEM private key"),
        ("certificate-not-pem", "c.pem", "not a PEM certificate"),
        ("certificate-missing", "c.pem", "cannot read the file"),
    ],
    ids=["key-mode", "other-certificate", "key-garbage", "certificate-garbage", "no-certificate"],
)
def test_unusable_files_are_faults_naming_the_file(
    tmp_path: Path, case: str, faulty: str, expected: str
) -> None:
    key, cert = _write_broken(tmp_path, case)
    with pytest.raises(ConfigError) as caught:
        load_sp_key_pair(key, cert)
    ((path, message),) = caught.value.faults
    assert path == str(tmp_path / faulty)
    assert expected in message


def _as_keypair(pair: SPKeyPair) -> KeyPair:
    return KeyPair("bridge-sp", pair.key_pem, pair.cert_pem)


@pytest.mark.parametrize(
    ("encrypted_for", "accepted"),
    [("bridge", True), ("another-key", False)],
    ids=["for-the-bridge-certificate", "for-another-certificate"],
)
def test_generated_key_decrypts_assertions_for_its_certificate(
    encrypted_for: str, accepted: bool
) -> None:
    pair = _pair()
    target = _as_keypair(pair) if encrypted_for == "bridge" else keypair("sp")
    assertion = encrypt(sign(build_assertion(), keypair("idp")), target)
    response = to_b64(build_response(assertion))
    provider = SAMLProvider(PROVIDER_ARN, "TestIdP", build_metadata(keypair("idp")), NOW, None)
    verifier = SAMLVerifier(clock=FixedClock(NOW), sp=SPConfig(SP_ENTITY_ID, ACS_URL, pair.key_pem))
    if accepted:
        assert verifier.verify(response, provider).subject == "alice@example.com"
    else:
        with pytest.raises(InvalidSAMLResponse):
            verifier.verify(response, provider)
