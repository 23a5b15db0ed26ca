@encoding
Feature: Compact serialization, base64url and JSON
  A bearer token is a JWS in compact serialization: exactly three base64url segments (RFC 7515
  §2: URL-safe alphabet, no padding, no whitespace, canonical) holding a JSON object header and
  a JSON object payload. Anything else is 401 UNAUTHENTICATED, fast and without a 5xx, even when
  the signature over the literal bytes is genuine.

  @A36 @P0
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

  @A37 @P0
  Scenario Outline: A JWS in JSON serialization is unauthenticated (<form>)
    Given a valid ES256 access token for a fresh user
    And that token rewritten as "<json>"
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | form      | json                                                                          |
      | flattened | {"payload":"{payload}","protected":"{header}","signature":"{signature}"}      |
      | general   | {"payload":"{payload}","signatures":[{"protected":"{header}","signature":"{signature}"}]} |

  @A46 @P1
  Scenario Outline: A genuine signature in non-strict base64url is unauthenticated (<change>)
    A lenient decoder would read the very same signature bytes; a strict one refuses the text.
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

  @A46 @P1
  Scenario Outline: A token whose <segment> segment is not strict base64url is unauthenticated (<change>)
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

  @A46 @P1
  Scenario Outline: An HS256 token whose MAC covers non-strict base64url is unauthenticated (<change>)
    The MAC is computed over the literal (non-strict) text with the legacy secret, so only the
    encoding rule can reject it.
    Given a valid HS256 access token for a fresh user
    And that token with its payload segment <change>, re-signed with the legacy secret
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | change                          |
      | padded with "="                 |
      | in the standard base64 alphabet |
      | with non-canonical final bits   |

  @A47 @P1
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

  @A47 @P1
  Scenario Outline: A genuinely signed token whose <part> JSON is <change> is unauthenticated
    The object itself is the valid one; only the bytes around it are wrong.
    Given an ES256 access token for a fresh user whose <part> JSON is <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | part    | change                          |
      | payload | followed by "x"                 |
      | payload | followed by "{}"                |
      | payload | preceded by a byte order mark   |
      | payload | encoded as UTF-16               |
      | header  | followed by "x"                 |
      | header  | preceded by a byte order mark   |
      | header  | encoded as UTF-16               |

  @A47 @P1
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

  @A48 @P1
  Scenario: A header naming alg twice, "none" last, is unauthenticated
    Reject duplicates (preferred) or take the last one (minimum): either way this is refused.
    Given an ES256 access token for a fresh user with header members:
      | alg | "ES256" |
      | alg | "none"  |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A48 @P1 @strict
  Scenario: A header naming alg twice, "ES256" last, is unauthenticated (strict: last-wins would accept it)
    Given an ES256 access token for a fresh user with header members:
      | alg | "none"  |
      | alg | "ES256" |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A48 @P1
  Scenario: A payload naming exp twice, the past one last, is never accepted
    Given an ES256 access token for a fresh user with claims:
      | exp | now plus 3600 seconds                 |
      | exp | now minus the leeway minus 600 seconds |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED or 401 TOKEN_EXPIRED

  @A48 @P1
  Scenario: A payload naming exp twice, the future one last, is never called expired
    Given an ES256 access token for a fresh user with claims:
      | exp | now minus the leeway minus 600 seconds |
      | exp | now plus 3600 seconds                 |
    When I call the protected route with it
    Then the request is accepted or the response is 401 UNAUTHENTICATED

  @A48 @P1 @strict
  Scenario: A payload naming sub twice is unauthenticated (strict: last-wins is allowed)
    Given an ES256 access token for a fresh user with claims:
      | sub | "00000000-0000-4000-8000-000000000001" |
      | sub | "00000000-0000-4000-8000-000000000002" |
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A49 @P1
  Scenario Outline: An oversized bearer token is refused fast (<case>)
    Given a token made of <count> "<char>" characters
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large
    And a valid ES256 access token for a fresh user is still accepted

    Examples:
      | case                  | count  | char |
      | 64 KiB of letters     | 65536  | a    |
      | period flood          | 100000 | .    |

  @A49 @P1
  Scenario: A 64 KiB token that looks like a JWS is refused fast
    An HTTP layer may refuse it first with 400, 413 or 431, or close the connection.
    Given a valid ES256 access token for a fresh user
    And that token with 65536 "A" characters appended to its payload segment
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large

  @A49 @P1
  Scenario: A 1 MiB Authorization header is refused without harm
    An HTTP layer may also refuse it with 400, 413 or 431, or close the connection.
    Given a token made of 1048576 "a" characters
    When I call the protected route with it
    Then the request is refused as unauthenticated or too large
    And a valid ES256 access token for a fresh user is still accepted

  @A50 @P1
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
