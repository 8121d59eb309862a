"""A throw-away certificate authority and server certificate for serving HTTPS locally.

azure-core's bearer-token policy refuses to send a token over plain http,
so clients such as the official SDK talk to the emulator over HTTPS and
trust `ca.crt` (for example `connection_verify=<dir>/ca.crt`). The files are
written anew on every start.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.crt"
CERT_FILE = "server.crt"
KEY_FILE = "server.key"

_VALID_FOR = datetime.timedelta(days=30)


def generate(directory: str | os.PathLike) -> Path:
    """Write ca.crt, server.crt and server.key for localhost and 127.0.0.1; return the folder."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    # Backdated a little, so that a client clock slightly behind still accepts them.
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acr-operator emulator CA")])
    ca_cert = _ca_certificate(ca_key, ca_name, now)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, ca_key, ca_name, now)

    pem = serialization.Encoding.PEM
    (folder / CA_FILE).write_bytes(ca_cert.public_bytes(pem))
    (folder / CERT_FILE).write_bytes(server_cert.public_bytes(pem))
    key_path = folder / KEY_FILE
    key_path.write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return folder


def _ca_certificate(key: ec.EllipticCurvePrivateKey, name: x509.Name,
                    now: datetime.datetime) -> x509.Certificate:
    usage = x509.KeyUsage(
        digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        encipher_only=False, decipher_only=False)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey,
                        ca_name: x509.Name, now: datetime.datetime) -> x509.Certificate:
    names = x509.SubjectAlternativeName([
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ])
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + _VALID_FOR)
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def server_context(directory: str | os.PathLike) -> ssl.SSLContext:
    """Generate a certificate into `directory` and return an SSL context serving it."""
    folder = generate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / CERT_FILE, folder / KEY_FILE)
    return context
