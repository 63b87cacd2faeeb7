"""The Query wire protocol itself: dispatch, errors as XML, request ids, GET, body cap."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tests.e2e.live import LiveBridge

NS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    return _open(request)


def _open(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def error_of(body: bytes, ns: str = "iam") -> dict[str, str]:
    root = ET.fromstring(body)
    fields = {
        child.tag.split("}")[1]: child.text or "" for child in root.find(f"{{{NS[ns]}}}Error") or []
    }
    fields["RequestId"] = root.findtext(f"{{{NS[ns]}}}RequestId") or ""
    return fields


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"Action": "DoMagic", "Version": "2010-05-08"}, 400, "InvalidAction"),
        ({"Action": "ListUsers", "Version": "1999-01-01"}, 400, "InvalidAction"),
        ({"Version": "2010-05-08"}, 400, "MissingAction"),
        ({"Action": "ListUsers", "Version": "2010-05-08"}, 403, "MissingAuthenticationToken"),
    ],
    ids=["unknown-action", "unknown-version", "no-action", "unsigned"],
)
def test_protocol_errors_are_aws_xml_with_request_ids(
    bridge: LiveBridge, form: dict[str, str], status: int, code: str
) -> None:
    got_status, headers, body = post(bridge.url + "/", urllib.parse.urlencode(form).encode())
    error = error_of(body)
    assert (got_status, error["Code"]) == (status, code)
    assert error["Type"] == "Sender"
    assert error["RequestId"] and error["RequestId"] == headers["x-amzn-RequestId"]
    assert headers["Content-Type"].startswith("text/xml")


def test_oversized_body_is_refused_and_server_keeps_serving(bridge: LiveBridge) -> None:
    body = b"Action=ListUsers&Version=2010-05-08&Pad=" + b"x" * (2 * 1024 * 1024)
    status, _, _ = post(bridge.url + "/", body)
    assert status == 413
    assert bridge.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_presigned_get_caller_identity(bridge: LiveBridge) -> None:
    sts: Any = bridge.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    status, _, body = _open(urllib.request.Request(url))
    assert status == 200, body
    root = ET.fromstring(body)
    assert root.findtext(".//sts:Arn", namespaces=NS) == "arn:aws:iam::123456789012:user/admin"


def test_tampered_presigned_url_is_refused(bridge: LiveBridge) -> None:
    sts: Any = bridge.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    status, _, body = _open(
        urllib.request.Request(
            url.replace("Action=GetCallerIdentity", "Action=GetCallerIdentity&X=1")
        )
    )
    assert status == 403
    assert error_of(body, "sts")["Code"] == "SignatureDoesNotMatch"


def test_success_response_shape(bridge: LiveBridge) -> None:
    raw: Any = bridge.client("iam")
    response = raw.list_users()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (
        response["ResponseMetadata"]["RequestId"]
        == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    )
