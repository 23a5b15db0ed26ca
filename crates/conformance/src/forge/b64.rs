//! Strict base64url (RFC 7515 §2: URL-safe alphabet, no padding) helpers.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::ForgeError;

/// Encodes bytes as unpadded base64url.
///
/// ```
/// assert_eq!(xauth_conformance::forge::b64::encode(b"\xfb\xff"), "-_8");
/// ```
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url, strictly (no padding, no whitespace, canonical final bits).
pub fn decode(text: &str) -> Result<Vec<u8>, ForgeError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| ForgeError::Base64(format!("{e}: {text:.40}")))
}

/// The same bytes in the standard alphabet (`+`, `/`), unpadded.
pub fn to_standard_alphabet(text: &str) -> Result<String, ForgeError> {
    Ok(STANDARD_NO_PAD.encode(decode(text)?))
}

/// The same bytes in the standard alphabet with `=` padding.
pub fn to_padded_standard(text: &str) -> Result<String, ForgeError> {
    Ok(STANDARD.encode(decode(text)?))
}

/// Adds `=` padding to a base64url segment (its length must not be a multiple of 4).
pub fn with_padding(text: &str) -> String {
    let missing = (4 - text.len() % 4) % 4;
    format!("{text}{}", "=".repeat(missing))
}

/// Re-encodes the segment with non-zero unused low bits in its last character, so that a lenient
/// decoder yields the very same bytes while a strict one refuses the text. `None` when the
/// segment has no unused bits (its byte length is a multiple of 3).
pub fn with_noncanonical_tail(text: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused_bits = match text.len() % 4 {
        2 => 4, // one byte: 8 bits in 12
        3 => 2, // two bytes: 16 bits in 18
        _ => return None,
    };
    let last = *text.as_bytes().last()?;
    let value = ALPHABET.iter().position(|&c| c == last)?;
    let changed = value | 1; // set the lowest unused bit
    debug_assert!(unused_bits >= 1);
    if changed == value {
        return None;
    }
    let mut out = text[..text.len() - 1].to_owned();
    out.push(ALPHABET[changed] as char);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let bytes = [0xfbu8, 0xff, 0x00, 0x10];
        let text = encode(bytes);
        assert_eq!(decode(&text).unwrap(), bytes);
        assert!(decode(&with_padding(&text)).is_err());
        assert_eq!(with_padding(&text), format!("{text}=="));
    }

    #[test]
    fn noncanonical_tail_decodes_the_same_when_lenient() {
        let text = encode([1u8, 2, 3, 4]); // 4 bytes → 6 chars, 4 unused bits
        let odd = with_noncanonical_tail(&text).unwrap();
        assert_ne!(odd, text);
        assert!(decode(&odd).is_err(), "strict decoder must refuse");
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        assert_eq!(lenient.decode(&odd).unwrap(), [1u8, 2, 3, 4]);
        assert!(with_noncanonical_tail(&encode([1u8, 2, 3])).is_none());
    }

    #[test]
    fn standard_alphabet() {
        assert_eq!(to_standard_alphabet("-_8").unwrap(), "+/8");
        assert_eq!(to_padded_standard("-_8").unwrap(), "+/8=");
    }
}
