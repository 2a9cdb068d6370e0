# -*- coding: utf-8 -*-
"""A TLS-intercepting CONNECT proxy on 127.0.0.1 with its own CA, as corporate networks run them.

It answers every ``CONNECT host:port`` with 200, terminates TLS with a leaf certificate its own CA
signed for the public Mimecast / Microsoft host names, and forwards the decrypted bytes to the local
sandbox. It never connects to the CONNECT target: no real network is used.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOSTS = ("api.services.mimecast.com", "uk-api.services.mimecast.com", "us-api.services.mimecast.com",
         "outlook.office365.com", "login.microsoftonline.com")


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_ca_and_leaf(directory):
    """Write ca.pem (the proxy's CA), leaf.pem and leaf-key.pem to ``directory``; return their paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Test Inspecting Proxy CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name(HOSTS[0])).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem", "leaf": directory / "leaf.pem", "key": directory / "leaf-key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["leaf"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return paths


class InterceptingProxy:
    def __init__(self, directory, upstream):
        self.paths = make_ca_and_leaf(directory)
        self.upstream = upstream  # (host, port) of the sandbox: the only place the proxy connects to
        self.connects = []        # CONNECT targets, as the client asked
        self.handshakes = []      # True for a completed TLS handshake, False for a refused one
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(str(self.paths["leaf"]), str(self.paths["key"]))
        self._listener = None
        self._threads = []
        self._lock = threading.Lock()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._listener.getsockname()[1]

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self.url

    def stop(self):
        self._listener.close()

    def _accept(self):
        while True:
            try:
                conn, dummy = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            with self._lock:
                self._threads.append(thread)

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            words = head.split(b"\r\n", 1)[0].split()
            if len(words) < 2 or words[0] != b"CONNECT":
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            with self._lock:
                self.connects.append(words[1].decode("ascii", "replace"))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            try:
                tls = self._tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                with self._lock:
                    self.handshakes.append(False)
                return
            with self._lock:
                self.handshakes.append(True)
            upstream = socket.create_connection(self.upstream, timeout=30)
            pump = threading.Thread(target=self._pump, args=(upstream, tls), daemon=True)
            pump.start()
            self._pump(tls, upstream)
            pump.join(30)
            upstream.close()
            tls.close()
        except OSError:
            return
        finally:
            conn.close()

    @staticmethod
    def _pump(source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
