#!/bin/sh
# Makes a throwaway PKI for the tests and the demo in directory $1:
#   ca.pem            the test CA (EC P-256)
#   server.pem/.key   localhost, 127.0.0.1 and ::1, signed by the CA
#   wronghost.pem/.key  wrong.example, signed by the CA
#   expired.pem/.key  localhost, valid only in 2020
#   future.pem/.key   localhost, valid only from 2099
#   rogue-ca.pem, rogue.pem/.key  localhost, signed by another CA
#   ipwild.pem/.key   CN=127.0.0.1 and DNS:*.0.0.1, DNS:127.0.0.1 (no iPAddress
#                     entry): names that only look like the address
#   client.pem/.key   a client certificate signed by the CA (for mutual TLS)
#   rsa.pem/.key      localhost with an RSA-2048 key, self-signed: its own
#                     trust anchor (the on-chip runs and make heap)
# Nothing here is secret: the keys live only as long as the test run.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
[ -f ca.pem ] && [ -f server.pem ] && [ -f client.pem ] && [ -f rsa.pem ] && [ -f ipwild.pem ] && exit 0

ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

ca() { # name subject
    ec "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.pem" 2>/dev/null
}

cat > ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
CNF
: > index.txt
echo 1000 > serial

leaf() { # name cacert cakey cn san startdate enddate [usage]
    ec "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$4" -addext "subjectAltName=$5" \
        -addext "extendedKeyUsage=${8:-serverAuth}" -out "$1.csr" 2>/dev/null
    openssl ca -batch -config ca.cnf -cert "$2" -keyfile "$3" -in "$1.csr" -out "$1.pem" \
        -startdate "$6" -enddate "$7" -notext 2>/dev/null
    rm -f "$1.csr"
}

now=$(date -u +%y%m%d%H%M%SZ)
later=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
ca ca "utmstack.h test CA"
ca rogue-ca "some other CA"
leaf server ca.pem ca.key localhost "DNS:localhost,IP:127.0.0.1,IP:::1" "$now" "$later"
leaf wronghost ca.pem ca.key wrong.example "DNS:wrong.example" "$now" "$later"
leaf expired ca.pem ca.key localhost "DNS:localhost" 200101000000Z 200201000000Z
leaf rogue rogue-ca.pem rogue-ca.key localhost "DNS:localhost" "$now" "$later"
leaf future ca.pem ca.key localhost "DNS:localhost" 20990101000000Z 20990201000000Z
leaf ipwild ca.pem ca.key 127.0.0.1 "DNS:*.0.0.1,DNS:127.0.0.1" "$now" "$later"
leaf client ca.pem ca.key appliance-42 "DNS:appliance-42" "$now" "$later" clientAuth
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 30 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
rm -f index.txt* serial* ca.cnf ./*.old 1*.pem 2>/dev/null || true
