@pat @needs-pat
Feature: Personal access tokens: created with a session, scoped, revocable, bounded by their owner
  The contract announces Personal Access Tokens: custom TTL, long-lived API access for MCP
  servers, CI/CD, integrations and tools, managed from the account settings. They arrive on the
  same Authorization: Bearer header as Supabase JWTs. The profile's [pat] section declares how
  they are managed (create, list, revoke, rotate: method, path, body template, where the answer
  carries the token and its id), their prefix, the scopes that grant the protected and the
  permission route, the lifetime bounds, how long a revocation or an owner's deletion may take
  to apply, and the code of an expired PAT's 401.
  What every scenario here holds an implementation to, and why (attacks.md, pats-mcp.md):
  - A PAT is told from a JWT by its prefix, never by its shape or length (GitLab dropped
    length-guessing); a string that is neither a live PAT nor a valid JWT is 401.
  - Revocation and rotation apply at once (or within the declared propagation), on every
    replica: a revoked token that keeps working behind a cache is a revoked credential
    accepted.
  - A PAT never grants more than its owner may do at the time of use (GitHub: "a token cannot
    grant additional access capabilities to a user"; Supabase scoped PATs "only ever narrow
    what your account can already do"), and dies with its owner.
  - The secret is shown once, at creation; the list shows at most its prefix and last
    characters. A PAT in a URL ends up in every proxy's and browser's log: never accepted.
  - Management needs a user's session: a leaked PAT must not mint its own successors.
  - The rate limit is the owner's, across all their tokens, so minting tokens buys no budget.
  Owners are created through the issuer's admin API (fields from pat.privileged_owner when the
  scenario needs an owner who may use the permission route) and sign in with the password grant
  at the issuer: their session JWT is the issuer's own. Scenarios that change a token's state
  check every replica of the run (--replica, --spawn-replicas).

  @A64 @critical
  Scenario: A PAT created with a session works on the protected route, on every replica
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When I call the protected route with it
    Then the request is accepted
    And the PAT is accepted on the protected route of every replica

  @A64 @critical
  Scenario: A revoked PAT is refused from the next request on, on every replica
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    And the PAT is accepted on the protected route of every replica
    When the user revokes the PAT
    Then the PAT is refused on every replica within the declared revocation propagation

  @A64 @critical @needs-pat-rotation
  Scenario: Rotation returns a new PAT that works, and the old one is refused at once, on every replica
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    And the PAT is accepted on the protected route of every replica
    When the user rotates the PAT
    Then the PAT is accepted on the protected route of every replica
    And the previous PAT is refused on every replica within the declared revocation propagation

  @A65 @high
  Scenario: The list of PATs never shows a secret, only what identifies a token
    A list answer that carries secrets turns every session (and every XSS on the settings page)
    into a theft of the user's long-lived credentials.
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    And the user created another PAT with the protected scope
    When the user lists their PATs
    Then the list answer names both PATs and contains neither secret

  @A66 @critical
  Scenario Outline: A PAT-prefixed string that was never issued is refused: <variant>
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When the token is the PAT with <variant>
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | variant                             |
      | a random secret of the same length  |
      | its secret cut in half              |
      | its prefix alone                    |

  @A66 @medium
  Scenario Outline: A live PAT altered in any character is refused: <variant>
    A PAT is compared whole. The issue's contract refuses a bad checksum, a truncated token and
    a wrong prefix with 401; accepting a live token with another last character shows that its
    checksum is neither verified nor part of what is matched (so every well-shaped string costs
    a database lookup), or that only a part of the token is compared.
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When the token is the PAT with <variant>
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | variant                             |
      | its last character changed          |
      | its last character cut off          |
      | one character added                 |
      | its prefix in upper case            |

  @A66 @high
  Scenario Outline: Malformed PAT-prefixed strings never cause a server error: <variant>
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When the token is the PAT with <variant>
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | variant                             |
      | 4000 more random characters         |
      | a NUL byte percent-encoded after it |
      | non-ASCII characters after it       |
      | a dot and a base64url segment       |

  @A67 @critical @needs-pat-short-ttl @timeout(2m)
  Scenario: A PAT is accepted until it expires, and never after
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope that lives the shortest declared lifetime
    When I call the protected route with it
    Then the request is accepted
    And after its lifetime has passed the PAT is refused on the protected route

  @A67 @medium @needs-pat-short-ttl @timeout(2m)
  Scenario: An expired PAT gets 401 with the declared expired-PAT code, not TOKEN_EXPIRED
    TOKEN_EXPIRED tells a client to refresh its session; a PAT has no refresh, so a client that
    obeys it loops. The code is the implementation's to choose and declare (pat.expired_code).
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope that lives the shortest declared lifetime
    When its lifetime has passed
    And I call the protected route with it
    Then the response is 401 with the declared expired-PAT code

  @A67 @medium
  Scenario: A PAT cannot be created to live longer than the declared maximum
    Given a user with a session at the issuer
    When the user asks for a PAT with the protected scope living one day longer than the declared maximum
    Then the management call is refused with 400

  @A68 @critical
  Scenario: A PAT is refused on a route its scopes do not grant, even when its owner may use it
    Given a privileged user with a session at the issuer
    And the user created a PAT with the protected scope
    When I call the permission route with it
    Then the request is not accepted

  @A68 @medium
  Scenario: A PAT on a route its scopes do not grant gets 403 FORBIDDEN
    Given a privileged user with a session at the issuer
    And the user created a PAT with the protected scope
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A68 @medium
  Scenario: A PAT works on a route its scopes grant when its owner may use that route
    Given a privileged user with a session at the issuer
    And the user created a PAT with the permission scope
    When I call the permission route with it
    Then the request is accepted

  @A68 @critical
  Scenario: A PAT never grants more than its owner: a plain user's PAT with the permission scope is refused there, or never created
    Given a user with a session at the issuer
    When the user asks for a PAT with the permission scope
    Then if the PAT was created, it is not accepted on the permission route

  @A68 @critical @timeout(2m)
  Scenario: A PAT stops working once its owner is deleted, within the declared owner check
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    And the PAT is accepted on the protected route of every replica
    When the user is deleted at the issuer
    Then the PAT is refused on every replica within the declared owner check

  @A69 @critical
  Scenario Outline: A PAT cannot manage PATs: <call>
    A leaked PAT that can mint, rotate or list PATs outlives its own revocation.
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When I <call> with the PAT as bearer
    Then the management call is refused with 401 or 403

    Examples:
      | call                       |
      | create a PAT               |
      | list the PATs              |
      | rotate the PAT             |
      | revoke the PAT             |

  @A69 @medium
  Scenario: Managing PATs without a session is refused with 401
    When I create a PAT without credentials
    Then the management call is refused with 401

  @A70 @medium
  Scenario: The PAT prefix followed by the owner's valid session JWT is refused: a PAT-prefixed string is a PAT
    Dispatch on the prefix, never on the shape: an API that strips the prefix and verifies the
    rest as a JWT reads one credential two ways, and a gateway, a log scrubber or a revocation
    check that keys on the prefix is then bypassed (the token is genuine, so this is a contract
    finding, not a forgery).
    Given a user with a session at the issuer
    When the token is the PAT prefix followed by the user's session JWT
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

  @A70 @critical
  Scenario Outline: A PAT inside a JWT is not a PAT, and not a valid JWT: <wrapping>
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When the token is the PAT wrapped as <wrapping>
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | wrapping                                         |
      | the payload of an unsigned JWT                   |
      | the signature of a JWT with the user's claims    |

  @A70 @critical
  Scenario Outline: The project's <which> API key behind the PAT prefix is not a PAT
    When the token is the PAT prefix followed by the issuer's <which> API key
    And I call the protected route with it
    Then the response is 401 UNAUTHENTICATED

    Examples:
      | which        |
      | anon         |
      | service_role |

  @A71 @critical
  Scenario: A PAT in the access_token query parameter is not accepted
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When I call the protected route with it in the access_token query parameter only
    Then the request is not accepted

  @A72 @high @needs-pat-owner-rate-limit @timeout(2m)
  Scenario: The PATs of one owner share the owner's rate limit
    Minting more tokens must not buy more budget (Supabase's Management API: 60 requests a
    minute per user, cumulative across PATs). Right after one token got 429, a burst of the
    declared limit with a new token of the same owner must not be accepted in full; a
    fixed-window limiter whose window rolls over at that moment may accept it once, so the
    check is made up to three times, each with a new token. When the profile declares the limit
    shared across replicas, the new token's burst goes to a replica.
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    When I spend the owner's budget with that PAT, then send the declared limit's worth of requests at once with a new PAT of the same owner
    Then fewer than the declared limit of the new PAT's requests are accepted

  @A73 @low @needs-pat-last-used
  Scenario: The list shows when a PAT was last used
    Given a user with a session at the issuer
    And the user created a PAT with the protected scope
    And the list shows the PAT as never used
    When I call the protected route with it
    Then the request is accepted
    And the list shows the PAT as used since it was created
