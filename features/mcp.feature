@mcp @needs-mcp
Feature: An MCP server on Supabase auth: discovery, tokens issued for it, no passthrough
  A remote MCP server (Streamable HTTP, the profile's mcp.path) is an OAuth 2.1 resource server
  (MCP authorization, revisions 2025-06-18 and 2025-11-25). MCP clients find its authorization
  server through RFC 9728 Protected Resource Metadata, named in the 401 challenge
  (WWW-Authenticate: Bearer resource_metadata="…") and served at the well-known URL with the MCP
  path inserted; the metadata's "resource" must be the server's resource identifier exactly
  (RFC 9728 §3.3: clients refuse a mismatch) and it lists the issuer. The server MUST accept only
  tokens issued for it (RFC 8707): with Supabase Auth's OAuth 2.1 server that is either the
  Supabase way (aud "authenticated" and a client_id on an allow-list, mcp.audience_mode =
  "supabase") or the MCP way (aud = the resource identifier, set by a Custom Access Token Hook,
  mcp.audience_mode = "resource"). An ID token is for the client, never an access token. Tokens
  are never read from the query string, never passed through to an upstream API (the server
  uses its own credential there: the suite's canary upstream, MCP_UPSTREAM_URL, must never see
  the client's token), and a request from a foreign Origin is refused (DNS rebinding).
  Every request here is a JSON-RPC initialize POST, so the token is judged before any MCP work.
  Tokens are minted by the issuer with the claims its OAuth server gives an MCP client's access
  token (client_id, aud), signed with its current ES256 key.

  @A74 @critical
  Scenario: The MCP endpoint refuses a request without credentials
    When I call the MCP endpoint without credentials
    Then the MCP answer is 401

  @A74 @medium
  Scenario: The protected resource metadata is discoverable, and names this resource and the issuer
    MCP 2025-11-25: a server MUST offer one of two discovery mechanisms, the resource_metadata
    parameter of the 401 challenge or the RFC 9728 well-known URL with the MCP path inserted;
    clients try the challenge first. A metadata "resource" that is not the server's identifier
    makes every conforming client stop.
    When I discover the protected resource metadata from the 401 challenge, or else at the well-known URL of the MCP path
    Then the metadata names this resource exactly and the issuer among its authorization servers

  @A74 @low @strict
  Scenario: Strict: the 401 challenge names the protected resource metadata, which names this resource and the issuer
    MCP 2025-06-18 made the challenge a MUST; 2025-11-25 accepts the well-known URL instead.
    When I call the MCP endpoint without credentials
    Then the 401 challenge names the protected resource metadata
    When I fetch the protected resource metadata it names
    Then the metadata names this resource exactly and the issuer among its authorization servers

  @A74 @low @strict
  Scenario: Strict: the protected resource metadata is served at the well-known URL with the MCP path inserted
    RFC 9728 §3 publishes metadata there; MCP 2025-11-25 accepts the challenge instead.
    When I fetch the protected resource metadata at the well-known URL of the MCP path
    Then the metadata names this resource exactly and the issuer among its authorization servers

  @A74 @low @strict
  Scenario: Strict: the protected resource metadata is also served at the root well-known URL
    Clients that do not read the challenge try the root form too (MCP 2025-11-25); RFC 9728
    places the metadata of a resource with a path at the path-inserted URL, so the root form
    is a courtesy.
    When I fetch the protected resource metadata at the root well-known URL
    Then the metadata names this resource exactly and the issuer among its authorization servers

  @A74 @medium
  Scenario: The issuer the metadata lists serves authorization server metadata with PKCE S256
    When I fetch the authorization server metadata of the issuer it lists
    Then it names the issuer and advertises PKCE with S256

  @A75 @medium
  Scenario: A token issued for this server opens the MCP endpoint and its tools
    Given a valid MCP access token for a fresh user
    When I call the MCP endpoint with it
    Then the MCP request is accepted
    When I call the declared harmless tool with it
    Then the tool answered with a result

  @A75 @critical
  Scenario Outline: A token not issued for this server is refused: <token>
    Given an MCP access token for a fresh user <token>
    When I call the MCP endpoint with it
    Then the MCP answer is 401

    Examples:
      | token                    |
      | for another resource     |
      | without an audience      |

  @A75 @critical @needs-mcp-supabase-audience
  Scenario Outline: Supabase audience mode: a token of a client that is not allowed is refused: <token>
    aud "authenticated" is every Supabase session's audience; only the client_id tells an MCP
    client's token from any other session token, so the allow-list is the audience check.
    Given an MCP access token for a fresh user <token>
    When I call the MCP endpoint with it
    Then the MCP answer is 401

    Examples:
      | token                              |
      | from a client that is not allowed  |
      | without a client_id                |

  @A75 @critical @needs-mcp-resource-audience
  Scenario: Resource audience mode: a Supabase session token (aud "authenticated") is refused
    Given an MCP access token for a fresh user with the audience "authenticated"
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A75 @medium @needs-mcp-resource-audience
  Scenario: Resource audience mode: a token whose audience is this resource opens the MCP endpoint
    Given an MCP access token for a fresh user with the audience of the resource
    When I call the MCP endpoint with it
    Then the MCP request is accepted

  @A76 @critical
  Scenario: An ID token issued to an allowed client is not an access token
    Given an ID token for a fresh user, issued to an allowed MCP client
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A25 @critical
  Scenario: An expired MCP access token is refused
    Given an expired MCP access token for a fresh user
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A04 @critical
  Scenario: An MCP access token with a broken signature is refused
    Given a valid MCP access token for a fresh user
    And that token with its signature's last byte flipped
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A07 @critical
  Scenario: An unsigned MCP access token (alg none) is refused
    Given a valid MCP access token for a fresh user
    And that token with its header replaced by {"alg":"none","typ":"JWT"} and an empty signature
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A10 @critical
  Scenario: An MCP access token re-signed as HS256 with the issuer's public key is refused
    Given a valid MCP access token for a fresh user
    And that token re-signed as HS256 with the issuer's ES256 public key as SPKI PEM
    When I call the MCP endpoint with it
    Then the MCP answer is 401

  @A40 @high @serial @timeout(5m)
  Scenario: After a key rotation, MCP access tokens signed by the new key are accepted within two declared cooldowns
    An MCP endpoint may verify with a JWKS cache of its own (a second audience, a second
    verifier); it must follow the issuer's rotation like the rest of the API.
    Given the issuer's JWKS serves normally and its clock is not offset
    And the issuer rotates to a new ES256 key
    When I call the MCP endpoint with valid MCP access tokens signed by the new key until one is accepted
    Then an MCP access token signed by the new key was accepted within two declared cooldowns plus the margin

  @A53 @high @needs-rate-limit @needs-loopback @timeout(3m)
  Scenario: A burst on the MCP endpoint gets 429 RATE_LIMITED: the API's limits guard it too
    Given a valid MCP access token for a fresh user
    When I send it to the MCP endpoint in a concurrent burst of 3 times the declared limit plus 10
    Then some requests of the MCP burst were answered 429 RATE_LIMITED and every other one was accepted

  @A78 @critical
  Scenario: An MCP access token in the access_token query parameter is not accepted
    Given a valid MCP access token for a fresh user
    When I call the MCP endpoint with it in the access_token query parameter only
    Then the MCP request is not accepted

  @A79 @low @strict
  Scenario: Strict: a request from a web page of another origin is refused with 403
    MCP Streamable HTTP: servers MUST validate the Origin header and answer 403 to an invalid
    one, or a web page can reach a local MCP server through DNS rebinding. Strict, not
    default: the request also needs a valid bearer token, which a rebinding page does not
    have, and the official TypeScript SDK's server leaves the check off by default.
    Given a valid MCP access token for a fresh user
    When I call the MCP endpoint with it from a web page of another origin
    Then the MCP answer is 403

  @A77 @critical @needs-mcp-upstream
  Scenario: The client's token is never passed through to an upstream API
    MCP authorization: a server MUST NOT pass the client's token to upstream APIs (the
    confused-deputy problem); upstream it acts with its own credential.
    Given a valid MCP access token for a fresh user
    When I call the tool that reaches the upstream with it
    Then the canary upstream was called, and never with the client's token

  @A80 @medium @needs-mcp-pat
  Scenario: A PAT with the MCP scope opens the MCP endpoint
    The contract names MCP servers as a first use of personal access tokens.
    Given a user with a session at the issuer
    And the user created a PAT with the MCP scope
    When I call the MCP endpoint with it
    Then the MCP request is accepted

  @A80 @critical @needs-mcp-pat
  Scenario: A PAT without the MCP scope does not open the MCP endpoint
    Given a user with a session at the issuer
    And the user created a PAT without the MCP scope
    When I call the MCP endpoint with it
    Then the MCP request is not accepted

  @A80 @medium @needs-mcp-pat
  Scenario: A PAT without the MCP scope gets 403 with an insufficient_scope challenge
    Given a user with a session at the issuer
    And the user created a PAT without the MCP scope
    When I call the MCP endpoint with it
    Then the MCP answer is 403 with an insufficient_scope challenge naming the MCP scope
