@permissions
Feature: 403 FORBIDDEN versus 401
  Authentication (who is calling) comes before authorization (what they may do). A valid token
  that lacks the permission a route needs is answered 403 FORBIDDEN, never 401: the client must
  not refresh and retry, nor sign the user out. A missing, invalid or expired token is 401 on
  every route, also on routes that need more than a plain user. The permission probe route and
  the claims that grant or lack permission come from the profile (routes.permission).

  @A34 @critical
  Scenario Outline: A valid <alg> token without the permission is never accepted on the permission route
    Whether the answer is the right 403 FORBIDDEN (below) or a 401, the route must not serve a
    token that lacks its permission.
    Given a valid <alg> access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN or 401 UNAUTHENTICATED

    Examples:
      | alg   |
      | ES256 |
      | RS256 |

  @A34 @medium
  Scenario: A valid token without the permission is 403 FORBIDDEN
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @medium
  Scenario: A valid RS256 token without the permission is 403 FORBIDDEN
    Given a valid RS256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @A03 @medium
  Scenario: A valid token with the permission is accepted on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    When I call the permission route with it
    Then the request is accepted

  @A34 @medium @needs-distinct-permission-route
  Scenario: The same user token is accepted on the protected route but forbidden on the permission route
    Skipped when the profile's permission route is the protected route itself (an API with one
    role-gated route): the same token cannot be both accepted and forbidden there.
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the protected route with it
    Then the request is accepted
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @medium
  Scenario: An anonymous user's valid token without the permission is 403 FORBIDDEN
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    And that token re-signed by the issuer with "is_anonymous" set to true
    When I call the permission route with it
    Then the response is 403 FORBIDDEN

  @A34 @critical
  Scenario: No credentials on the permission route is 401, not 403
    When I call the permission route without credentials
    Then the response is 401 UNAUTHENTICATED

  @A34 @A05 @critical
  Scenario: Forging the granting claims into a user token is 401, not 403 and not 200
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    And that token with the claims that grant permission forged in, signature kept
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @A07 @critical
  Scenario: An unsigned token with the granting claims is 401 on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    And that token with its header replaced by {"alg":"none","typ":"JWT"} and an empty signature
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @A25 @medium
  Scenario: An expired token with the permission is 401 TOKEN_EXPIRED on the permission route
    Given an expired ES256 access token for a fresh user with the claims that grant permission
    When I call the permission route with it
    Then the response is 401 TOKEN_EXPIRED

  @A34 @A31 @critical
  Scenario: A token with the permission but another audience is 401 on the permission route
    Given a valid ES256 access token for a fresh user with the claims that grant permission
    And that token re-signed by the issuer with "aud" set to "anon"
    When I call the permission route with it
    Then the response is 401 UNAUTHENTICATED

  @A34 @medium
  Scenario: The 403 answer uses the error envelope with FORBIDDEN and is not a challenge to re-authenticate
    Given a valid ES256 access token for a fresh user with the claims that lack permission
    When I call the permission route with it
    Then the response is 403 FORBIDDEN
    And the response does not ask to re-authenticate
