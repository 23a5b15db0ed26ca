//! The PAT wire format: `xpat_` + 40 base62 characters of secret (about 238 bits) + 6 base62
//! characters of CRC32 (IEEE) over the prefix and the secret. 51 ASCII characters, no dots, so a
//! PAT can never be mistaken for a compact JWT (`eyJ…` with two dots) and vice versa.
//!
//! The checksum lets a malformed or mistyped token be refused offline, before any database
//! lookup, and lets secret scanners recognise real tokens. It is not a MAC: the security rests
//! on the secret's entropy and the database lookup of its digest.
//!
//! At rest only a digest is kept: SHA-256 of the whole token, or HMAC-SHA-256 keyed with the
//! server-side pepper when one is configured (a stolen database then cannot even be used to
//! confirm a guessed token). Digests are compared in constant time.

use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The fixed prefix every PAT starts with. Dispatch between PATs and JWTs is on this prefix.
pub const PREFIX: &str = "xpat_";
/// Characters of secret after the prefix.
pub const SECRET_LEN: usize = 40;
/// Characters of checksum at the end.
pub const CHECKSUM_LEN: usize = 6;
/// The total length of a PAT.
pub const TOKEN_LEN: usize = PREFIX.len() + SECRET_LEN + CHECKSUM_LEN;
/// Characters shown by the list endpoint after the prefix (`xpat_…abcd`).
pub const LAST_CHARS: usize = 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `token` claims to be a PAT (starts with [`PREFIX`]). Says nothing about validity.
pub fn has_prefix(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and GitHub's token checksums).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn base62_fixed(mut n: u32) -> [u8; CHECKSUM_LEN] {
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        // n % 62 < 62: the index is always in range.
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn checksum_of(prefix_and_secret: &str) -> [u8; CHECKSUM_LEN] {
    base62_fixed(crc32(prefix_and_secret.as_bytes()))
}

/// A freshly generated token (the only time the secret exists in the clear).
pub fn generate() -> String {
    let mut rng = OsRng;
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(PREFIX);
    for _ in 0..SECRET_LEN {
        token.push(char::from(BASE62[rng.gen_range(0..BASE62.len())]));
    }
    let sum = checksum_of(&token);
    token.extend(sum.iter().map(|b| char::from(*b)));
    token
}

/// Why a string is not a well-formed PAT (all answered 401 `UNAUTHENTICATED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// It does not start with [`PREFIX`].
    Prefix,
    /// Wrong length or a character outside base62.
    Shape,
    /// The checksum does not match.
    Checksum,
}

/// Checks prefix, shape and (unless `check_checksum` is false: a seeded defect) the checksum,
/// without touching any storage.
pub fn check_format(token: &str, check_checksum: bool) -> Result<(), Malformed> {
    if !has_prefix(token) {
        return Err(Malformed::Prefix);
    }
    let bytes = token.as_bytes();
    if bytes.len() != TOKEN_LEN || !bytes[PREFIX.len()..].iter().all(u8::is_ascii_alphanumeric) {
        return Err(Malformed::Shape);
    }
    if check_checksum {
        let (body, sum) = token.split_at(PREFIX.len() + SECRET_LEN);
        if checksum_of(body).as_slice() != sum.as_bytes() {
            return Err(Malformed::Checksum);
        }
    }
    Ok(())
}

/// The last characters shown for identification (never enough to use the token).
pub fn last_chars(token: &str) -> String {
    token
        .get(token.len().saturating_sub(LAST_CHARS)..)
        .unwrap_or_default()
        .to_owned()
}

/// The at-rest digest of `token`: hex SHA-256, or hex HMAC-SHA-256 keyed with `pepper`.
pub fn digest(token: &str, pepper: Option<&[u8]>) -> String {
    let bytes: [u8; 32] = match pepper {
        Some(key) => match Hmac::<Sha256>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(token.as_bytes());
                mac.finalize().into_bytes().into()
            }
            // HMAC takes keys of any length; unreachable, but never fall back silently to a
            // digest an attacker could compute: use a domain-separated hash instead.
            Err(_) => {
                Sha256::digest([b"pepper-error:".as_slice(), token.as_bytes()].concat()).into()
            }
        },
        None => Sha256::digest(token.as_bytes()).into(),
    };
    let mut hex = String::with_capacity(64);
    for b in bytes {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    hex
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_answer() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.starts_with(PREFIX) && !a.contains('.'));
        assert_eq!(check_format(&a, true), Ok(()));
        // 40 base62 characters: log2(62) * 40 > 238 bits >= 160 even after the checksum.
        assert!((SECRET_LEN as f64) * 62f64.log2() - 32.0 >= 160.0);
    }

    #[test]
    fn every_single_character_change_is_caught_offline() {
        let t = generate();
        for i in PREFIX.len()..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let s = String::from_utf8(b).unwrap();
            assert_eq!(check_format(&s, true), Err(Malformed::Checksum), "{i}");
        }
        assert_eq!(check_format(&t[..t.len() - 1], true), Err(Malformed::Shape));
        assert_eq!(
            check_format(&format!("xpaT_{}", &t[5..]), true),
            Err(Malformed::Prefix)
        );
        assert_eq!(
            check_format(&format!("{}.", &t[..t.len() - 1]), true),
            Err(Malformed::Shape)
        );
    }

    #[test]
    fn digests_depend_on_the_pepper() {
        let t = generate();
        assert_eq!(digest(&t, None).len(), 64);
        assert_ne!(digest(&t, None), digest(&t, Some(b"pepper")));
        assert!(digests_equal(&digest(&t, None), &digest(&t, None)));
        assert!(!digests_equal(&digest(&t, None), &digest(&t, Some(b"p"))));
    }
}
