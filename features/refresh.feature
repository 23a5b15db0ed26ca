@refresh @needs-auth-proxy
Feature: Sessions through the implementation's auth proxy: sign-in, refresh, expiry, reuse
  The implementation's auth proxy (the profile's routes.auth_proxy) takes a Supabase client's
  token requests, POST <proxy>?grant_type=password|refresh_token with the apikey and
  Authorization headers supabase-js sends, forwards them to the issuer's /auth/v1/token and
  relays GoTrue's answers unchanged: success bodies, and error status, body, x-sb-error-code and
  X-Supabase-Api-Version (auth-js sends X-Supabase-Api-Version: 2024-01-01 and reads an error's
  code from the body's "code" only when the answer carries that header back; without it,
  AuthApiError.code is undefined).
  The access tokens it hands out are GoTrue's own, so they work on the protected route, and
  401 TOKEN_EXPIRED keeps its promise that refreshing the session helps (attacks.md A25).
  Users are created through the issuer's admin API with a confirmed email. Token lifetimes are
  read from the answers themselves (expires_in = exp - iat, expires_at = exp), never assumed.
  The scenarios that move the issuer's clock or break its token endpoint run alone (@serial) and
  restore it, also on failure. While the auth server is down or hangs, the proxy's own answer is
  502 Bad Gateway or 504 Gateway Timeout, within the profile's auth_proxy_timeout_seconds plus
  5 s: never a 5xx of its own making, never a client left hanging.

  @A25 @medium
  Scenario: The password grant returns GoTrue's token response, and its access token works
    Given a confirmed user with a password, created through the issuer's admin API
    When I sign in with the password grant through the auth proxy
    Then the answer is GoTrue's token response for that user
    When I call the protected route with its access token
    Then the request is accepted

  @A25 @medium
  Scenario: Refreshing the session returns a new token pair that works
    Given a confirmed user with a password, created through the issuer's admin API
    And I signed in with the password grant through the auth proxy
    When I refresh the session through the auth proxy
    Then the answer is GoTrue's token response for that user, with a new refresh token
    When I call the protected route with its access token
    Then the request is accepted

  @A25 @medium @serial @timeout(2m)
  Scenario: An expired access token gets TOKEN_EXPIRED, and refreshing the session then succeeds
    Given the issuer's JWKS serves normally and its clock is not offset
    And a confirmed user with a password, created through the issuer's admin API
    And the issuer's clock is set back by the access-token lifetime plus the declared leeway plus 60 seconds
    And I signed in with the password grant through the auth proxy
    And the issuer's clock is restored
    When I call the protected route with its access token
    Then the response is 401 TOKEN_EXPIRED
    When I refresh the session through the auth proxy
    Then the answer is GoTrue's token response for that user, with a new refresh token
    When I call the protected route with its access token
    Then the request is accepted

  @A25 @medium @serial @timeout(2m)
  Scenario: Reusing a spent refresh token after the reuse interval fails with refresh_token_already_used and revokes the session's refresh tokens
    Given the issuer's JWKS serves normally and its clock is not offset
    And a confirmed user with a password, created through the issuer's admin API
    And I signed in with the password grant through the auth proxy
    And I refreshed the session through the auth proxy twice
    And the issuer's clock moves forward by one day
    When I refresh through the auth proxy with the first refresh token of the session
    Then the answer is GoTrue's 400 refresh_token_already_used error
    When the issuer's clock moves forward by one more day
    And I refresh the session through the auth proxy
    Then the answer is a GoTrue 400 refresh error, because the session's refresh tokens were revoked
    And the issuer's clock is restored

  @A25 @medium
  Scenario Outline: A wrong password gets GoTrue's 400 invalid_credentials unchanged (<version>)
    Given a confirmed user with a password, created through the issuer's admin API
    When I sign in through the auth proxy with a wrong password <version>
    And I send the same request to the issuer directly
    Then both answers are GoTrue's 400 invalid_credentials with the same body, x-sb-error-code and X-Supabase-Api-Version

    Examples:
      | version                                |
      | without an API version header          |
      | with X-Supabase-Api-Version 2024-01-01 |

  @A25 @medium
  Scenario: An unknown refresh token gets GoTrue's 400 refresh_token_not_found unchanged
    When I refresh through the auth proxy with an unknown refresh token
    And I send the same request to the issuer directly
    Then both answers are GoTrue's 400 refresh_token_not_found with the same body, x-sb-error-code and X-Supabase-Api-Version

  @A25 @high @serial @timeout(1m)
  Scenario: While the auth server drops every connection, the auth proxy answers 502 or 504, tokens keep working, and sessions resume once it is back
    Given the issuer's JWKS serves normally and its clock is not offset
    And a confirmed user with a password, created through the issuer's admin API
    And I signed in with the password grant through the auth proxy
    And the issuer's token endpoint closes every connection without answering
    When I sign in with the password grant through the auth proxy
    Then the auth proxy answers 502 or 504
    When I refresh the session through the auth proxy
    Then the auth proxy answers 502 or 504
    When I call the protected route with its access token
    Then the request is accepted
    When the issuer's token endpoint answers normally again
    And I refresh the session through the auth proxy
    Then the answer is GoTrue's token response for that user, with a new refresh token

  @A25 @high @serial @timeout(1m)
  Scenario: While the auth server hangs, the auth proxy answers 502 or 504 within its declared upstream timeout, not a hang
    Given the issuer's JWKS serves normally and its clock is not offset
    And a confirmed user with a password, created through the issuer's admin API
    And the issuer's token endpoint hangs for longer than the declared auth-proxy timeout
    When I sign in with the password grant through the auth proxy, waiting at most the declared auth-proxy timeout plus 5 seconds
    Then the auth proxy answers 502 or 504
    When the issuer's token endpoint answers normally again
    And I sign in with the password grant through the auth proxy
    Then the answer is GoTrue's token response for that user
