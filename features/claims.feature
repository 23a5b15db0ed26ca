@claims
Feature: Claims of a genuinely signed token
  A token signed by a trusted key is accepted only when its claims hold: "iss" is exactly the
  issuer (<SUPABASE_URL>/auth/v1), "aud" is or contains "authenticated", "exp" is a number in the
  future, "nbf" and "iat" (when present) are numbers not in the future, all within the leeway L
  the profile declares, and the header names no critical extension the implementation does not
  understand, and "sub" is a non-empty string. Otherwise the answer is 401 UNAUTHENTICATED
  (TOKEN_EXPIRED is only for tokens that are valid except for being expired: see expiry.feature).
  Times below are relative to the suite's clock; "the leeway" is the profile's leeway_seconds.

  @A28 @critical
  Scenario: A token without "exp" is unauthenticated
    Given an ES256 access token for a fresh user with "exp" set to absent
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A29 @critical
  Scenario Outline: A token whose "exp" is <value> is unauthenticated
    "exp" must be a JSON number (RFC 7519 §4.1.4); null, objects and arrays are malformed, not
    "no expiry" (Rust jsonwebtoken before 10.3.0 skipped a malformed exp: CVE-2026-25537).
    Given an ES256 access token for a fresh user with "exp" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value         |
      | null          |
      | {}            |
      | []            |
      | [9999999999]  |

  @A29 @low @strict
  Scenario Outline: A token whose "exp" is <value> is unauthenticated (strict: PyJWT and python-jose coerce NumericDate with int())
    A string or a boolean is not a NumericDate, but only the issuer's key can sign such a token
    and GoTrue never issues one: PyJWT reads "9999999999" as a date and true as 1, deliberately
    (PyJWT PR #122). Nothing is forged, so this is a hardening reading.
    Given an ES256 access token for a fresh user with "exp" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value         |
      | "9999999999"  |
      | true          |

  @A25 @critical
  Scenario Outline: An expired, genuinely signed <alg> token is never accepted
    Whether the answer says TOKEN_EXPIRED (it should: see expiry.feature) or UNAUTHENTICATED,
    an expired token must not get through.
    Given an expired <alg> access token for a fresh user
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

    Examples:
      | alg   |
      | ES256 |
      | RS256 |
      | HS256 |

  @A55 @medium
  Scenario: A fractional "exp" in the future is accepted
    Given an ES256 access token for a fresh user with "exp" set to now plus 3600.5 seconds
    When I call the protected route with it
    Then the request is accepted

  @A55 @low @strict
  Scenario Outline: An absurdly large "exp" (<value>) is unauthenticated (strict: some correct verifiers treat it as a far future date)
    Given an ES256 access token for a fresh user with "exp" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value                  |
      | 1e300                  |
      | 18446744073709551616   |

  @A55 @critical
  Scenario Outline: An "exp" of <value> is rejected, as expired or as malformed
    The contract leaves open whether a non-positive NumericDate is expired or malformed; it is
    never accepted.
    Given an ES256 access token for a fresh user with "exp" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

    Examples:
      | value |
      | 0     |
      | -1    |

  @A30 @critical
  Scenario: A token that is not valid yet ("nbf" beyond the leeway) is unauthenticated, not expired
    Given an ES256 access token for a fresh user with "nbf" set to now plus the leeway plus 600 seconds
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A30 @critical
  Scenario Outline: A token whose "nbf" is <value> is unauthenticated
    Given an ES256 access token for a fresh user with "nbf" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value          |
      | "99999999999"  |
      | {}             |

  @A30 @low @strict
  Scenario Outline: A token whose "nbf" is <value> is unauthenticated (strict: PyJWT and python-jose coerce NumericDate with int())
    Only the issuer's key can sign such a token, and coerced to 0 or 1 it names a moment long
    past: nothing is forged or opened early, so this is a hardening reading.
    Given an ES256 access token for a fresh user with "nbf" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value          |
      | "0"            |
      | true           |

  @A54 @medium
  Scenario: A token whose "nbf" is within the leeway is accepted
    Given an ES256 access token for a fresh user with "nbf" set to now plus the leeway minus 5 seconds
    When I call the protected route with it
    Then the request is accepted

  @A54 @medium
  Scenario: A token with "nbf" in the past is accepted
    Given an ES256 access token for a fresh user with "nbf" set to now minus 60 seconds
    When I call the protected route with it
    Then the request is accepted

  @A54 @medium
  Scenario: A token that expired less than the leeway ago (or expires soon) is accepted
    Given an ES256 access token for a fresh user with "exp" set to now minus the leeway plus 15 seconds
    When I call the protected route with it
    Then the request is accepted

  @A56 @low @strict
  Scenario: A token issued in the future beyond the leeway is unauthenticated (strict: attacks.md A56 calls it policy)
    The Xentropy acceptance rule rejects an "iat" later than now plus the leeway; verifiers that
    never read "iat" accept it.
    Given an ES256 access token for a fresh user with "iat" set to now plus the leeway plus 600 seconds
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A56 @low @strict
  Scenario Outline: A token whose "iat" is <value> is unauthenticated (strict: not every verifier reads iat)
    Given an ES256 access token for a fresh user with "iat" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value        |
      | "1700000000" |
      | {}           |

  @A32 @critical
  Scenario Outline: A token from another issuer is unauthenticated (iss <value>)
    "iss" is compared exactly (case-sensitive, no normalisation) with <SUPABASE_URL>/auth/v1.
    Given an ES256 access token for a fresh user with "iss" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value                                        |
      | "https://abcdefghijklmnopqrst.supabase.co/auth/v1" |
      | "supabase"                                   |
      | "supabase-demo"                              |
      | the issuer with a trailing slash             |
      | the issuer with the other scheme             |
      | the issuer in upper case                     |
      | the issuer without its path                  |
      | ""                                           |
      | absent                                       |
      | null                                         |

  @A57 @low @strict
  Scenario: A token whose "iss" is an array holding the issuer is unauthenticated (strict: some libraries accept an issuer list)
    "iss" is a StringOrURI (RFC 7519 §4.1.1), not an array.
    Given an ES256 access token for a fresh user with "iss" set to an array holding the issuer
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A31 @critical
  Scenario Outline: A token for another audience is unauthenticated (aud <value>)
    Given an ES256 access token for a fresh user with "aud" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value                |
      | "anon"               |
      | "other"              |
      | "Authenticated"      |
      | ""                   |
      | []                   |
      | ["other"]            |
      | absent               |
      | null                 |
      | 1                    |

  @A31 @medium
  Scenario: A token whose audience list contains "authenticated" is accepted
    Given an ES256 access token for a fresh user with "aud" set to ["other","authenticated"]
    When I call the protected route with it
    Then the request is accepted

  @A11 @critical @needs-hs256
  Scenario Outline: A legacy HS256 token gets the same claim checks ("<claim>" set to <value>)
    The legacy secret only replaces the key: "iss", "aud", "exp", "nbf" and "sub" are checked
    exactly as for ES256 and RS256 tokens.
    Given an HS256 access token for a fresh user with "<claim>" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | claim | value                                              |
      | iss   | absent                                             |
      | iss   | "https://abcdefghijklmnopqrst.supabase.co/auth/v1" |
      | aud   | "anon"                                             |
      | aud   | absent                                             |
      | exp   | absent                                             |
      | nbf   | now plus the leeway plus 600 seconds               |
      | sub   | absent                                             |

  @A57 @critical
  Scenario Outline: A token whose "sub" is <value> is unauthenticated
    A Supabase access token always names its user in "sub" (a non-empty string), RFC 9068 §2.2
    requires "sub" in JWT access tokens, and the contract keys rate limits and permissions on
    it. A genuinely signed token without one is not a user's access token: the project's anon
    API key is exactly such a token (HS256, role anon, no sub), public by design.
    Given an ES256 access token for a fresh user with "sub" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value  |
      | absent |
      | 12345  |
      | null   |
      | true   |
      | ["x"]  |

  @A57 @low @strict
  Scenario: A token whose "sub" is the empty string is unauthenticated (strict: libraries check presence and type, not emptiness)
    Only the issuer's key can sign such a token and GoTrue never issues one; jose's requiredClaims,
    PyJWT's require and jsonwebtoken's required_spec_claims all accept "" as present, so refusing
    it is a hardening reading.
    Given an ES256 access token for a fresh user with "sub" set to ""
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A58 @medium
  Scenario: Explicit typing: typ "JWT", as GoTrue sets it, is accepted
    Given an ES256 access token for a fresh user with header member "typ" set to "JWT"
    When I call the protected route with it
    Then the request is accepted

  @A58 @low @strict
  Scenario Outline: Explicit typing: typ <value> is accepted (strict: typ is policy)
    Given an ES256 access token for a fresh user with header member "typ" set to <value>
    When I call the protected route with it
    Then the request is accepted

    Examples:
      | value  |
      | "jwt"  |
      | absent |

  @A58 @low @strict
  Scenario Outline: Explicit typing: typ <value> is unauthenticated (strict: typ is policy)
    Given an ES256 access token for a fresh user with header member "typ" set to <value>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | value           |
      | "at+jwt"        |
      | "dpop+jwt"      |
      | "secevent+jwt"  |
      | "JWE"           |

  @A59 @low @strict
  Scenario: A nested JWT (cty "JWT") is unauthenticated (strict: RFC 7519 §7.2 step 8; not every verifier reads cty)
    Given an ES256 access token for a fresh user with header member "cty" set to "JWT"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A38 @critical
  Scenario Outline: A critical header extension that is not understood is unauthenticated (<case>)
    RFC 7515 §4.1.11: a recipient that does not understand a "crit" extension must reject the
    token; "crit" must not be empty. An implementation of this contract understands none.
    Given an ES256 access token for a fresh user with header members:
      | crit   | <crit>  |
      | <name> | <value> |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | case                  | crit          | name      | value |
      | unknown extension     | ["x-unknown"] | x-unknown | true  |
      | empty list            | []            | x-other   | 1     |
      | unencoded payload     | ["b64"]       | b64       | false |
      | listed but absent     | ["x-absent"]  | x-other   | 1     |
      | not a list            | "x-unknown"   | x-unknown | true  |
