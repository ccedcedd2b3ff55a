// livefour-emulator — an in-memory test PKI: one EC P-256 CA and a server certificate it signs.
//
// Generated at start-up so that `livefour-emulator` serves HTTPS with no files to manage; the CA
// certificate can be written out (--write-ca) for a client that verifies the chain, which is how
// our tests exercise livefour's certificate and host-name checks for real. OpenSSL 3 EVP/X509
// APIs only (nothing deprecated). Light translation unit: OpenSSL headers, no Beast.
#pragma once

#include <string>
#include <vector>

namespace livefour::emulator {

/// PEM-encoded TLS material.
struct tls_material {
    std::string ca_cert_pem;      ///< the CA certificate clients should trust
    std::string server_cert_pem;  ///< leaf certificate, then the CA (a complete chain)
    std::string server_key_pem;   ///< PKCS#8 private key of the leaf
};

/// Creates a CA and a server certificate valid from one hour ago for 30 days, with subject
/// alternative names IP 127.0.0.1, IP ::1, DNS localhost plus each of `extra_names` (an IP
/// literal becomes an IP SAN, anything else a DNS SAN). Throws std::runtime_error on failure.
tls_material generate_tls_material(const std::vector<std::string>& extra_names = {});

}  // namespace livefour::emulator
