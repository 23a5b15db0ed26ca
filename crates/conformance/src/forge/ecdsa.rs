//! ES256 (ECDSA P-256) signature surgery: raw `r‖s` (JWS, RFC 7518 §3.4) versus ASN.1 DER,
//! special scalar values (psychic signatures, CVE-2022-21449), wrong lengths, high-S.

use super::ForgeError;

/// Order `n` of the P-256 group, big-endian.
pub const N: [u8; 32] = hex32("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
/// Field prime `p` of P-256, big-endian.
pub const P: [u8; 32] = hex32("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not hex"),
    }
}

/// `a + b` over 256 bits (the carry out of the top byte is dropped).
pub fn add(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let v = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = (v & 0xff) as u8;
        carry = v >> 8;
    }
    out
}

/// `a - b` over 256 bits (wrapping).
pub fn sub(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut v = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if v < 0 {
            v += 256;
            borrow = 1;
        }
        out[i] = v as u8;
    }
    out
}

/// A small integer as a 32-byte big-endian scalar.
pub fn small(v: u8) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[31] = v;
    out
}

/// A named special scalar value used in the outlines of `algorithms.feature`.
/// `"its r"` / `"its s"` are resolved by the caller (the original signature's halves).
pub fn named_scalar(name: &str) -> Option<[u8; 32]> {
    Some(match name {
        "0" => small(0),
        "1" => small(1),
        "n-1" | "n − 1" => sub(&N, &small(1)),
        "n" => N,
        "n+1" | "n + 1" => add(&N, &small(1)),
        "p" => P,
        "p+1" | "p + 1" => add(&P, &small(1)),
        "2^256-1" | "all ones" => [0xff; 32],
        _ => return None,
    })
}

/// Splits a raw 64-byte ES256 signature into `(r, s)`.
pub fn split_raw(sig: &[u8]) -> Result<([u8; 32], [u8; 32]), ForgeError> {
    if sig.len() != 64 {
        return Err(ForgeError::Signature(format!(
            "ES256 signature is {} bytes, expected 64",
            sig.len()
        )));
    }
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);
    Ok((r, s))
}

/// `r‖s` (64 bytes).
pub fn join_raw(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(r);
    out.extend_from_slice(s);
    out
}

/// DER INTEGER of an unsigned big-endian value (minimal, with a 0x00 when the top bit is set).
fn der_integer(v: &[u8]) -> Vec<u8> {
    let first_nonzero = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let mut body: Vec<u8> = v[first_nonzero..].to_vec();
    if body.is_empty() {
        body.push(0);
    } else if body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    let mut out = vec![0x02];
    push_len(&mut out, body.len());
    out.extend(body);
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.push(0x81);
        out.push(len as u8);
    }
}

/// ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw `r‖s` signature.
///
/// ```
/// use xauth_conformance::forge::ecdsa;
/// // the psychic signature r = s = 0 in DER: base64 "MAYCAQACAQA"
/// let der = ecdsa::raw_to_der(&[0u8; 64]).unwrap();
/// assert_eq!(xauth_conformance::forge::b64::encode(der), "MAYCAQACAQA");
/// ```
pub fn raw_to_der(sig: &[u8]) -> Result<Vec<u8>, ForgeError> {
    let (r, s) = split_raw(sig)?;
    let mut body = der_integer(&r);
    body.extend(der_integer(&s));
    let mut out = vec![0x30];
    push_len(&mut out, body.len());
    out.extend(body);
    Ok(out)
}

/// Raw `r‖s` of a DER signature (for tests and for describing tokens).
pub fn der_to_raw(der: &[u8]) -> Result<Vec<u8>, ForgeError> {
    let bad = || ForgeError::Signature("malformed DER ECDSA signature".into());
    let read_len = |buf: &[u8], i: &mut usize| -> Result<usize, ForgeError> {
        let b = *buf.get(*i).ok_or_else(bad)?;
        *i += 1;
        if b < 0x80 {
            Ok(usize::from(b))
        } else if b == 0x81 {
            let l = *buf.get(*i).ok_or_else(bad)?;
            *i += 1;
            Ok(usize::from(l))
        } else {
            Err(bad())
        }
    };
    let mut i = 0;
    if der.first() != Some(&0x30) {
        return Err(bad());
    }
    i += 1;
    let total = read_len(der, &mut i)?;
    if i + total != der.len() {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        if der.get(i) != Some(&0x02) {
            return Err(bad());
        }
        i += 1;
        let len = read_len(der, &mut i)?;
        let int = der.get(i..i + len).ok_or_else(bad)?;
        i += len;
        let trimmed: Vec<u8> = int.iter().copied().skip_while(|&b| b == 0).collect();
        if trimmed.len() > 32 {
            return Err(bad());
        }
        out.extend(std::iter::repeat_n(0u8, 32 - trimmed.len()));
        out.extend(trimmed);
    }
    Ok(out)
}

/// The other valid signature of the same message: `s` replaced by `n − s` (malleability).
pub fn high_s_twin(sig: &[u8]) -> Result<Vec<u8>, ForgeError> {
    let (r, s) = split_raw(sig)?;
    Ok(join_raw(&r, &sub(&N, &s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::{Signer as _, Verifier as _};
    use p256::ecdsa::{Signature, SigningKey};

    #[test]
    fn constants() {
        assert_eq!(named_scalar("n+1").unwrap()[31], 0x52);
        assert_eq!(named_scalar("n-1").unwrap()[31], 0x50);
        let p1 = named_scalar("p+1").unwrap();
        assert_eq!(&p1[..4], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&p1[20..], &[0u8; 12]);
        assert_eq!(p1[19], 1);
        assert_eq!(sub(&add(&N, &small(7)), &small(7)), N);
    }

    #[test]
    fn der_matches_p256_and_round_trips() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        for msg in [b"a".as_slice(), b"bb", b"header.payload", b"x"] {
            let sig: Signature = key.sign(msg);
            let raw = sig.to_bytes().to_vec();
            let der = raw_to_der(&raw).unwrap();
            assert_eq!(der, sig.to_der().as_bytes(), "our DER must equal p256's");
            assert_eq!(der_to_raw(&der).unwrap(), raw);
        }
    }

    #[test]
    fn high_s_twin_still_verifies() {
        let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let sig: Signature = key.sign(b"message");
        let twin = high_s_twin(&sig.to_bytes()).unwrap();
        assert_ne!(twin, sig.to_bytes().to_vec());
        let twin_sig = Signature::from_slice(&twin).unwrap();
        key.verifying_key().verify(b"message", &twin_sig).unwrap();
    }

    #[test]
    fn psychic_der() {
        assert_eq!(raw_to_der(&[0u8; 64]).unwrap(), [0x30, 6, 2, 1, 0, 2, 1, 0]);
    }
}
