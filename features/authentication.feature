@authentication
Feature: Authentication of bearer tokens
  An API protected by Supabase auth accepts exactly the tokens its issuer signed, with one of the
  issuer's published keys (ES256 or RS256, chosen by "kid") or, when the API enables legacy
  mode, the legacy HS256 secret. Every other request to a protected route is answered
  401 with the error code UNAUTHENTICATED in the error envelope, never a 5xx.
  Each scenario uses a fresh user; valid tokens are minted by the fake issuer with its real keys.

  @A03 @medium
  Scenario: An ES256 token signed with the issuer's current key is accepted
    Given a valid ES256 access token for a fresh user
    When I call the protected route with it
    Then the request is accepted

  @A03 @medium
  Scenario: An RS256 token signed with the issuer's published RSA key is accepted
    Given a valid RS256 access token for a fresh user
    When I call the protected route with it
    Then the request is accepted

  @A03 @A11 @medium
  Scenario: An HS256 token signed with the legacy secret is accepted exactly when legacy mode is on
    Given a valid HS256 access token for a fresh user
    When I call the protected route with it
    Then the request is accepted if legacy HS256 is enabled, otherwise the response is 401 UNAUTHENTICATED

  @A01 @critical
  Scenario: A request without credentials is unauthenticated and challenged
    When I call the protected route without credentials
    Then the response is 401 UNAUTHENTICATED
    And the response has a WWW-Authenticate Bearer challenge if the profile requires RFC 6750 headers

  @A02 @critical
  Scenario Outline: An empty or garbage Authorization header is unauthenticated: <header>
    Given a valid ES256 access token for a fresh user
    When I call the protected route with the Authorization header "<header>"
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | header                 |
      | Bearer                 |
      | Bearer{space}          |
      | Bearer{space}{space}   |
      | Bearer null            |
      | Bearer undefined       |
      | Basic dXNlcjpwYXNz     |
      | Token {token}          |
      | Basic {token}          |
      | {token}                |
      | Bearer {token} {token} |
      | Bearer{token}          |

  @A04 @critical
  Scenario Outline: A <alg> token whose signature was altered is unauthenticated (<change>)
    Given a valid <alg> access token for a fresh user
    And that token with <change>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | change                                          |
      | ES256 | its signature's last byte flipped               |
      | ES256 | its signature's first byte flipped              |
      | ES256 | the last 4 characters of its signature removed  |
      | RS256 | its signature's last byte flipped               |
      | RS256 | the last 4 characters of its signature removed  |
      | HS256 | its signature's last byte flipped               |
      | HS256 | the last 4 characters of its signature removed  |

  @A09 @critical
  Scenario Outline: A <alg> token with an empty signature is unauthenticated
    Given a valid <alg> access token for a fresh user
    And that token with an empty signature
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   |
      | ES256 |
      | RS256 |
      | HS256 |

  @A05 @critical
  Scenario Outline: A <alg> token whose payload was changed after signing is unauthenticated (<claim>)
    Given a valid <alg> access token for a fresh user
    And that token with its claim "<claim>" changed to <value>, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | claim        | value                                  |
      | ES256 | sub          | "00000000-0000-4000-8000-000000000001" |
      | ES256 | role         | "service_role"                         |
      | ES256 | exp          | its value plus 1                       |
      | ES256 | is_anonymous | true                                   |
      | RS256 | sub          | "00000000-0000-4000-8000-000000000001" |
      | RS256 | role         | "service_role"                         |
      | RS256 | exp          | its value plus 1                       |
      | HS256 | role         | "service_role"                         |
      | HS256 | exp          | its value plus 1                       |

  @A06 @critical
  Scenario Outline: A <alg> token whose header was changed after signing is unauthenticated (<member>)
    Given a valid <alg> access token for a fresh user
    And that token with its header member "<member>" changed to <value>, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | alg   | member | value                                  |
      | ES256 | kid    | "00000000-0000-4000-8000-00000000dead" |
      | ES256 | typ    | "JOSE"                                 |
      | ES256 | x-new  | "added"                                |
      | RS256 | kid    | "00000000-0000-4000-8000-00000000dead" |
      | RS256 | x-new  | "added"                                |
      | HS256 | typ    | "JOSE"                                 |

  @A06 @A23 @critical
  Scenario: An ES256 token whose kid was switched to the RSA key's kid after signing is unauthenticated
    Given a valid ES256 access token for a fresh user
    And that token with its header member "kid" changed to the kid of the issuer's RS256 key, signature kept
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A12 @critical
  Scenario Outline: An HS256 token signed with the empty secret is unauthenticated (<kid>)
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the secret "" and <kid>
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | kid                               |
      | no kid                            |
      | the kid of the issuer's ES256 key |
      | the kid of the issuer's RS256 key |

  @A13 @critical
  Scenario Outline: An HS256 token signed with a well-known weak secret is unauthenticated ("<secret>")
    Given a valid ES256 access token for a fresh user
    And that token re-signed as HS256 with the secret "<secret>" and no kid
    When I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | secret                                    |
      | secret                                    |
      | your-256-bit-secret                       |
      | your-secret-key                           |
      | password                                  |
      | changeme                                  |
      | supabase                                  |
      | jwt-secret                                |
      | 123456                                    |
      | your-super-secret-jwt-token-with-at-least-32-characters-long |

  @A33 @critical
  Scenario Outline: The project's <which> API key is not a user token
    The anon and service_role API keys are HS256 JWTs signed with the legacy secret, without a
    user, audience or session. They identify the project to the gateway, not a user to the API.
    When I call the protected route with the issuer's <which> API key as bearer
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | which        |
      | anon         |
      | service_role |

  @A33 @critical
  Scenario: The service_role API key does not open the permission-checked route
    When I call the permission route with the issuer's service_role API key as bearer
    Then the response is 401 UNAUTHENTICATED

  @A62 @medium
  Scenario Outline: The Bearer scheme name is case-insensitive (<scheme>)
    RFC 7235 §2.1: the scheme name is case-insensitive. GoTrue answers "token_type":"bearer",
    and clients build the Authorization header from it.
    Given a valid ES256 access token for a fresh user
    When I call the protected route with the Authorization header "<scheme> {token}"
    Then the request is accepted

    Examples:
      | scheme |
      | bearer |
      | BEARER |

  @A62 @low @strict
  Scenario: A token sent only in the access_token query parameter does not authenticate (strict: the contract names the Authorization header only)
    Given a valid ES256 access token for a fresh user
    When I call the protected route with it in the access_token query parameter only
    Then the response is 401 UNAUTHENTICATED
