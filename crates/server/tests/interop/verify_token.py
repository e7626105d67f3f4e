#!/usr/bin/env python3
"""Verifies a Tollgate access token with PyJWT, a JWT implementation independent of Tollgate's.

Usage: verify_token.py ISSUER_URL TOKEN AUDIENCE

Discovers the issuer's metadata (RFC 8414 `/.well-known/oauth-authorization-server`), fetches the
keys from its `jwks_uri` with `jwt.PyJWKClient`, and checks what a resource server must (RFC 9068
section 4): the `typ` header is `at+jwt`, the signature with the key named by `kid`, the algorithm
against the advertised list, and the `iss`, `aud`, `exp`, `nbf` and `iat` claims. Prints
`{"header": ..., "claims": ...}` as JSON and exits 0; on any failure prints the reason to stderr
and exits 1. Needs `pip install "pyjwt[crypto]"` (scripts/test installs it).
"""

import json
import sys
import urllib.request

import jwt

ASYMMETRIC = {"ES256", "EdDSA", "RS256"}


def fail(reason):
    print(f"refused: {reason}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: verify_token.py ISSUER_URL TOKEN AUDIENCE")
    issuer, token, audience = sys.argv[1:]
    with urllib.request.urlopen(f"{issuer}/.well-known/oauth-authorization-server", timeout=10) as r:
        metadata = json.load(r)
    if metadata.get("issuer") != issuer:
        fail(f"metadata names issuer {metadata.get('issuer')!r}, not {issuer!r}")
    # Only the algorithms the issuer advertises, and never `none` or an HMAC one.
    algorithms = sorted(set(metadata.get("access_token_signing_alg_values_supported", [])) & ASYMMETRIC)
    if not algorithms:
        fail("the issuer advertises no asymmetric signing algorithm")
    try:
        header = jwt.get_unverified_header(token)
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            fail(f"typ is {header.get('typ')!r}, not at+jwt")
        if header.get("alg") not in algorithms:
            fail(f"alg {header.get('alg')!r} is not among {algorithms}")
        signing_key = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=[header["alg"]],
            audience=audience,
            issuer=issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"], "verify_nbf": True},
        )
    except jwt.PyJWTError as e:
        fail(f"{type(e).__name__}: {e}")
    print(json.dumps({"header": header, "claims": claims}))


if __name__ == "__main__":
    main()
