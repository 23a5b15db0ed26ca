@errors
Feature: Error responses
  Every refusal uses the error envelope: the code sits at the profile's JSON pointer (default
  /error/code in {"error":{"code":"…","message":"…"}}). 401 answers carry an RFC 6750
  "WWW-Authenticate: Bearer" challenge when the profile requires RFC 6750 headers, and no input
  produces a 5xx. The contract fixes the status and the code, not the message: Supabase's own
  services answer with cause-specific messages. An error object identical across causes, and a
  message that never echoes what the token carried, are hardening (they deny an attacker an
  oracle and a reflection sink), so those scenarios are @strict.

  @A51 @low @strict
  Scenario: Different invalid-token causes get identical 401 bodies (strict: the contract fixes the code, not the message)
    Given a valid ES256 access token for a fresh user
    And that token with its signature's last byte flipped
    When I call the protected route with it
    Given a valid ES256 access token for a fresh user
    And that token with its header replaced by {"alg":"none","typ":"JWT"} and an empty signature
    When I call the protected route with it
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the issuer's ES256 public key as SPKI PEM
    When I call the protected route with it
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the secret "" and the kid "../../../../../../dev/null"
    When I call the protected route with it
    Given a token signed by an attacker ES256 key with the kid of the issuer's ES256 key
    When I call the protected route with it
    Given an ES256 access token for a fresh user with the raw payload "[]"
    When I call the protected route with it
    Given an ES256 access token for a fresh user with "aud" set to "anon"
    When I call the protected route with it
    When I call the protected route with the Authorization header "Bearer garbage"
    Then all responses so far are 401 UNAUTHENTICATED with the same error object

  @A51 @low @strict
  Scenario Outline: Injected markers are not echoed back (<where>) (strict: the message is free text)
    Given a valid ES256 access token for a fresh user
    And that token with the marker injected into <where>, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
    And the response does not echo the marker

    Examples:
      | where                 |
      | its "sub" claim       |
      | its "email" claim     |
      | its "role" claim      |
      | its "kid" header      |
      | its "alg" header      |

  @A51 @low @strict
  Scenario: A garbage bearer value is not echoed back (strict: the message is free text)
    When I call the protected route with the marker as bearer token
    Then the response is 401 UNAUTHENTICATED
    And the response does not echo the marker

  @A01 @low @needs-rfc6750
  Scenario Outline: A 401 for <case> carries the Bearer challenge when RFC 6750 headers are required
    Given a valid ES256 access token for a fresh user
    And that token with <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
    And the response has a WWW-Authenticate Bearer challenge if the profile requires RFC 6750 headers

    Examples:
      | case              | change                            |
      | a bad signature   | its signature's last byte flipped |
      | a missing payload | its payload segment removed       |

  @A25 @low @needs-rfc6750
  Scenario: A TOKEN_EXPIRED answer carries the Bearer challenge when RFC 6750 headers are required
    Given an expired ES256 access token for a fresh user
    When I call the protected route with it
    Then the response is 401 TOKEN_EXPIRED
    And the response has a WWW-Authenticate Bearer challenge if the profile requires RFC 6750 headers

  @A17 @critical
  Scenario Outline: A hostile kid is unauthenticated, not a server error (<kid>)
    Each is HS256-signed with the key a vulnerable kid lookup would produce.
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the secret "<secret>" and the kid <kid>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | kid                                 | secret |
      | ""                                  |        |
      | "../../../../../../dev/null"        |        |
      | "/dev/null"                         |        |
      | "/invalid_path"                     |        |
      | "x' UNION SELECT '1';--"            | 1      |
      | "\|sleep 10"                        |        |
      | "$(sleep 10)"                       |        |
      | 1                                   |        |
      | {"kid":"x"}                         |        |
      | ["x"]                               |        |
      | null                                |        |
      | true                                |        |
      | "with\\u0000nul"                     |        |
      | a string of 4096 "k" characters     |        |

  @A52 @critical
  Scenario Outline: Header member <member> set to <value>, signature kept, is unauthenticated and fetches nothing
    Given the attacker listener serves the attacker's JWKS
    And a valid ES256 access token for a fresh user
    And that token with its header member "<member>" changed to <value>, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
    And the attacker listener received no request

    Examples:
      | member | value                     |
      | alg    | null                      |
      | alg    | true                      |
      | alg    | 0                         |
      | alg    | "jwt_tool"                |
      | kid    | null                      |
      | kid    | false                     |
      | kid    | 0                         |
      | kid    | "jwt_tool"                |
      | kid    | the attacker listener URL |
      | typ    | null                      |
      | typ    | 0                         |
      | jku    | the attacker listener URL |
      | x5u    | the attacker listener URL |
      | jwk    | the attacker listener URL |

  @A52 @critical
  Scenario Outline: Claim <claim> set to <value>, signature kept, is unauthenticated and fetches nothing
    Given the attacker listener serves the attacker's JWKS
    And a valid ES256 access token for a fresh user
    And that token with its claim "<claim>" changed to <value>, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED
    And the attacker listener received no request

    Examples:
      | claim | value                     |
      | iss   | the attacker listener URL |
      | iss   | null                      |
      | aud   | true                      |
      | aud   | the attacker listener URL |
      | sub   | 0                         |
      | exp   | null                      |
      | exp   | "jwt_tool"                |
      | role  | false                     |
      | jku   | the attacker listener URL |
