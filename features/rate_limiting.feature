@rate_limiting @needs-rate-limit @needs-loopback
Feature: Rate limiting: 429 RATE_LIMITED with Retry-After, per key, never keyed on unverified claims
  The profile declares N requests per W seconds (rate_limit.requests, rate_limit.window_seconds),
  keyed on the verified subject ("subject") or on the client IP ("ip"). A request over the limit
  gets 429 RATE_LIMITED with a numeric Retry-After (delay-seconds); once that many seconds have
  passed, requests succeed again. Limiters differ (GCRA, token bucket, fixed or sliding window)
  and refill while a burst is under way, so a burst is sent concurrently and the number of
  accepted requests is only bounded by N x (2 + the number of whole windows the burst took),
  which every correct limiter meets. Forged tokens naming a victim's sub must never spend the
  victim's budget: only a verified subject may key a limit. Each scenario has its own subject
  and its own loopback source address (hence @needs-loopback), so limits never leak between
  scenarios.

  @A53 @high @timeout(3m)
  Scenario: A burst over the declared limit gets 429 RATE_LIMITED with a numeric Retry-After
    Given a valid ES256 access token for a fresh user
    When I send it in a concurrent burst of 3 times the declared limit plus 10
    Then some requests of the burst were answered 429 RATE_LIMITED with a numeric Retry-After
    And every other request of the burst was accepted
    And no more requests of the burst were accepted than the declared limit allows

  @A53 @medium @timeout(3m)
  Scenario: After waiting as long as Retry-After says, requests succeed again
    Given a valid ES256 access token for a fresh user
    When I send it in a concurrent burst of 3 times the declared limit plus 10
    And I call the protected route with it until it is answered 429 RATE_LIMITED
    And I wait as long as its Retry-After says
    And I call the protected route with it
    Then the request is accepted

  @A53 @high @timeout(3m)
  Scenario: Another user is not throttled by one user's burst
    Given a valid ES256 access token for a fresh user
    When I send it in a concurrent burst of 3 times the declared limit plus 10
    Then some requests of the burst were answered 429 RATE_LIMITED with a numeric Retry-After
    When another user calls the protected route with a valid token right after the burst
    Then the request is accepted

  @A53 @high @timeout(3m)
  Scenario: Forged tokens naming a victim's sub, sent from another address, do not throttle the victim
    Given a valid ES256 access token for a fresh user
    When an attacker at another address sends 3 times the declared limit of tokens naming my sub with a broken signature
    Then every forged token was answered 401 UNAUTHENTICATED or 429 RATE_LIMITED
    When I call the protected route with it half the declared limit times
    Then every one of those requests was accepted
