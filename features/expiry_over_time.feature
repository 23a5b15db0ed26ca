@expiry_over_time
Feature: A token stops working once it has expired
  The expiry scenarios of expiry.feature and claims.feature judge tokens that are already
  expired. This one watches a single genuine token cross its expiry: it is accepted while
  now < exp + L and answered 401 TOKEN_EXPIRED once now >= exp + L (L being the profile's declared
  leeway), and it never comes back to life. The answer is polled (at most 40 requests, or one
  every 200 ms) until exp + L + a 5 s margin.

  @A25 @A54 @medium @timeout(6m)
  Scenario: A token minted to expire in two seconds works now and is TOKEN_EXPIRED after expiry plus the leeway
    Given a valid ES256 access token for a fresh user that expires in 2 seconds
    When I call the protected route with it until it is answered 401 TOKEN_EXPIRED
    Then it was accepted at first, and answered 401 TOKEN_EXPIRED within the expiry plus the declared leeway plus the margin
    And once expired it was never accepted again
