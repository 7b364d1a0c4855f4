"""Throw-away TLS files for test brokers: a self-signed CA, a server certificate for
loopback (127.0.0.1 and localhost) and optionally a client certificate, all PEM.

Only for tests and local brokers; production certificates come from the cluster's CA
(Strimzi's ``<cluster>-cluster-ca-cert``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsFiles", "write_tls_files"]


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the files :func:`write_tls_files` wrote."""

    ca: Path
    #: The broker's key and certificate chain in one PEM file (Kafka's PEM keystore).
    server_keystore: Path
    client_cert: Path | None
    client_key: Path | None


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    server: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, encryption)


def write_tls_files(
    directory: Path, *, client_cert: bool = False, key_password: str | None = None
) -> TlsFiles:
    """Write ``ca.pem``, ``server.pem`` (key + certificate, unencrypted) and, with
    ``client_cert``, ``client.pem``/``client.key`` (the key encrypted with
    ``key_password`` when given) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue("dealerflow test CA", ca_key, _name("dealerflow test CA"), ca_key, ca=True)
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue("localhost", server_key, ca_cert.subject, ca_key, ca=False, server=True)
    keystore = directory / "server.pem"
    keystore.write_bytes(
        _key_pem(server_key)
        + server_cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    cert_path = key_path = None
    if client_cert:
        client_key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue("dealerflow-test-client", client_key, ca_cert.subject, ca_key, ca=False)
        cert_path, key_path = directory / "client.pem", directory / "client.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_key_pem(client_key, key_password))
    return TlsFiles(ca_path, keystore, cert_path, key_path)
