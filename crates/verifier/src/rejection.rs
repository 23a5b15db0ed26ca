//! Why a token was refused, and what the caller must answer.

/// The HTTP-level outcome of a refused token: both are `401`, with a different error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `401 UNAUTHENTICATED`: missing, malformed, forged, or otherwise unacceptable.
    Unauthenticated,
    /// `401 TOKEN_EXPIRED`: the token is authentic and otherwise fully acceptable, but expired.
    TokenExpired,
}

impl Outcome {
    /// The stable error code: `"UNAUTHENTICATED"` or `"TOKEN_EXPIRED"`.
    ///
    /// ```
    /// assert_eq!(xauth_verifier::Outcome::TokenExpired.code(), "TOKEN_EXPIRED");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Unauthenticated => "UNAUTHENTICATED",
            Outcome::TokenExpired => "TOKEN_EXPIRED",
        }
    }
}

/// A claim name, for [`Rejection::MissingClaim`] and [`Rejection::InvalidClaim`].
pub type ClaimName = &'static str;

/// Why a token was refused. Each variant has a stable [`reason`](Rejection::reason) and maps to
/// exactly one [`Outcome`]; only [`Rejection::Expired`] maps to `TOKEN_EXPIRED`.
///
/// The `Display` text never contains token content, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Authorization` header (HTTP layer only).
    #[error("no bearer token")]
    MissingToken,
    /// The `Authorization` header is not exactly one `Bearer <token>`.
    #[error("malformed Authorization header")]
    BadAuthorizationHeader,
    /// The token is empty or longer than the configured maximum.
    #[error("token empty or too long")]
    TokenSize,
    /// Not a compact JWS: not exactly three segments (JWE has five), an empty header or payload
    /// segment, or JSON serialisation.
    #[error("not a compact JWS")]
    NotCompactJws,
    /// A segment is not canonical unpadded base64url.
    #[error("segment is not canonical base64url")]
    Base64,
    /// The header is not a JSON object (invalid JSON or UTF-8, too deep, trailing bytes, ...).
    #[error("header is not a JSON object")]
    HeaderJson,
    /// The payload is not a JSON object.
    #[error("payload is not a JSON object")]
    PayloadJson,
    /// A JSON object in the header or payload repeats a member name.
    #[error("duplicate JSON member")]
    DuplicateMember,
    /// `alg` is missing, not a string, `none`, or not allowed (HS256 needs a legacy secret).
    #[error("algorithm not allowed")]
    AlgNotAllowed,
    /// `crit` (or `b64`) is present: no critical extension is understood.
    #[error("critical header extension not understood")]
    CritUnsupported,
    /// `jku`, `x5u`, `jwk`, `x5c` (or `x5t`, `x5t#S256`) is present: keys are never taken from a token.
    #[error("token carries key material or a key URL")]
    EmbeddedKeyReference,
    /// `typ` is present and not `JWT`.
    #[error("unsupported typ")]
    Typ,
    /// `cty` is present (nested JWTs are not accepted).
    #[error("cty present")]
    Cty,
    /// `kid` is malformed (not a string, empty, too long) or missing on an ES256/RS256 token.
    #[error("missing or malformed kid")]
    Kid,
    /// No published key has this kid.
    #[error("unknown kid")]
    UnknownKid,
    /// Several published keys share this kid.
    #[error("ambiguous kid")]
    AmbiguousKid,
    /// The key named by kid is bound to another algorithm.
    #[error("key not usable with this algorithm")]
    KeyAlgorithmMismatch,
    /// No key set is available (the JWKS could not be fetched and nothing usable is cached).
    #[error("signing keys unavailable")]
    KeysUnavailable,
    /// The signature has the wrong length for the algorithm or key.
    #[error("signature has the wrong length")]
    SignatureLength,
    /// The signature does not verify.
    #[error("signature invalid")]
    Signature,
    /// A required claim is missing.
    #[error("missing claim {0}")]
    MissingClaim(ClaimName),
    /// A claim has the wrong type or an out-of-range value.
    #[error("malformed claim {0}")]
    InvalidClaim(ClaimName),
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` does not contain the configured audience.
    #[error("wrong audience")]
    Audience,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `now >= exp + leeway`, and everything else about the token is acceptable.
    #[error("token expired")]
    Expired,
}

impl Rejection {
    /// The HTTP outcome: [`Outcome::TokenExpired`] for [`Rejection::Expired`], otherwise
    /// [`Outcome::Unauthenticated`].
    ///
    /// ```
    /// use xauth_verifier::{Outcome, Rejection};
    /// assert_eq!(Rejection::Expired.outcome(), Outcome::TokenExpired);
    /// assert_eq!(Rejection::Signature.outcome(), Outcome::Unauthenticated);
    /// ```
    pub fn outcome(&self) -> Outcome {
        match self {
            Rejection::Expired => Outcome::TokenExpired,
            _ => Outcome::Unauthenticated,
        }
    }

    /// A stable snake_case reason, safe to log and to compare in tests.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::MissingToken => "missing_token",
            Rejection::BadAuthorizationHeader => "bad_authorization_header",
            Rejection::TokenSize => "token_size",
            Rejection::NotCompactJws => "not_compact_jws",
            Rejection::Base64 => "bad_base64",
            Rejection::HeaderJson => "bad_header_json",
            Rejection::PayloadJson => "bad_payload_json",
            Rejection::DuplicateMember => "duplicate_member",
            Rejection::AlgNotAllowed => "alg_not_allowed",
            Rejection::CritUnsupported => "crit_unsupported",
            Rejection::EmbeddedKeyReference => "embedded_key_reference",
            Rejection::Typ => "bad_typ",
            Rejection::Cty => "cty_present",
            Rejection::Kid => "bad_kid",
            Rejection::UnknownKid => "unknown_kid",
            Rejection::AmbiguousKid => "ambiguous_kid",
            Rejection::KeyAlgorithmMismatch => "key_algorithm_mismatch",
            Rejection::KeysUnavailable => "keys_unavailable",
            Rejection::SignatureLength => "bad_signature_length",
            Rejection::Signature => "bad_signature",
            Rejection::MissingClaim(_) => "missing_claim",
            Rejection::InvalidClaim(_) => "invalid_claim",
            Rejection::Issuer => "wrong_issuer",
            Rejection::Audience => "wrong_audience",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::IssuedInFuture => "issued_in_future",
            Rejection::Expired => "expired",
        }
    }
}
