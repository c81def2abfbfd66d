"""The one guarded outbound HTTP client. Every call the product makes to another system (outbound
webhooks, runbook steps, GitHub, model registries) goes through ``outbound_request``.

Guards, all on by default:
- only http and https, no credentials in the URL;
- the host is resolved and every address must be public: loopback, private, link-local,
  multicast, reserved, shared (CGNAT) and cloud-metadata addresses are refused unless the host or
  its network is listed in ``OUTBOUND_ALLOWED_NETWORKS``; metadata addresses are refused even
  under a broad allowlist unless listed as a single address;
- the connection goes to the address that was checked (pinned), so a second DNS answer cannot
  swap in an internal one; TLS still verifies the certificate against the host name;
- redirects are never followed (a 3xx is returned as the response);
- connection errors and timeouts surface as one generic message, so error text cannot be used
  to tell an open port from a closed one.
"""

import ipaddress
import json as jsonlib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba, Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
GENERIC_FAILURE = "the target did not answer (connection failed or timed out)"
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024


class OutboundError(Exception):
    """An outbound call failed; the message is safe to show and to store."""


class OutboundRefused(OutboundError):
    """The target is not allowed (scheme, credentials, internal address): nothing was sent."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            raise OutboundError("the target answered with a body that is not JSON") from None


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # as written in the URL (for Host, SNI and certificate checks)
    port: int
    path: str  # path and query
    address: IPAddress  # the checked address the connection goes to


def _allowlist() -> tuple[set[str], list[IPNetwork]]:
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", []):
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return names, networks


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _address_allowed(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    listed = [net for net in networks if address.version == net.version and address in net]
    if address in METADATA_ADDRESSES:
        return any(net.num_addresses == 1 for net in listed)
    return (address.is_global and not address.is_multicast) or bool(listed)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundRefused(f"the host {host!r} does not resolve") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundRefused(f"the host {host!r} does not resolve")
    return addresses


def _check(url: str, *, unresolved_ok: bool = False) -> _Target | None:
    if not isinstance(url, str) or not url:
        raise OutboundRefused("give an http:// or https:// URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused("only http:// and https:// URLs are called")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OutboundRefused("credentials in the URL are refused; use headers or a secret")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    names, networks = _allowlist()
    try:
        addresses = [_plain(a) for a in _resolve(host, port)]
    except OutboundRefused:
        if unresolved_ok:
            return None
        raise
    if host.lower() not in names:
        refused = [a for a in addresses if not _address_allowed(a, networks)]
        if refused:
            raise OutboundRefused(
                f"the host {host!r} resolves to an internal address ({refused[0]}); "
                "list it in OUTBOUND_ALLOWED_NETWORKS to call it on purpose"
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def outbound_validate_url(url: str) -> str:
    """Check a URL before it is saved (a subscription, a runbook step, an integration). A name
    that does not resolve yet is accepted: sending checks everything again (DNS can change in
    between) and refuses it then. Raises OutboundRefused."""
    _check(url, unresolved_ok=True)
    return url


def _pool(target: _Target, timeout: float) -> urllib3.HTTPConnectionPool:
    common = {
        "host": str(target.address),
        "port": target.port,
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            **common,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(**common)


def outbound_request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    json: Any = None,
    timeout: float | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> OutboundResponse:
    """Send one request to a checked, pinned address. A non-2xx answer is a response, not an
    error; OutboundError means nothing usable came back."""
    target = _check(url)
    assert target is not None
    send_headers = {"User-Agent": "governance-control-plane/1"}
    send_headers.update(headers or {})
    if json is not None:
        body = jsonlib.dumps(json, separators=(",", ":")).encode()
        send_headers.setdefault("Content-Type", "application/json")
    default_port = 443 if target.scheme == "https" else 80
    host_header = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != default_port:
        host_header = f"{host_header}:{target.port}"
    send_headers["Host"] = host_header
    pool = _pool(target, timeout if timeout is not None else settings.OUTBOUND_TIMEOUT_SECONDS)
    try:
        response = pool.urlopen(
            method.upper(),
            target.path,
            body=body,
            headers=send_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            data = response.read(max_response_bytes + 1, decode_content=True)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError:
        raise OutboundError(GENERIC_FAILURE) from None
    except OSError:
        raise OutboundError(GENERIC_FAILURE) from None
    finally:
        pool.close()
    if len(data) > max_response_bytes:
        raise OutboundError(f"the target's answer is larger than {max_response_bytes} bytes")
    return OutboundResponse(
        status=response.status,
        headers={name.lower(): value for name, value in response.headers.items()},
        body=data,
    )
