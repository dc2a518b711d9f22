#!/usr/bin/env bash
# Mint an HS256 JWT for tmc's gateway (for demos, tests and scripts; production tokens come from your SSO).
#
#   TMC_JWT_SECRET=base64:... TMC_JWT_ISSUER=tmc-demo TMC_JWT_AUDIENCE=tmc \
#     scripts/mint-token.sh '"sub":"alice","tenant":"acme","vms":["demo-1"]' [TTL_SECONDS]
#
# The first argument holds the claims besides iss, aud, iat and exp, as the inside of a JSON object.
# An admin token: '"sub":"ops","roles":["tmc-admin"]'.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
: "${TMC_JWT_SECRET:?set TMC_JWT_SECRET to the gateway jwt.hs256Secret (base64:... or the plain text)}"
: "${TMC_JWT_ISSUER:?set TMC_JWT_ISSUER to the gateway jwt.issuer}"
: "${TMC_JWT_AUDIENCE:?set TMC_JWT_AUDIENCE to the gateway jwt.audience}"
ttl=${2:-43200}
case "$ttl" in ''|*[!0-9]*) echo "mint-token.sh: TTL must be a number of seconds" >&2; exit 2 ;; esac

if [[ "$TMC_JWT_SECRET" == base64:* ]]; then
    key_hex=$(printf '%s' "${TMC_JWT_SECRET#base64:}" | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')
else
    key_hex=$(printf '%s' "$TMC_JWT_SECRET" | od -An -tx1 | tr -d ' \n')
fi
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"%s","aud":"%s","iat":%d,"exp":%d,%s}' \
    "$TMC_JWT_ISSUER" "$TMC_JWT_AUDIENCE" "$now" $((now + ttl)) "$1" | b64url)
sig=$(printf '%s.%s' "$header" "$payload" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | b64url)
echo "$header.$payload.$sig"
