@permissions
Feature: 403 FORBIDDEN versus 401
  Authentication (who is calling) comes before authorization (what they may do). A valid token
  that lacks the permission a route needs is answered 403 FORBIDDEN, never 401: the client must
  not refresh and retry, nor sign the user out. A missing, invalid or expired token is 401 on
  every route, also on routes that need more than a plain user. The permission probe route and
  the claims that grant or lack permission come from the profile (routes.permission).

  @A34 @P0
  Scenario: A valid token without the permission is 403 FORBIDDEN
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @P0
  Scenario: A valid RS256 token without the permission is 403 FORBIDDEN
    Given a valid RS256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @A03 @P0
  Scenario: A valid token with the permission is accepted on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    When I call the permission route with it
    Then the request is accepted

  @A34 @P0
  Scenario: The same user token is accepted on the protected route but forbidden on the permission route
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the protected route with it
    Then the request is accepted
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @P0
  Scenario: An anonymous user's valid token without the permission is 403 FORBIDDEN
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    And that token re-signed by the issuer with "is_anonymous" set to true
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @P0
  Scenario: No credentials on the permission route is 401, not 403
    When I call the permission route without credentials
    Then the response is 401 UNAUTHENTICATED

  @A34 @A05 @P0
  Scenario: Forging the granting claims into a user token is 401, not 403 and not 200
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    And that token with the claims that grant permission forged in, signature kept
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @A07 @P0
  Scenario: An unsigned token with the granting claims is 401 on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    And that token with its header replaced by {"alg":"none","typ":"JWT"} and an empty signature
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @A25 @P0
  Scenario: An expired token with the permission is 401 TOKEN_EXPIRED on the permission route
    Given an expired ES256 access token for a fresh user with the claims that grant permission
    When I call the permission route with it
    Then the response is 401 TOKEN_EXPIRED

  @A34 @A31 @P0
  Scenario: A token with the permission but another audience is 401 on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    And that token re-signed by the issuer with "aud" set to "anon"
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @P0
  Scenario: The 403 answer uses the error envelope with FORBIDDEN and is not a challenge to re-authenticate
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN
    And the response does not ask to re-authenticate
