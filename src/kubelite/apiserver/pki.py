"""The cluster's PKI: a CA, the API server's serving certificate and an admin credential.

On first start everything is generated under ``<data-dir>/server/tls``; later starts reuse
it, so kubeconfigs written before keep working. Client certificates map CN to the user and O
to groups, as kube-apiserver does.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubelite.private_files import private_dir, write_private

_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class PKI:
    """Paths of the files that make up the cluster's credentials."""

    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "serving.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "serving.key"

    @property
    def admin_cert(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _load_ca(pki: PKI) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def _issue(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    subject: x509.Name,
    *,
    server: bool,
    sans: list[x509.GeneralName] | None = None,
) -> tuple[bytes, bytes]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_encipherment=False, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def serving_sans(bind_address: str, extra: list[str] | None = None) -> list[x509.GeneralName]:
    """Names the serving certificate is valid for: loopback, the host, the bind address."""
    names: list[str] = ["localhost", "kubernetes", "kubernetes.default",
                        "kubernetes.default.svc", socket.gethostname()]
    ips: list[str] = ["127.0.0.1", "::1"]
    for item in [bind_address, *(extra or [])]:
        if not item or item in ("0.0.0.0", "::"):
            continue
        try:
            ipaddress.ip_address(item)
            ips.append(item)
        except ValueError:
            names.append(item)
    out: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys(names)]
    out += [x509.IPAddress(ipaddress.ip_address(i)) for i in dict.fromkeys(ips)]
    return out


def ensure_pki(directory: Path, bind_address: str = "127.0.0.1") -> PKI:
    """Create the CA, serving and admin certificates if absent; return their paths."""
    private_dir(directory)
    pki = PKI(directory)
    if not (pki.ca_cert.exists() and pki.ca_key.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        subject = _name(f"kubelite-ca@{int(now.timestamp())}")
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_encipherment=False, content_commitment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        write_private(pki.ca_key, _key_pem(key))
        write_private(pki.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
        for p in (pki.serving_cert, pki.admin_cert):
            p.unlink(missing_ok=True)
    ca = _load_ca(pki)
    if not pki.serving_cert.exists():
        cert_pem, key_pem = _issue(
            ca, _name("kubelite-apiserver"), server=True, sans=serving_sans(bind_address)
        )
        write_private(pki.serving_key, key_pem)
        write_private(pki.serving_cert, cert_pem)
    if not pki.admin_cert.exists():
        cert_pem, key_pem = _issue(ca, _name("admin", "system:masters"), server=False)
        write_private(pki.admin_key, key_pem)
        write_private(pki.admin_cert, cert_pem)
    return pki


def issue_client_cert(pki: PKI, user: str, group: str | None) -> tuple[bytes, bytes]:
    """A new client certificate (PEM cert, PEM key) for ``user`` in ``group``."""
    return _issue(_load_ca(pki), _name(user, group), server=False)


def new_token() -> str:
    """A random bearer token."""
    return secrets.token_hex(24)


def ensure_kubelet_client(pki: PKI) -> tuple[Path, Path]:
    """The API server's client certificate for kubelets (created if absent): cert, key.

    As kube-apiserver's ``kube-apiserver-kubelet-client``: CN that name, O system:masters.
    """
    cert, key = pki.dir / "kubelet-client.crt", pki.dir / "kubelet-client.key"
    if not (cert.exists() and key.exists()):
        cert_pem, key_pem = issue_client_cert(pki, "kube-apiserver-kubelet-client",
                                              "system:masters")
        write_private(key, key_pem)
        write_private(cert, cert_pem)
    return cert, key


def issue_serving_cert(pki: PKI, common_name: str, hosts: list[str],
                       org: str | None = None) -> tuple[bytes, bytes]:
    """A serving certificate (PEM cert, PEM key) signed by the cluster CA valid for exactly
    ``hosts`` (names or IP addresses), e.g. a kubelet's."""
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return _issue(_load_ca(pki), _name(common_name, org), server=True, sans=names)


def certificate_hosts(cert_file: Path) -> set[str]:
    """The DNS names and IP addresses (as text) a certificate is valid for."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return ({n.lower() for n in sans.get_values_for_type(x509.DNSName)}
            | {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)})
