"""`bridge init`: a new home with its database, key ring, root account and admin user.

Nothing is destroyed: an existing home is refused, or with `--force` moved aside to
`<home>.bak-<time>`. If any step fails, the half-made home is removed again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bridge.clock import Clock, Random, SystemClock, SystemRandom, random_string
from bridge.credentials.keys import PURPOSES, generate_master_key, write_master_key_file
from bridge.errors import AlreadyExists, ClientFault, InvalidInput
from bridge.services import Services, build_services
from bridge.settings import (
    ADMIN_CREDENTIALS_FILE,
    CONFIG_FILE,
    DATABASE_FILE,
    MASTER_KEY_FILE,
    SP_CERT_FILE,
    load_settings,
)
from bridge.sp_keys import ensure_sp_key_pair
from bridge.storage import migrate

ADMIN_USER = "admin"
ADMIN_GROUP = "Administrators"
ADMIN_POLICY = "AdministratorAccess"
ADMIN_POLICY_DOCUMENT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "FullAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!"  # noqa: S105
HOME_MARKERS = (CONFIG_FILE, DATABASE_FILE, MASTER_KEY_FILE, ADMIN_CREDENTIALS_FILE)


@dataclass(frozen=True)
class InitResult:
    home: Path
    account_id: str
    root_password: str
    access_key_id: str
    moved_aside: Path | None


def initialise_home(
    home: Path,
    *,
    account_id: str | None,
    force: bool,
    clock: Clock | None = None,
    rng: Random | None = None,
    environ: dict[str, str] | None = None,
) -> str:
    """Run every step of `bridge init`; return the text to print."""
    clock, rng = clock or SystemClock(), rng or SystemRandom()
    env = dict(os.environ) if environ is None else environ
    account = _account_id(account_id, rng)
    moved = _make_room(home, force, clock)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        result = _populate(home, account, clock, rng, env)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return render_report(InitResult(home, account, result[0], result[1], moved))


def _account_id(given: str | None, rng: Random) -> str:
    if given is None:
        return rng.choice("123456789") + random_string(rng, "0123456789", 11)
    if not (len(given) == 12 and given.isascii() and given.isdigit()):
        raise InvalidInput("--account-id", f"expected 12 digits, got `{given}`")
    return given


def _make_room(home: Path, force: bool, clock: Clock) -> Path | None:
    """Refuse an existing home, or with `force` move it aside (never delete it)."""
    if not any((home / marker).exists() for marker in HOME_MARKERS):
        return None
    if not force:
        raise ClientFault(
            f"`{home}` is a bridge home already; nothing was changed "
            "(use --force to move it aside and start afresh)"
        )
    backup = home.with_name(f"{home.name}.bak-{clock.now():%Y%m%d%H%M%S}")
    home.rename(backup)
    return backup


def _populate(
    home: Path, account_id: str, clock: Clock, rng: Random, env: dict[str, str]
) -> tuple[str, str]:
    (home / CONFIG_FILE).write_text(_config_text(account_id), encoding="utf-8")
    master_key = None
    if not env.get("BRIDGE_MASTER_KEY"):
        master_key = generate_master_key(rng)
        write_master_key_file(home / MASTER_KEY_FILE, master_key)
    settings = load_settings(home, env)
    if settings.account_id != account_id:
        raise ClientFault(
            f"BRIDGE_ACCOUNT_ID `{settings.account_id}` disagrees with --account-id `{account_id}`"
        )
    migrate.upgrade(settings.effective_database_url)
    services = build_services(settings, clock=clock, rng=rng, master_key=master_key)
    try:
        seeded = _seed(services, home, rng)
        if settings.sp_files_are_default:
            ensure_sp_key_pair(settings, services.base_url, clock=clock, rng=rng)
        return seeded
    finally:
        services.close()


def _config_text(account_id: str) -> str:
    return (
        "# bridge configuration; every key is described in the README.\n"
        "# Environment variables BRIDGE_<KEY> override these values.\n"
        f"account_id: '{account_id}'\n"
    )


def _seed(services: Services, home: Path, rng: Random) -> tuple[str, str]:
    with services.store.transaction() as uow:
        existing = uow.account.get()
    if existing is not None:
        raise AlreadyExists(
            f"the database already holds account `{existing.account_id}`; "
            "point BRIDGE_DATABASE_URL at an empty database"
        )
    for purpose in PURPOSES:
        services.key_ring.ensure(purpose)
    directory = services.directory
    root_password = random_string(rng, PASSWORD_ALPHABET, 24)
    directory.account.create(root_password)
    directory.users.create(ADMIN_USER)
    directory.groups.create(ADMIN_GROUP)
    directory.groups.add_user(ADMIN_GROUP, ADMIN_USER)
    policy = directory.policies.create(
        ADMIN_POLICY, ADMIN_POLICY_DOCUMENT, description="Full access to every action"
    )
    directory.attachments.attach("group", ADMIN_GROUP, directory.policies.arn(policy))
    created = directory.keys.create(ADMIN_USER)
    key_id = created.key.access_key_id
    write_credentials_file(home / ADMIN_CREDENTIALS_FILE, key_id, created.secret_access_key)
    return root_password, key_id


def write_credentials_file(path: Path, access_key_id: str, secret: str) -> None:
    """AWS shared-credentials INI, profile `default`, created with mode 0600."""
    text = f"[default]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


def render_report(result: InitResult) -> str:
    creds = result.home / ADMIN_CREDENTIALS_FILE
    lines = []
    if result.moved_aside is not None:
        lines.append(f"moved the previous home aside to {result.moved_aside}")
    lines += [
        f"created bridge home {result.home} for account {result.account_id}",
        "",
        "root account password (shown only now; store it safely):",
        f"    {result.root_password}",
        "enable MFA for the root account and keep it for emergencies only",
        "",
        f"admin user `{ADMIN_USER}` (group {ADMIN_GROUP}, policy {ADMIN_POLICY}):",
        f"    access key {result.access_key_id}, written to {creds} (mode 0600)",
        "",
        "use it with the AWS CLI:",
        f"    export AWS_SHARED_CREDENTIALS_FILE={creds} AWS_DEFAULT_REGION=us-east-1",
        "    aws --endpoint-url http://127.0.0.1:5000 iam list-users",
        "or with boto3:",
        f"    boto3.Session().client('iam', endpoint_url='http://127.0.0.1:5000', "
        f"region_name='us-east-1')  # with AWS_SHARED_CREDENTIALS_FILE={creds}",
        "",
        f"SAML SP certificate (for IdPs that encrypt assertions): {result.home / SP_CERT_FILE}",
        "",
        f"start it: bridge serve --home {result.home}",
    ]
    return "\n".join(lines)
