"""One adapter per upstream protocol, found through one registry (CONVENTIONS 2).

Each adapter offers `begin()` (what to send the browser, and what to keep in the
browser session until the reply) and `complete()` (turn the reply into a
`VerifiedIdentity`). Both return frozen dataclasses; nothing here knows Flask.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bridge.clock import Clock, Random
from bridge.errors import NotFound
from bridge.login_settings import OIDCLoginProvider, SAMLLoginProvider
from bridge.saml_settings import SAMLProviderSettings, provider_settings
from bridge.storage.interfaces import SAMLProvider
from bridge.verify import saml_sp
from bridge.verify.identity import VerifiedIdentity
from bridge.verify.login_errors import LoginRefused, UnknownLoginProvider
from bridge.verify.oidc_rp import OIDCRelyingParty, RPConfig
from bridge.verify.saml import SAMLVerifier
from bridge.verify.saml_errors import InvalidSAMLMetadata, UnsafeXML
from bridge.verify.xmlsafe import decode_base64, parse_xml

PENDING_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class PostForm:
    url: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Begun:
    """What to send the browser, and what to keep under `key` until the reply."""

    action: Redirect | PostForm
    key: str
    pending: dict[str, str]


@dataclass(frozen=True)
class Completed:
    identity: VerifiedIdentity
    session_index: str | None = None  # SAML AuthnStatement@SessionIndex, for SLO
    name_id_format: str | None = None


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    display_name: str
    protocol: Literal["oidc", "saml"]


def pending_key(protocol: str, value: str) -> str:
    """`oidc:<state>` or `saml:<RelayState>`: where `begin()` keeps its state."""
    return f"{protocol}:{value}"


class OIDCAdapter:
    def __init__(self, info: ProviderInfo, rp: OIDCRelyingParty) -> None:
        self.info, self.rp = info, rp

    def begin(self) -> Begun:
        url, pending = self.rp.begin()
        pending["provider"] = self.info.name
        return Begun(Redirect(url), pending_key("oidc", pending["state"]), pending)

    def complete(self, params: Mapping[str, str], pending: Mapping[str, str]) -> Completed:
        return Completed(self.rp.complete(params, pending))


class SAMLAdapter:
    def __init__(
        self,
        info: ProviderInfo,
        settings: SAMLLoginProvider,
        *,
        sp: saml_sp.SPInfo,
        verifier: SAMLVerifier,
        record: Callable[[str], SAMLProvider],
        saml_settings: Mapping[str, SAMLProviderSettings],
        clock: Clock,
        rng: Random,
    ) -> None:
        self.info, self.settings, self.sp = info, settings, sp
        self._verifier, self._record = verifier, record
        self._rules = provider_settings(saml_settings, settings.saml_provider)
        self._clock, self._rng = clock, rng

    def provider(self) -> SAMLProvider:
        return self._record(self.settings.saml_provider)

    def endpoints(self) -> saml_sp.IdPEndpoints:
        try:
            return saml_sp.read_idp_endpoints(self.provider().metadata_document)
        except InvalidSAMLMetadata as exc:
            raise LoginRefused(f"provider `{self.info.name}`: {exc.message}") from exc

    def begin(self) -> Begun:
        """A signed (when asked) AuthnRequest in the configured binding (core 3.4.1)."""
        endpoints = self.endpoints()
        location = endpoints.sso_url(self.settings.binding)
        if location is None:
            raise LoginRefused(
                f"the metadata of provider `{self.info.name}` has no SingleSignOnService "
                f"for the HTTP-{self.settings.binding.title()} binding"
            )
        request_id = saml_sp.new_id(self._rng)
        relay_state = self._rng.token_bytes(24).hex()
        request = saml_sp.authn_request(
            self.sp,
            location,
            request_id,
            saml_sp.instant(self._clock),
            self.settings.name_id_format,
        )
        signed = saml_sp.should_sign(self.settings.sign_requests, endpoints)
        key = self.sp.key_pem if signed else None
        send = saml_sp.redirect if self.settings.binding == "redirect" else saml_sp.post_form
        out = send(location, "SAMLRequest", request, relay_state, key)
        action: Redirect | PostForm = (
            Redirect(out.url) if out.fields is None else PostForm(out.url, out.fields)
        )
        pending = {"provider": self.info.name, "request_id": request_id}
        return Begun(action, pending_key("saml", relay_state), pending)

    def complete(self, saml_response: str, pending: Mapping[str, str] | None) -> Completed:
        """Verify the Response: InResponseTo our request, or unsolicited when allowed."""
        if pending is None and not self.settings.allow_idp_initiated:
            raise LoginRefused(
                f"provider `{self.info.name}` does not allow IdP-initiated sign-in, and this "
                "reply answers no sign-in this browser began"
            )
        session_index, solicited = _peek(saml_response)
        if pending is None and solicited:
            raise LoginRefused(
                "the reply answers a sign-in this browser did not begin (`InResponseTo`)"
            )
        identity = self._verifier.verify(
            saml_response,
            self.provider(),
            clock_skew=self._rules.clock_skew,
            allow_sha1=self._rules.allow_sha1,
            expected_in_response_to=None if pending is None else pending["request_id"],
            allow_unsolicited=pending is None,
        )
        return Completed(identity, session_index, self.settings.name_id_format)


def _peek(saml_response: str) -> tuple[str | None, bool]:
    """The SessionIndex (for SLO only) and whether any InResponseTo is present."""
    try:
        root = parse_xml(decode_base64(saml_response, what="SAMLResponse"), what="SAMLResponse")
    except UnsafeXML as exc:
        raise LoginRefused(exc.message) from exc
    session_index = None
    solicited = root.get("InResponseTo") is not None
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.endswith("}AuthnStatement") and session_index is None:
            session_index = element.get("SessionIndex")
        if element.tag.endswith("}SubjectConfirmationData") and element.get("InResponseTo"):
            solicited = True
    return session_index, solicited


Adapter = OIDCAdapter | SAMLAdapter


class LoginProviders:
    """The configured browser sign-in providers, by name."""

    def __init__(self, adapters: Mapping[str, Adapter], sp: saml_sp.SPInfo) -> None:
        self._adapters = dict(adapters)
        self.sp = sp  # this bridge as a SAML SP (metadata, SLO)

    def list(self) -> builtins.list[ProviderInfo]:
        return [adapter.info for adapter in self._adapters.values()]

    def get(self, name: str) -> Adapter:
        adapter = self._adapters.get(name)
        if adapter is None:
            raise UnknownLoginProvider(f"no sign-in provider is named `{name[:64]}`")
        return adapter

    def saml_for_issuer(self, entity_id: str) -> SAMLAdapter | None:
        """The SAML provider whose IdP metadata names `entity_id` (for SLO messages)."""
        for adapter in self._adapters.values():
            if isinstance(adapter, SAMLAdapter):
                try:
                    if adapter.endpoints().entity_id == entity_id:
                        return adapter
                except (LoginRefused, NotFound):
                    continue
        return None


def provider_info(name: str, settings: OIDCLoginProvider | SAMLLoginProvider) -> ProviderInfo:
    return ProviderInfo(name, settings.display_name, settings.protocol)


@dataclass(frozen=True)
class RegistryParts:
    """What the adapters share, built once per app by `services.py`."""

    sp: saml_sp.SPInfo
    saml_verifier: SAMLVerifier
    saml_record: Callable[[str], SAMLProvider]
    saml_settings: Mapping[str, SAMLProviderSettings]
    oidc_parts: Callable[[RPConfig], OIDCRelyingParty]
    client_secret: Callable[[str, OIDCLoginProvider], str]
    redirect_uri: str
    clock: Clock
    rng: Random


def build_login_providers(
    configured: Mapping[str, OIDCLoginProvider | SAMLLoginProvider], parts: RegistryParts
) -> LoginProviders:
    adapters: dict[str, Adapter] = {}
    for name, item in configured.items():
        info = provider_info(name, item)
        if isinstance(item, OIDCLoginProvider):
            config = RPConfig(
                name=name,
                issuer=item.issuer,
                client_id=item.client_id,
                client_secret=parts.client_secret(name, item),
                redirect_uri=parts.redirect_uri,
                scopes=item.scopes,
                use_userinfo=item.use_userinfo,
                groups_claim=item.groups_claim,
                overage_url=item.overage.url,
            )
            adapters[name] = OIDCAdapter(info, parts.oidc_parts(config))
        else:
            adapters[name] = SAMLAdapter(
                info,
                item,
                sp=parts.sp,
                verifier=parts.saml_verifier,
                record=parts.saml_record,
                saml_settings=parts.saml_settings,
                clock=parts.clock,
                rng=parts.rng,
            )
    return LoginProviders(adapters, parts.sp)
