@jwks_resilience @serial
Feature: JWKS failures: cached keys keep working, unknown kids are refused promptly, nothing hangs
  Whenever the issuer's JWKS endpoint fails (an error status, a body that is not a key set, a dropped
  connection, an answer slower than any sane fetch timeout, or a redirect to another host), an
  implementation keeps verifying tokens signed by the keys it has cached, answers tokens with
  unknown kids 401 UNAUTHENTICATED, never answers 5xx and never hangs, and never follows the
  redirect. The profile declares no JWKS fetch timeout: every answer must come within 15 s
  (attacks.md A41 cites 5 s). Before a fault is injected the implementation has the issuer's
  keys cached (a valid token was accepted); the fault is then kept until the implementation has
  actually requested the failing JWKS (counted at the issuer; unknown kids trigger that request
  within two declared cooldowns plus 20 s, as one attempt may fail on its own). Cached keys must
  keep working for the declared cache TTL (jwks.cache_ttl_max_seconds) after the issuer last
  served the key set normally (the issuer records when). Once an outage has outlasted that
  TTL, failing closed (401 UNAUTHENTICATED for a key the JWKS no longer confirms) is as
  defensible as serving stale keys: it is accepted too, unless the profile declares
  jwks.serves_stale_on_error = true, in which case cached keys must keep working throughout.
  Faults are shared issuer state: these scenarios run alone (@serial) and clear the fault at
  the start and on any failure.

  Background:
    Given the issuer's JWKS serves normally and its clock is not offset
    And the implementation accepts tokens signed by the issuer's current ES256 key

  @A41 @high @timeout(5m)
  Scenario Outline: While the issuer's JWKS <fault>, cached keys keep working and unknown kids get 401
    When the issuer's JWKS starts to <fault>
    And the implementation has requested the failing JWKS
    Then a token signed by the issuer's current ES256 key is accepted within 15 seconds
    And a token with an unknown kid is answered 401 UNAUTHENTICATED within 15 seconds
    When the issuer's JWKS serves normally again
    Then a token signed by a newly published ES256 key is accepted within two declared cooldowns plus 20 seconds

    Examples:
      | fault                          |
      | answer 500                     |
      | answer 503                     |
      | answer 404                     |
      | answer 200 with malformed JSON |
      | drop the connection            |
      | answer after 20 seconds        |

  @A41 @high @timeout(5m)
  Scenario: When the issuer's JWKS redirects to another host, the redirect is not followed
    Given the attacker listener serves the attacker's JWKS
    When the issuer's JWKS starts to redirect to the attacker listener
    And the implementation has requested the failing JWKS
    Then a token signed by the attacker's key with the kid of the attacker's JWKS is answered 401 UNAUTHENTICATED within 15 seconds
    And a token signed by the issuer's current ES256 key is accepted within 15 seconds
    When the issuer's JWKS serves normally again
    Then the attacker listener received no request
    And a token signed by a newly published ES256 key is accepted within two declared cooldowns plus 20 seconds
