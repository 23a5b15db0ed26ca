//! Strict base64url: the unpadded URL-safe alphabet only, canonical trailing bits, no whitespace.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes a canonical unpadded base64url segment (RFC 7515 §2). `=` padding, `+`, `/`,
/// whitespace and non-zero trailing bits are all errors.
pub(crate) fn decode(segment: &str) -> Option<Vec<u8>> {
    // URL_SAFE_NO_PAD: alphabet `A-Za-z0-9-_`, padding forbidden, trailing bits must be zero.
    URL_SAFE_NO_PAD.decode(segment.as_bytes()).ok()
}

/// Encodes unpadded base64url.
#[allow(dead_code)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn strictness() {
        assert_eq!(decode("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(decode("Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(decode("").as_deref(), Some(&b""[..]));
        assert!(decode("Zm8=").is_none(), "padding");
        assert!(decode("Zm9").is_none(), "non-canonical trailing bits");
        assert!(decode("Zm9 v").is_none(), "space");
        assert!(decode("Zm9v\n").is_none(), "newline");
        assert!(decode("+/8").is_none(), "standard alphabet");
        assert!(decode("-_8").is_some());
        assert!(decode("Z").is_none(), "impossible length");
    }
}
