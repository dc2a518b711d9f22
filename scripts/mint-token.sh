#!/usr/bin/env bash
# Mint an HS256 JWT for tmc's gateway (for demos, tests and scripts; production tokens come from your SSO).
#
#   TMC_JWT_SECRET=base64:... TMC_JWT_ISSUER=tmc-demo TMC_JWT_AUDIENCE=tmc \
#     scripts/mint-token.sh '"sub":"alice","tenant":"acme","vms":["demo-1"]' [TTL_SECONDS]
#
# The first argument holds the claims besides iss, aud, iat and exp, as the inside of a JSON object.
# An admin token: TMC_JWT_AUDIENCE=tmc-admin (the admins' audience) and '"sub":"ops","roles":["tmc-admin"]'.
#
# The key never appears on a command line (where `ps` and /proc/*/cmdline show it to every user of the machine):
# HMAC-SHA256 is computed here as SHA-256(K^opad || SHA-256(K^ipad || m)) (RFC 2104), the key's bytes passing only
# through shell builtins and pipes into `openssl dgst -sha256`, which reads them from its standard input.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
: "${TMC_JWT_SECRET:?set TMC_JWT_SECRET to the gateway jwt.hs256Secret (base64:... or the plain text)}"
: "${TMC_JWT_ISSUER:?set TMC_JWT_ISSUER to the gateway jwt.issuer}"
: "${TMC_JWT_AUDIENCE:?set TMC_JWT_AUDIENCE to the gateway jwt.audience}"
ttl=${2:-43200}
case "$ttl" in ''|*[!0-9]*) echo "mint-token.sh: TTL must be a number of seconds" >&2; exit 2 ;; esac

hex() { od -An -v -tx1 | tr -d ' \n'; }                       # stdin bytes -> hex
unhex() { local h=$1 i; for ((i = 0; i < ${#h}; i += 2)); do printf "\\x${h:i:2}"; done; }   # builtin printf
sha256_hex() { openssl dgst -sha256 -binary | hex; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

if [[ "$TMC_JWT_SECRET" == base64:* ]]; then
    key_hex=$(openssl base64 -d -A <<<"${TMC_JWT_SECRET#base64:}" | hex)
else
    key_hex=$(printf '%s' "$TMC_JWT_SECRET" | hex)
fi
# Keys longer than SHA-256's 64-byte block are hashed first; shorter ones are padded with zeros.
if ((${#key_hex} > 128)); then
    key_hex=$(unhex "$key_hex" | sha256_hex)
fi
while ((${#key_hex} < 128)); do key_hex+=00; done
ipad='' opad=''
for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key_hex:i:2}))
    ipad+=$(printf '%02x' $((byte ^ 0x36)))
    opad+=$(printf '%02x' $((byte ^ 0x5c)))
done

now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"%s","aud":"%s","iat":%d,"exp":%d,%s}' \
    "$TMC_JWT_ISSUER" "$TMC_JWT_AUDIENCE" "$now" $((now + ttl)) "$1" | b64url)
inner=$({ unhex "$ipad"; printf '%s.%s' "$header" "$payload"; } | sha256_hex)
sig=$({ unhex "$opad"; unhex "$inner"; } | openssl dgst -sha256 -binary | b64url)
echo "$header.$payload.$sig"
