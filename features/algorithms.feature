@algorithms
Feature: Signature algorithms and keys
  The algorithm is pinned by the key, never chosen by the token: an EC P-256 key from the JWKS
  verifies ES256 only, an RSA key RS256 only, and the legacy secret (when enabled) HS256 only.
  "none", other algorithms, public keys used as HMAC secrets, keys carried or pointed at by the
  token itself, and malformed ECDSA signatures are all answered 401 UNAUTHENTICATED.

  @A07 @critical
  Scenario Outline: An unsigned token with alg "<alg>" is unauthenticated
    Given a valid ES256 access token for a fresh user
    And that token with its header replaced by {"alg":"<alg>","typ":"JWT"} and an empty signature
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg  |
      | none |
      | None |
      | NONE |
      | nOnE |

  @A07 @critical
  Scenario: An unsigned token that keeps the kid of the issuer's key is unauthenticated
    Given a valid ES256 access token for a fresh user
    And that token with its header member "alg" changed to "none", signature removed
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A08 @critical
  Scenario Outline: An alg "<alg>" token that keeps the original signature is unauthenticated
    Given a valid ES256 access token for a fresh user
    And that token with its header member "alg" changed to "<alg>", signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg  |
      | none |
      | None |
      | NONE |
      | nOnE |

  @A10 @A45 @critical
  Scenario Outline: HS256 keyed with the issuer's <key> public key as <encoding> is unauthenticated
    A verifier that lets the token pick the algorithm would use the public key bytes as an HMAC
    secret. Each common encoding of the public key is tried, with the kid of that key.
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the issuer's <key> public key as <encoding>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples: EC P-256 key
      | key   | encoding                          |
      | ES256 | SPKI PEM                          |
      | ES256 | SPKI PEM without trailing newline |
      | ES256 | SPKI DER                          |
      | ES256 | JWK JSON                          |
      | ES256 | raw x\|\|y bytes                  |
      | ES256 | SEC1 uncompressed point           |

    Examples: RSA key
      | key   | encoding                            |
      | RS256 | SPKI PEM                            |
      | RS256 | SPKI PEM without trailing newline   |
      | RS256 | PKCS#1 PEM                          |
      | RS256 | PKCS#1 PEM without trailing newline |
      | RS256 | SPKI DER                            |
      | RS256 | PKCS#1 DER                          |
      | RS256 | JWK JSON                            |
      | RS256 | raw n bytes                         |

  @A10 @critical
  Scenario Outline: <alg> keyed with the issuer's <key> public key as SPKI PEM, without kid, is unauthenticated
    Given a valid ES256 access token for a fresh user
    And that token re-signed as <alg> with the issuer's <key> public key as SPKI PEM and no kid
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | key   |
      | HS256 | ES256 |
      | HS256 | RS256 |
      | HS384 | RS256 |
      | HS512 | RS256 |

  @A11 @A22 @critical
  Scenario Outline: <alg> signed with the correct legacy secret is unauthenticated
    Given an HS256 access token for a fresh user signed as <alg> by the issuer
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   |
      | HS384 |
      | HS512 |

  @A22 @critical
  Scenario Outline: <alg> signed with the issuer's trusted RSA key is unauthenticated
    Only RS256 may be verified with an RSA key, although the signature itself is genuine.
    Given an RS256 access token for a fresh user signed as <alg> by the issuer
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   |
      | PS256 |
      | PS384 |
      | PS512 |
      | RS384 |
      | RS512 |

  @A22 @critical
  Scenario Outline: A token signed by an attacker <alg> key under the kid of the issuer's <key> key is unauthenticated
    Given a token signed by an attacker <alg> key with the kid of the issuer's <key> key
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | key   |
      | ES256 | ES256 |
      | RS256 | RS256 |
      | PS256 | RS256 |
      | ES384 | ES256 |
      | ES512 | ES256 |
      | EdDSA | ES256 |

  @A23 @critical
  Scenario Outline: A <alg> signature under the kid of the issuer's <other> key is unauthenticated
    Given a valid <alg> access token for a fresh user
    And that token re-signed by the issuer with header member "kid" set to the kid of the issuer's <other> key
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | other |
      | ES256 | RS256 |
      | RS256 | ES256 |

  @A23 @critical
  Scenario Outline: A token claiming <claimed> but signed <alg> by the issuer is unauthenticated
    Given a valid <alg> access token for a fresh user
    And that token re-signed by the issuer with header member "alg" set to "<claimed>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | claimed |
      | ES256 | RS256   |
      | RS256 | ES256   |
      | ES256 | HS256   |
      | RS256 | HS256   |

  @A24 @critical
  Scenario Outline: A genuinely signed token with a malformed alg <value> is unauthenticated
    The header member "alg" is case-sensitive and must be the string naming the key's algorithm.
    Given a valid ES256 access token for a fresh user
    And that token re-signed by the issuer with header member "alg" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value       |
      | "es256"     |
      | "ES256 "    |
      | "ES256\\u0000" |
      | " ES256"    |
      | null        |
      | 256         |
      | ["ES256"]   |
      | {"alg":"ES256"} |
      | absent      |

  @A18 @critical
  Scenario Outline: A psychic ECDSA signature (<form>) is unauthenticated
    CVE-2022-21449: r = s = 0 "verifies" any message in broken ECDSA implementations.
    Given a valid ES256 access token for a fresh user
    And that token with its signature segment replaced by "<segment>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | form                  | segment                                                                                |
      | 64 zero bytes         | AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA |
      | DER SEQUENCE of 0, 0  | MAYCAQACAQA                                                                            |

  @A19 @critical
  Scenario Outline: An ES256 signature with r = <r> and s = <s> is unauthenticated
    Valid signatures have 1 <= r, s <= n-1 (n: the P-256 group order; p: the field prime).
    (r + n, the value a verifier that reduces r mod n would accept, almost never fits the 32
    bytes of R: it exceeds 2^256 unless r < 2^256 - n, about 2^224. The rows at n, n+1, p and
    p+1 probe that range instead.)
    Given a valid ES256 access token for a fresh user
    And that token with its ES256 signature replaced by r = <r> and s = <s>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | r      | s      |
      | 0      | 0      |
      | 0      | its s  |
      | its r  | 0      |
      | 1      | 1      |
      | 1      | its s  |
      | its r  | 1      |
      | n      | n      |
      | n      | its s  |
      | its r  | n      |
      | n-1    | n-1    |
      | n+1    | its s  |
      | its r  | n+1    |
      | p      | its s  |
      | its r  | p      |
      | p+1    | its s  |
      | its r  | p+1    |
      | all ones | all ones |

  @A20 @critical
  Scenario: A correct ES256 signature encoded as ASN.1 DER is unauthenticated
    RFC 7518 §3.4: the JWS signature is the 64-byte R‖S; a DER-encoded signature is invalid even
    when it is mathematically correct.
    Given a valid ES256 access token for a fresh user
    And that token with its ES256 signature DER-encoded
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A21 @critical
  Scenario Outline: An ES256 signature of the wrong length is unauthenticated (<change>)
    Given a valid ES256 access token for a fresh user
    And that token with its ES256 signature <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | change                           |
      | truncated to 63 bytes            |
      | extended by a zero byte          |
      | followed by two zero bytes       |
      | with a zero byte prepended to r  |
      | with a zero byte prepended to s  |
      | with a zero byte prepended       |

  @A61 @critical
  Scenario Outline: A malformed RS256 signature is unauthenticated (<change>)
    RSASSA-PKCS1-v1_5 signatures are exactly as long as the modulus and smaller than it.
    Given a valid RS256 access token for a fresh user
    And that token with its RS256 signature <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | change                        |
      | truncated by one byte         |
      | with a zero byte prepended    |
      | replaced by the key's modulus |
      | replaced by 256 0xFF bytes    |
      | replaced by zero              |

  @A60 @low @strict
  Scenario: The high-S twin of a valid ES256 signature is accepted (strict: both are valid ECDSA)
    Given a valid ES256 access token for a fresh user
    And that token with its ES256 signature in its high-S form
    When I call the protected route with it
    Then the request is accepted

  @A14 @critical
  Scenario Outline: A token carrying its own <alg> key in the "jwk" header is unauthenticated (<kid>)
    The attacker signs with its own key and embeds the public key in the header, under the kid of
    the issuer's key, under no kid at all (a verifier that falls back to the embedded key when
    the kid names nothing), or under a kid the issuer never published. Only keys from the
    issuer's JWKS are trusted.
    Given a token signed by an attacker <alg> key that embeds its public key as "jwk" under <kid>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | kid                               |
      | ES256 | the kid of the issuer's ES256 key |
      | RS256 | the kid of the issuer's RS256 key |
      | ES256 | no kid                            |
      | RS256 | no kid                            |
      | ES256 | a kid the issuer never published  |

  @A16 @critical
  Scenario Outline: A token carrying the attacker's self-signed certificate in "x5c" is unauthenticated (<kid>)
    A certificate in the token is not a trust anchor: the signature verifies with the key in the
    certificate, which nobody but the attacker vouches for.
    Given a token signed by an attacker ES256 key that embeds its self-signed certificate as "x5c" under <kid>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | kid                               |
      | the kid of the issuer's ES256 key |
      | the kid of the issuer's RS256 key |
      | no kid                            |
      | a kid the issuer never published  |

  @A15 @A16 @critical
  Scenario Outline: A token whose "<member>" points at the attacker's key set is unauthenticated and the URL is never fetched
    Given the attacker listener serves the attacker's JWKS
    And a token signed by an attacker ES256 key whose header member "<member>" points at the attacker listener
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
    And the attacker listener received no request

    Examples:
      | member |
      | jku    |
      | x5u    |

  @A15 @critical
  Scenario: A genuine token with an added "jku" is not an invitation to fetch it
    Whatever the verdict on the genuine signature, the implementation never fetches a key URL
    named by the token.
    Given the attacker listener serves the attacker's JWKS
    And a valid ES256 access token for a fresh user
    And that token re-signed by the issuer with header member "jku" set to the attacker listener URL
    When I call the protected route with it
    Then the attacker listener received no request

  @A35 @critical
  Scenario Outline: A JWE (5 segments, <kind>) is not accepted as a JWS
    Given a valid ES256 access token for a fresh user
    And that token rewritten as "<token>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | kind                  | token                                                                                                         |
      | RSA-OAEP to the JWKS  | eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.{signature}.AAAAAAAAAAAAAAAA.{payload}.AAAAAAAAAAAAAAAAAAAAAA |
      | alg dir               | eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.{payload}.AAAAAAAAAAAAAAAAAAAAAA                 |
      | unsigned inner JWT    | eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiSldUIn0..AAAAAAAAAAAAAAAA.{header}.{payload}               |

  @A39 @high
  Scenario Outline: A genuine signature under an unknown kid (<kid>) is never an error or a different verdict
    The signature really is the issuer's, so a verifier that tries its keys (bounded, same key
    type, as attacks.md A42 allows) may accept it; one that selects by kid refuses it.
    Given a valid <alg> access token for a fresh user
    And that token re-signed by the issuer with header member "kid" set to "<kid>"
    When I call the protected route with it
    Then the request is accepted or the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | kid                                  |
      | ES256 | 00000000-0000-4000-8000-00000000beef |
      | RS256 | 00000000-0000-4000-8000-00000000beef |
      | ES256 | xauth-unknown-kid                    |

  @A39 @low @strict
  Scenario Outline: A genuine signature under an unknown kid (<kid>) is unauthenticated (strict: the kid selects the key)
    The kid selects the key; a kid the JWKS does not hold is not a hint to try the other keys.
    Given a valid <alg> access token for a fresh user
    And that token re-signed by the issuer with header member "kid" set to "<kid>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | kid                                  |
      | ES256 | 00000000-0000-4000-8000-00000000beef |
      | RS256 | 00000000-0000-4000-8000-00000000beef |
      | ES256 | xauth-unknown-kid                    |

  @A42 @low @strict
  Scenario: An ES256 token without kid is unauthenticated (strict: a bounded try-each over the EC keys is also allowed)
    Given a valid ES256 access token for a fresh user
    And that token re-signed by the issuer with header member "kid" set to absent
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A42 @critical
  Scenario: An ES256 token without kid is never verified against the legacy secret
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the legacy secret and no kid, claiming alg "ES256"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
