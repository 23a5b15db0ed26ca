@key_rotation @serial
Feature: Key rotation: new keys are picked up, previous keys keep working, revoked keys stop working
  Supabase rotates signing keys by publishing a standby key, making it current while the previous
  key stays published until its tokens have expired, and finally revoking it (it leaves the
  JWKS). An implementation caches the issuer's JWKS for at most the profile's
  jwks.cache_ttl_max_seconds (T) and refetches it when a token names a kid it does not know, at
  most once per jwks.refetch_cooldown_seconds (C), or at most jwks.max_fetches_per_minute (N)
  times a minute when the profile bounds fetches that way (then C below reads 60/N seconds, and
  "one fetch per declared cooldown" reads "N per started minute"). Some bound is always
  declared: a profile without one is refused. JWKS fetches are counted at the issuer
  (GET /_control/v1/counters). Every wait below is a poll bounded by the declared value plus a
  margin of 5 s, and stops as soon as the expected answer arrives. Whole-second clocks are
  allowed: a cooldown counts as C - 1 s (at least 1 s) when fetches are counted. One fetch
  attempt may fail on the implementation's side (e.g. a stale pooled connection) and then waits
  out a cooldown, so a poll that waits for a refetch allows two cooldowns (or T plus one).
  Fetch counts also allow the cache's own refreshes: one, plus one per T elapsed in the
  interval (a TTL shorter than the cooldown legitimately refetches that often).
  These scenarios change the issuer's keys, so they run alone (@serial). A rotation leaves the
  new key current for the rest of the run; every other scenario mints with whatever key is
  current, which these scenarios have shown the implementation to accept; if the implementation
  fails to accept the new key, the rotation is rolled back so later scenarios are not affected.
  Budget rule: a scenario that must wait out the cache TTL (T = 600 s with the default profile)
  is @slow and runs only with --slow; waits bounded by cooldowns (C = 30 s by default, so at
  most about a minute per wait) are not. The revocation scenario waits up to T + C + 5 s, so it
  is @slow (with fixtures/profiles/reference-fast.toml it takes about 2 s).

  Background:
    Given the issuer's JWKS serves normally and its clock is not offset
    And the implementation accepts tokens signed by the issuer's current ES256 key

  @A40 @high @timeout(5m)
  Scenario: A token signed by a newly published key is accepted after at most one JWKS refetch
    Given the issuer publishes a new ES256 key as standby
    When I send tokens signed by the new key until one is accepted
    Then a token signed by the new key was accepted within two declared cooldowns plus the margin
    And the issuer served at most one JWKS fetch per declared cooldown meanwhile, plus cache refreshes

  @A40 @high @timeout(5m)
  Scenario: After a rotation, tokens signed by the new current key are accepted and the previous key keeps working while published
    Given the issuer rotates to a new ES256 key
    When I send tokens signed by the new key until one is accepted
    Then a token signed by the new key was accepted within two declared cooldowns plus the margin
    And the issuer served at most one JWKS fetch per declared cooldown meanwhile, plus cache refreshes
    And a token signed by the previous ES256 key is still accepted

  @A40 @high @slow @timeout(15m)
  Scenario: Tokens signed by a revoked key are rejected once the declared cache TTL has passed
    Given the issuer publishes a new ES256 key as standby
    And I send tokens signed by the new key until one is accepted
    And a token signed by the new key was accepted within two declared cooldowns plus the margin
    When the issuer revokes the new key
    Then tokens signed by the new key are answered 401 UNAUTHENTICATED within the declared cache TTL plus one cooldown plus the margin
    And the implementation accepts tokens signed by the issuer's current ES256 key

  @A39 @high @timeout(5m)
  Scenario: A flood of tokens with unknown kids causes at most one JWKS fetch per cooldown while valid tokens keep being served
    Given 100 tokens with valid ES256 signatures by a key the issuer never published, each with its own kid
    And the latency of valid tokens measured before the flood
    When 4 clients send the flood while another client keeps sending valid tokens
    Then every flood token was answered 401 UNAUTHENTICATED or 429 RATE_LIMITED
    And the issuer served at most one JWKS fetch per declared cooldown during the flood, plus cache refreshes
    And every valid token sent during the flood was accepted, with a median latency below 10 times the baseline plus 500 ms
