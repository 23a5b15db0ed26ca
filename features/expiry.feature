@expiry
Feature: TOKEN_EXPIRED means "refresh and retry"
  401 TOKEN_EXPIRED means "authentic but expired: refresh it". A token that is expired AND forged
  (a broken signature, an attacker's key, alg none, a header or payload changed after signing,
  HS256 keyed with a public key) is not authentic: it is 401 UNAUTHENTICATED, whatever the order
  in which the implementation checks things. That catches verifiers that read exp before they
  check the signature. A genuinely signed, expired token whose aud, iss, nbf, sub or crit is also
  wrong IS authentic: jose, PyJWT, jsonwebtoken and golang-jwt all check exp first and answer
  TOKEN_EXPIRED, which the contract's words allow, so the default run takes either code (never
  an acceptance) and only the @strict reading asks for UNAUTHENTICATED.
  A token is expired when now >= exp + L, L being the profile's declared leeway.

  @A25 @medium
  Scenario Outline: An expired, genuinely signed <alg> token is TOKEN_EXPIRED
    Given an expired <alg> access token for a fresh user
    When I call the protected route with it
    Then the response is 401 TOKEN_EXPIRED

    Examples:
      | alg   |
      | ES256 |
      | RS256 |

  @A25 @A11 @medium
  Scenario: An expired HS256 token signed with the legacy secret is TOKEN_EXPIRED exactly when legacy mode is on
    Given an expired HS256 access token for a fresh user
    When I call the protected route with it
    Then the response is 401 TOKEN_EXPIRED if legacy HS256 is enabled, otherwise 401 UNAUTHENTICATED

  @A25 @A54 @medium @needs-declared-leeway
  Scenario: A token that expired just beyond the leeway is TOKEN_EXPIRED
    Given an ES256 access token for a fresh user with "exp" set to now minus the leeway minus 5 seconds
    When I call the protected route with it
    Then the response is 401 TOKEN_EXPIRED

  @A25 @A54 @low @strict @needs-declared-leeway
  Scenario: A token at exactly exp + leeway is TOKEN_EXPIRED (strict: some verifiers accept the boundary second)
    Given an ES256 access token for a fresh user with "exp" set to now minus the leeway
    When I call the protected route with it
    Then the response is 401 TOKEN_EXPIRED

  @A26 @medium
  Scenario Outline: An expired <alg> token whose signature is broken is UNAUTHENTICATED, not expired (<change>)
    Given an expired <alg> access token for a fresh user
    And that token with <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | change                                         |
      | ES256 | its signature's last byte flipped              |
      | ES256 | an empty signature                             |
      | ES256 | the last 4 characters of its signature removed |
      | RS256 | its signature's last byte flipped              |
      | HS256 | its signature's last byte flipped              |

  @A26 @medium
  Scenario: An expired unsigned (alg none) token is UNAUTHENTICATED, not expired
    Given an expired ES256 access token for a fresh user
    And that token with its header replaced by {"alg":"none","typ":"JWT"} and an empty signature
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A26 @medium
  Scenario Outline: An expired token signed by an attacker <alg> key is UNAUTHENTICATED, not expired
    Given an expired ES256 access token for a fresh user
    And that token re-signed by an attacker <alg> key with the kid of the issuer's <key> key
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | key   |
      | ES256 | ES256 |
      | RS256 | RS256 |

  @A26 @medium
  Scenario: An expired token with HS256 keyed by the issuer's public key is UNAUTHENTICATED, not expired
    Given an expired ES256 access token for a fresh user
    And that token re-signed as HS256 with the issuer's ES256 public key as SPKI PEM
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A26 @medium
  Scenario: An expired token whose payload was altered is UNAUTHENTICATED, not expired
    Given an expired ES256 access token for a fresh user
    And that token with its claim "role" changed to "service_role", signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A27 @critical
  Scenario Outline: An expired, genuinely signed token with "<claim>" set to <value> is refused, never accepted
    Given an ES256 access token for a fresh user with claims:
      | exp     | now minus the leeway minus 600 seconds |
      | <claim> | <value>                               |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

    Examples:
      | claim | value                                              |
      | aud   | "anon"                                             |
      | aud   | absent                                             |
      | iss   | "https://abcdefghijklmnopqrst.supabase.co/auth/v1" |
      | iss   | the issuer with a trailing slash                   |
      | nbf   | now plus the leeway plus 600 seconds               |
      | sub   | absent                                             |

  @A27 @low @strict
  Scenario Outline: An expired, genuinely signed token with "<claim>" set to <value> is UNAUTHENTICATED, not expired (strict: error precedence)
    Given an ES256 access token for a fresh user with claims:
      | exp     | now minus the leeway minus 600 seconds |
      | <claim> | <value>                               |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | claim | value                                              |
      | aud   | "anon"                                             |
      | aud   | absent                                             |
      | iss   | "https://abcdefghijklmnopqrst.supabase.co/auth/v1" |
      | iss   | the issuer with a trailing slash                   |
      | nbf   | now plus the leeway plus 600 seconds               |
      | sub   | absent                                             |

  @A27 @critical
  Scenario: An expired token genuinely signed with an unknown critical extension is refused, never accepted
    Given an ES256 access token for a fresh user with "exp" set to now minus the leeway minus 600 seconds
    And that token re-signed by the issuer with header member "crit" set to ["x-unknown"]
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

  @A27 @low @strict
  Scenario: An expired token genuinely signed with an unknown critical extension is UNAUTHENTICATED, not expired (strict: error precedence)
    Given an ES256 access token for a fresh user with "exp" set to now minus the leeway minus 600 seconds
    And that token re-signed by the issuer with header member "crit" set to ["x-unknown"]
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A27 @A22 @medium
  Scenario: An expired PS256 token signed with the trusted RSA key is UNAUTHENTICATED, not expired
    Given an RS256 access token for a fresh user signed as PS256 by the issuer, expired
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @A25 @medium
  Scenario: An expired token that also lacks permission is TOKEN_EXPIRED on the permission route
    Authentication comes before authorization: the client must refresh first.
    Given an expired ES256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 401 TOKEN_EXPIRED
