#!/bin/sh
# make_certs.sh OUTDIR — test PKI for the TLS tests, made with the openssl CLI only.
#
#   ca.pem/ca.key                 test CA (the one clients are given)
#   server.pem/server.key         signed by ca, SAN IP:127.0.0.1 + DNS:localhost, valid now
#   wronghost.pem/wronghost.key   signed by ca, SAN DNS:wrong.example only
#   expired.pem/expired.key       signed by ca, valid only in 2020
#   untrusted_ca.pem/.key         a second CA that clients are NOT given
#   untrusted.pem/untrusted.key   signed by untrusted_ca, SAN IP:127.0.0.1 + DNS:localhost
#
# Idempotent: a complete set whose server certificate is valid for another day is kept as it is,
# so concurrent or repeated test runs share one set; otherwise a new set is made in a scratch
# directory and moved in under a lock. Quiet on success; prints openssl's output and exits
# non-zero on failure. Keys are EC P-256 (fast).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
files="ca.pem ca.key server.pem server.key wronghost.pem wronghost.key expired.pem expired.key
       untrusted_ca.pem untrusted_ca.key untrusted.pem untrusted.key"

complete() {
    for f in $files; do [ -s "$out/$f" ] || return 1; done
    openssl x509 -in "$out/server.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
        openssl verify -CAfile "$out/ca.pem" "$out/server.pem" >/dev/null 2>&1
}

exec 9>"$out/.make_certs.lock"
flock 9
complete && exit 0

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/log

# run CMD...: keep openssl quiet unless it fails.
run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "make_certs.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

cat >"$work/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $ENV::DB_DIR/index.txt
new_certs_dir = $ENV::DB_DIR
serial = $ENV::DB_DIR/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
EOF
export OPENSSL_CONF="$work/openssl.cnf" SAN=unused DB_DIR=unused

key() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"; }

# make_ca NAME CN
make_ca() {
    key "$1"
    run openssl req -new -x509 -config "$OPENSSL_CONF" -key "$work/$1.key" -subj "/CN=$2" \
        -days 3650 -sha256 -extensions ca_ext -out "$work/$1.pem"
}

# make_leaf NAME CA SAN STARTDATE ENDDATE  (dates as YYYYMMDDHHMMSSZ)
make_leaf() {
    key "$1"
    run openssl req -new -config "$OPENSSL_CONF" -key "$work/$1.key" -subj "/CN=$1 test server" \
        -out "$work/$1.csr"
    db=$work/db.$1
    mkdir "$db"
    : >"$db/index.txt"
    openssl rand -hex 16 >"$db/serial"
    SAN=$3 DB_DIR=$db run openssl ca -batch -notext -config "$OPENSSL_CONF" -cert "$work/$2.pem" \
        -keyfile "$work/$2.key" -in "$work/$1.csr" -out "$work/$1.pem" -extensions leaf_ext \
        -startdate "$4" -enddate "$5"
}

now_minus_hour=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)
in_ten_years=$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)
local_names="IP:127.0.0.1,DNS:localhost"

make_ca ca "livefour test CA"
make_ca untrusted_ca "livefour untrusted CA"
make_leaf server ca "$local_names" "$now_minus_hour" "$in_ten_years"
make_leaf wronghost ca "DNS:wrong.example" "$now_minus_hour" "$in_ten_years"
make_leaf expired ca "$local_names" 20200101000000Z 20200102000000Z
make_leaf untrusted untrusted_ca "$local_names" "$now_minus_hour" "$in_ten_years"

# Check that each certificate is what its name promises before handing it out.
run openssl verify -CAfile "$work/ca.pem" "$work/server.pem" "$work/wronghost.pem"
run openssl verify -CAfile "$work/untrusted_ca.pem" "$work/untrusted.pem"
if openssl verify -CAfile "$work/ca.pem" "$work/untrusted.pem" >>"$log" 2>&1; then
    echo "make_certs.sh: untrusted.pem verifies against ca.pem" >&2; exit 1
fi
if openssl x509 -in "$work/expired.pem" -noout -checkend 0 >>"$log" 2>&1; then
    echo "make_certs.sh: expired.pem is not expired" >&2; exit 1
fi
run openssl x509 -in "$work/server.pem" -noout -checkend 86400

chmod 600 "$work"/*.key
for f in $files; do mv -f "$work/$f" "$out/$f"; done
