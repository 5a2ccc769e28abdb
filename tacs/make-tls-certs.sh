#!/bin/sh
# Make EXAMPLE certificates for tacs/tls.tac in DIRECTORY (default:
# tls-example): a certificate authority of your own, and certificates it
# signs for the listener (localhost, and www.example by SNI), for a
# backend (backend.example) and for a client. For trying txlb only: the
# authority's key is left in the directory.
#
#   sh tacs/make-tls-certs.sh [DIRECTORY]
set -eu
dir=${1:-tls-example}
mkdir -p "$dir"
cd "$dir"
days=30

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=txlb example CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

leaf() {  # NAME SUBJECT-ALT-NAMES USAGE
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

leaf localhost "DNS:localhost,IP:127.0.0.1" serverAuth
leaf www.example "DNS:www.example" serverAuth
leaf backend.example "DNS:backend.example" serverAuth
leaf client "DNS:client.example" clientAuth
chmod 600 ./*.key
echo "example certificates written to $dir (valid $days days)"
