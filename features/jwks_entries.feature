@jwks_entries @serial
Feature: JWKS entries: unusable keys are ignored, the other keys keep working, a shared kid is never a crash
  A JWKS may hold entries an implementation cannot or must not verify with. Each scenario makes
  the issuer publish extra entries after its own keys (control API PUT /_control/v1/jwks/extra),
  every one under a fresh kid, and signs tokens with the matching private keys, which only the
  harness holds. A usable ES256 key under another fresh kid is published after the entry under
  test: a token it signs being accepted proves the implementation fetched the key set that holds
  the entry (an unknown kid makes it refetch within two declared cooldowns, one failed attempt
  tolerated, plus a margin of 5 s, as in key_rotation.feature). Every wait is a bounded poll;
  429 RATE_LIMITED only delays it. The extra entries are shared issuer state: these scenarios
  run alone (@serial), the entries are removed at the start, on any failure, and at the end of
  each scenario, which then waits until a token signed by the issuer's current key is accepted
  again, so no later scenario finds the implementation without keys.

  Which entries a correct implementation must refuse (RFC 7517, RFC 7518, attacks.md A44):
  - an EC point off the P-256 curve: no valid signature can verify against it, and invalid
    points are the invalid-curve attack (RFC 7518 §6.2.1); only a crash or a 5xx can differ;
  - "kty":"oct": a secret published in a JWKS is public; HS256 is verified only with the
    configured legacy secret (RFC 8725 §3.1, attacks.md A45; jose refuses symmetric JWKS keys).
  The @strict rows are readings that correct libraries differ on, with the issuer as the only
  party able to publish such an entry (nothing an attacker controls):
  - P-256 coordinates labelled "crv":"P-384": RFC 7518 §6.2.1.2 requires coordinates of the
    full size of the named curve, and ES256 is ECDSA on P-256 only (§3.4), but the signature is
    genuine and the point is on P-256; libraries that select the curve from the key bytes accept;
  - "use":"enc": the key is declared for encryption (RFC 7517 §4.2), but "use" is optional and
    the signature was made by the issuer's key; jose and PyJWT skip such keys, jsonwebtoken
    (Rust) and others do not look at "use";
  - RSA keys under 2048 bits: RFC 7518 §3.3 says a key of 2048 bits or more MUST be used;
    jose enforces it, PyJWT verifies with a 1024-bit key;
  - RSA with public exponent 1 (the "signature" is the padded digest itself, so anyone can make
    one): RFC 8017 §3.1 requires 3 <= e and pyca/cryptography (PyJWT) refuses such keys, but
    jose on Node.js (OpenSSL) accepts the token;
  - "key_ops" without "verify": RFC 7517 §4.3 makes honouring "key_ops" optional (jose checks
    it, PyJWT does not);
  - an EC public key that also carries its private "d": the signature is genuine; jose takes
    only public keys from a JWKS, others verify with the public part.

  Background:
    Given the issuer's JWKS serves normally and its clock is not offset
    And the implementation accepts tokens signed by the issuer's current ES256 key

  @A44 @high @timeout(5m)
  Scenario Outline: A token signed by an unusable JWKS entry (<entry>) is unauthenticated while the other keys keep working
    Given the issuer's JWKS also publishes <entry>, then a usable ES256 control key
    When I send tokens signed by the control key until one is accepted
    Then a token signed by the control key was accepted within two declared cooldowns plus the margin
    And a token signed by the unusable entry is answered 401 UNAUTHENTICATED
    And a token signed by the issuer's current ES256 key is still accepted
    When the issuer's JWKS holds its own keys only again
    Then the implementation accepts tokens signed by the issuer's current ES256 key

    Examples:
      | entry                                         |
      | an EC key whose point is not on P-256         |
      | a symmetric "oct" key used with HS256         |

  @A44 @low @strict @timeout(5m)
  Scenario Outline: A token signed by a doubtful JWKS entry (<entry>) is unauthenticated (strict: correct libraries differ)
    Given the issuer's JWKS also publishes <entry>, then a usable ES256 control key
    When I send tokens signed by the control key until one is accepted
    Then a token signed by the control key was accepted within two declared cooldowns plus the margin
    And a token signed by the unusable entry is answered 401 UNAUTHENTICATED
    And a token signed by the issuer's current ES256 key is still accepted
    When the issuer's JWKS holds its own keys only again
    Then the implementation accepts tokens signed by the issuer's current ES256 key

    Examples:
      | entry                                         |
      | a P-256 key labelled "crv":"P-384"            |
      | an ES256 key with "use":"enc"                 |
      | an RSA key of 1024 bits                       |
      | an RSA key with public exponent 1             |
      | an ES256 key whose "key_ops" lack "verify"    |
      | an ES256 key that also carries its private "d" |

  @A43 @high @timeout(5m)
  Scenario: Two different keys published under one kid never make the implementation fail or hang
    Libraries differ: some take the first match, some try each matching key, some refuse the
    ambiguous key set. Each of those answers 2xx or 401 UNAUTHENTICATED, within 15 s.
    Given the issuer's JWKS also publishes two different ES256 keys under one fresh kid, then a usable ES256 control key
    When I send tokens signed by each key of the shared kid, and by the control key, until the control key is accepted or two declared cooldowns plus the margin have passed
    Then every token signed by a key of the shared kid was answered 2xx or 401 UNAUTHENTICATED within 15 seconds
    When the issuer's JWKS holds its own keys only again
    Then the implementation accepts tokens signed by the issuer's current ES256 key

  @A43 @low @strict @timeout(5m)
  Scenario: A token signed by the second of two keys published under one kid is never accepted (strict: the ambiguous key set is refused)
    attacks.md A43 expects the ambiguous key set refused (Wycheproof's DuplicateKid case). jose
    refuses a kid that matches several keys unless the application tries each candidate itself,
    first-match libraries refuse this token by accident, try-each ones accept it.
    Given the issuer's JWKS also publishes two different ES256 keys under one fresh kid, then a usable ES256 control key
    When I send tokens signed by the second key of the shared kid for two declared cooldowns plus the margin
    Then none of them was accepted, and the last one was answered 401 UNAUTHENTICATED
    When the issuer's JWKS holds its own keys only again
    Then the implementation accepts tokens signed by the issuer's current ES256 key
