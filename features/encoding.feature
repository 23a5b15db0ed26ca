@encoding
Feature: Compact serialization, base64url and JSON
  A bearer token is a JWS in compact serialization: exactly three base64url segments (RFC 7515
  §2: URL-safe alphabet, no padding, no whitespace, canonical) holding a JSON object header and
  a JSON object payload. Anything else is 401 UNAUTHENTICATED, fast and without a 5xx. Where the
  issuer itself signed the lenient bytes (padding, non-canonical bits, a byte order mark,
  UTF-16), nothing is forged and correct libraries differ: those readings are @strict.

  @A36 @critical
  Scenario Outline: A token with the wrong number of segments is unauthenticated (<shape>)
    Given a valid ES256 access token for a fresh user
    And that token rewritten as "<shape>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | shape                                   |
      | {header}                                |
      | {header}.{payload}                      |
      | {header}.{payload}.                     |
      | {header}.{payload}.{signature}.         |
      | {header}.{payload}.{signature}.{signature} |
      | .{payload}.{signature}                  |
      | {header}..{signature}                   |
      | ..                                      |
      | ...                                     |
      | {header}{payload}{signature}            |
      | {header}.{payload}{signature}           |
      | .{header}.{payload}.{signature}         |
      | {header}.{payload}..{signature}         |

  @A37 @critical
  Scenario Outline: A JWS in JSON serialization is unauthenticated (<form>)
    Given a valid ES256 access token for a fresh user
    And that token rewritten as "<json>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | form      | json                                                                          |
      | flattened | {"payload":"{payload}","protected":"{header}","signature":"{signature}"}      |
      | general   | {"payload":"{payload}","signatures":[{"protected":"{header}","signature":"{signature}"}]} |

  @A46 @low @strict
  Scenario Outline: A genuine signature in non-strict base64url is unauthenticated (<change>) (strict: nothing is forged)
    A lenient decoder reads the very same signature bytes the issuer produced; a strict one
    refuses the text. Nothing is forged and no claim changes, so this is a hardening reading
    (RFC 7515 §2 forbids it, and jose, PyJWT and jsonwebtoken each accept some rows). An API that
    keeps a deny-list or a cache keyed on the raw token text must canonicalise it first; that is
    a concern of its own, not of this scenario.
    Given a valid ES256 access token for a fresh user
    And that token with its signature segment <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | change                           |
      | padded with "="                  |
      | in the standard base64 alphabet  |
      | with non-canonical final bits    |
      | with a space inserted            |
      | with "?" inserted                |
      | with a tab inserted              |

  @A46 @critical
  Scenario Outline: A token whose <segment> segment is not strict base64url is unauthenticated (<change>)
    The signature was made over the original, strict text of these segments and is kept as it
    was. A verifier that accepts these checked the signature against bytes other than the ones
    the token carries (it decoded leniently and re-encoded): a signature that does not cover
    what is presented is a forgery, whatever the claims decode to.
    Given a valid ES256 access token for a fresh user
    And that token with its <segment> segment <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | segment | change                      |
      | header  | padded with "="             |
      | payload | padded with "="             |
      | payload | with "?" inserted           |
      | payload | with a space inserted       |
      | header  | with "%" inserted           |
      | payload | in the standard base64 alphabet |

  @A46 @low @strict
  Scenario Outline: An HS256 token whose MAC covers non-strict base64url is unauthenticated (<change>) (strict: the secret's holder made it)
    The MAC is computed over the literal (non-strict) text with the legacy secret, so only the
    encoding rule can reject it. Only a holder of the secret can make such a token, so nothing
    is forged: a hardening reading.
    Given a valid HS256 access token for a fresh user
    And that token with its payload segment <change>, re-signed with the legacy secret
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | change                          |
      | padded with "="                 |
      | in the standard base64 alphabet |
      | with non-canonical final bits   |

  @A47 @medium
  Scenario Outline: A genuinely signed token whose payload is not a JSON object is unauthenticated (<case>)
    Given an ES256 access token for a fresh user with the raw payload <payload>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | case                 | payload                       |
      | array                | "[]"                          |
      | string               | "\\"claims\\""                  |
      | number               | "1"                           |
      | null                 | "null"                        |
      | empty                | ""                            |
      | invalid JSON         | "{\\"sub\\":"                   |
      | single quotes        | "{'sub':'x'}"                 |

  @A47 @medium
  Scenario Outline: A genuinely signed token whose <part> JSON is <change> is unauthenticated
    The object itself is the valid one; only the bytes around it are wrong. Trailing bytes make
    two readings of one token possible (a parser that stops at the first object, one that reads
    the last), and every mainstream JSON parser refuses them.
    Given an ES256 access token for a fresh user whose <part> JSON is <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | part    | change                          |
      | payload | followed by "x"                 |
      | payload | followed by "{}"                |
      | header  | followed by "x"                 |

  @A47 @low @strict
  Scenario Outline: A genuinely signed token whose <part> JSON is <change> is unauthenticated (strict: the issuer signed it)
    RFC 7519 asks for UTF-8 JSON without a byte order mark, but the issuer signed these bytes and
    they decode to the valid object: nothing is forged. PyJWT (Python's json decodes UTF-16 and
    skips a BOM) and others accept them, so this is a hardening reading.
    Given an ES256 access token for a fresh user whose <part> JSON is <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | part    | change                          |
      | payload | preceded by a byte order mark   |
      | payload | encoded as UTF-16               |
      | header  | preceded by a byte order mark   |
      | header  | encoded as UTF-16               |

  @A47 @medium
  Scenario Outline: A genuinely signed token whose header is not a JSON object is unauthenticated (<case>)
    Given an ES256 access token for a fresh user with the raw header <header>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | case          | header         |
      | array         | "[\\"ES256\\"]"  |
      | string        | "\\"ES256\\""    |
      | null          | "null"         |
      | empty object  | "{}"           |
      | invalid JSON  | "{\\"alg\\":"    |

  @A48 @critical
  Scenario: A header naming alg twice, "none" last, is unauthenticated
    Reject duplicates (preferred) or take the last one (minimum): either way this is refused.
    Given an ES256 access token for a fresh user with header members:
      | alg | "ES256" |
      | alg | "none"  |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A48 @low @strict
  Scenario: A header naming alg twice, "ES256" last, is unauthenticated (strict: last-wins would accept it)
    Given an ES256 access token for a fresh user with header members:
      | alg | "none"  |
      | alg | "ES256" |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A48 @medium
  Scenario: A payload naming exp twice, the past one last, is never accepted
    Given an ES256 access token for a fresh user with claims:
      | exp | now plus 3600 seconds                 |
      | exp | now minus the leeway minus 600 seconds |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

  @A48 @medium
  Scenario: A payload naming exp twice, the future one last, is never called expired
    Given an ES256 access token for a fresh user with claims:
      | exp | now minus the leeway minus 600 seconds |
      | exp | now plus 3600 seconds                 |
    When I call the protected route with it
    Then the request is accepted or the response is 401 UNAUTHENTICATED

  @A48 @low @strict
  Scenario: A payload naming sub twice is unauthenticated (strict: last-wins is allowed)
    Given an ES256 access token for a fresh user with claims:
      | sub | "00000000-0000-4000-8000-000000000001" |
      | sub | "00000000-0000-4000-8000-000000000002" |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A49 @high
  Scenario Outline: An oversized bearer token is refused fast (<case>)
    Given a token made of <count> "<char>" characters
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large
    And a valid ES256 access token for a fresh user is still accepted

    Examples:
      | case                  | count  | char |
      | 64 KiB of letters     | 65536  | a    |
      | period flood          | 100000 | .    |

  @A49 @high
  Scenario: A 64 KiB token that looks like a JWS is refused fast
    An HTTP layer may refuse it first with 400, 413 or 431, or close the connection.
    Given a valid ES256 access token for a fresh user
    And that token with 65536 "A" characters appended to its payload segment
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large

  @A49 @high
  Scenario: A 1 MiB Authorization header is refused without harm
    An HTTP layer may also refuse it with 400, 413 or 431, or close the connection.
    Given a token made of 1048576 "a" characters
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large
    And a valid ES256 access token for a fresh user is still accepted

  @A50 @high
  Scenario Outline: A genuinely signed token with <case> does not break the service
    Whether such a token is accepted is left to the implementation (size and depth limits are
    policy); a server error or a crash is not.
    Given an ES256 access token for a fresh user with "xauth_pad" set to <value>
    When I call the protected route with it
    Then the response is not a server error
    And a valid ES256 access token for a fresh user is still accepted

    Examples:
      | case                      | value                              |
      | 10000 nested arrays       | an array nested 10000 deep         |
      | a 60 KB claim value       | a string of 60000 "x" characters   |
