"""The bridge's own key pair as a SAML service provider.

An RSA-2048 key and a self-signed certificate (CN = the host of the SP entity id, valid
10 years). IdPs encrypt assertions for this certificate (SAML core 6.2, xmlenc
RSA-OAEP key transport); the key decrypts them and will sign AuthnRequests and the SP
metadata. Both live as PEM files in the home (`sp-key.pem` mode 0600, `sp-cert.pem`),
or where `sp_key_file` / `sp_cert_file` point. `bridge init` makes them; a home made
before that gets them on first use. Configured paths are never created: a missing
configured file is a configuration fault.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bridge.clock import Clock, Random
from bridge.errors import ConfigError
from bridge.settings import Settings

KEY_BITS = 2048
VALIDITY = timedelta(days=3650)
LOCK_FILE = ".sp-key.lock"


@dataclass(frozen=True)
class SPKeyPair:
    key_pem: bytes  # PKCS#8, unencrypted: protect the file, never log it
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def sp_entity_id(base_url: str) -> str:
    return f"{base_url}/saml/metadata"


def generate_sp_key_pair(entity_id: str, *, clock: Clock, rng: Random) -> SPKeyPair:
    """A new key and a self-signed certificate naming the entity id's host."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    host = urlsplit(entity_id).hostname or entity_id
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])])
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(rng.token_bytes(16), "big") >> 1 or 1)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SPKeyPair(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def write_sp_key_pair(pair: SPKeyPair, key_path: Path, cert_path: Path) -> None:
    """Create both files; the key file is 0600 from the start and never overwritten."""
    _create(key_path, pair.key_pem, 0o600)
    _create(cert_path, pair.cert_pem, 0o644)


def _create(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_sp_key_pair(key_path: Path, cert_path: Path) -> SPKeyPair:
    """Read and check both files; every fault is a `ConfigError` naming the file."""
    faults: list[tuple[str, str]] = []
    key_pem = _read(key_path, faults, secret=True)
    cert_pem = _read(cert_path, faults, secret=False)
    if key_pem is not None and cert_pem is not None:
        _check_pair(key_pem, cert_pem, key_path, cert_path, faults)
    if faults or key_pem is None or cert_pem is None:
        raise ConfigError(faults)
    return SPKeyPair(key_pem, cert_pem)


def _read(path: Path, faults: list[tuple[str, str]], *, secret: bool) -> bytes | None:
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except OSError as exc:
        faults.append((str(path), f"cannot read the file: {exc.strerror or exc}"))
        return None
    if secret and mode & 0o077:
        faults.append((str(path), f"is readable by others (mode {mode:o}); chmod 600 it"))
        return None
    return data


def _check_pair(
    key_pem: bytes,
    cert_pem: bytes,
    key_path: Path,
    cert_path: Path,
    faults: list[tuple[str, str]],
) -> None:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        faults.append((str(key_path), "is not an unencrypted PEM private key"))
        return
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        faults.append((str(cert_path), "is not a PEM certificate"))
        return
    if not isinstance(key, rsa.RSAPrivateKey):
        faults.append((str(key_path), "must be an RSA key (xmlenc RSA-OAEP key transport)"))
    elif cert.public_key() != key.public_key():
        faults.append((str(cert_path), f"does not certify the key in `{key_path}`"))


def ensure_sp_key_pair(
    settings: Settings, base_url: str, *, clock: Clock, rng: Random
) -> SPKeyPair:
    """Load the SP key pair; create it in the home when the default files are both absent.

    A file lock in the home keeps several workers starting together from making two.
    """
    key_path, cert_path = settings.effective_sp_key_file, settings.effective_sp_cert_file
    if not settings.sp_files_are_default:
        return load_sp_key_pair(key_path, cert_path)
    with _home_lock(settings.home):
        if not key_path.exists() and not cert_path.exists():
            pair = generate_sp_key_pair(sp_entity_id(base_url), clock=clock, rng=rng)
            write_sp_key_pair(pair, key_path, cert_path)
            return pair
    return load_sp_key_pair(key_path, cert_path)


@contextmanager
def _home_lock(home: Path) -> Iterator[None]:
    fd = os.open(home / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
