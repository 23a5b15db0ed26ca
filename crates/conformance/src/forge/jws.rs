//! A compact JWS taken apart into its three segments, kept as text so that every byte can be
//! changed on purpose.

use serde_json::Value;

use super::{ForgeError, b64};

/// The three segments of a compact JWS, exactly as sent (base64url text, not decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jws {
    /// First segment (protected header, base64url).
    pub header: String,
    /// Second segment (payload, base64url).
    pub payload: String,
    /// Third segment (signature, base64url; may be empty).
    pub signature: String,
}

impl Jws {
    /// Splits a compact JWS; exactly three segments are required.
    ///
    /// ```
    /// let jws = xauth_conformance::forge::jws::Jws::parse("a.b.c").unwrap();
    /// assert_eq!(jws.compact(), "a.b.c");
    /// ```
    pub fn parse(token: &str) -> Result<Self, ForgeError> {
        let mut parts = token.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => Ok(Self {
                header: h.to_owned(),
                payload: p.to_owned(),
                signature: s.to_owned(),
            }),
            _ => Err(ForgeError::NotCompact(format!("{token:.60}"))),
        }
    }

    /// Builds header and payload segments from exact JSON (or any) text; empty signature.
    pub fn from_texts(header_text: &str, payload_text: &str) -> Self {
        Self {
            header: b64::encode(header_text),
            payload: b64::encode(payload_text),
            signature: String::new(),
        }
    }

    /// `header.payload.signature`.
    pub fn compact(&self) -> String {
        format!("{}.{}.{}", self.header, self.payload, self.signature)
    }

    /// The JWS signing input `header.payload` (ASCII bytes).
    pub fn signing_input(&self) -> String {
        format!("{}.{}", self.header, self.payload)
    }

    /// The decoded signature bytes.
    pub fn signature_bytes(&self) -> Result<Vec<u8>, ForgeError> {
        b64::decode(&self.signature)
    }

    /// Replaces the signature with these bytes (base64url-encoded).
    pub fn with_signature_bytes(mut self, sig: &[u8]) -> Self {
        self.signature = b64::encode(sig);
        self
    }

    /// Decoded header text (lossy UTF-8).
    pub fn header_text(&self) -> Result<String, ForgeError> {
        Ok(String::from_utf8_lossy(&b64::decode(&self.header)?).into_owned())
    }

    /// Decoded payload text (lossy UTF-8).
    pub fn payload_text(&self) -> Result<String, ForgeError> {
        Ok(String::from_utf8_lossy(&b64::decode(&self.payload)?).into_owned())
    }

    /// Decoded header JSON.
    pub fn header_json(&self) -> Result<Value, ForgeError> {
        serde_json::from_str(&self.header_text()?).map_err(|e| ForgeError::Json(e.to_string()))
    }

    /// Decoded payload JSON.
    pub fn payload_json(&self) -> Result<Value, ForgeError> {
        serde_json::from_str(&self.payload_text()?).map_err(|e| ForgeError::Json(e.to_string()))
    }

    /// Replaces the header segment with the encoding of `text` (signature untouched).
    pub fn with_header_text(mut self, text: &str) -> Self {
        self.header = b64::encode(text);
        self
    }

    /// Replaces the payload segment with the encoding of `text` (signature untouched).
    pub fn with_payload_text(mut self, text: &str) -> Self {
        self.payload = b64::encode(text);
        self
    }
}

/// Decodes a token for display: `(header JSON or text, payload JSON or text)`, best effort.
/// Never fails; used by the evidence printer on arbitrary (hostile) tokens.
pub fn describe(token: &str) -> Option<(String, String)> {
    let mut parts = token.splitn(3, '.');
    let h = parts.next()?;
    let p = parts.next()?;
    let show = |seg: &str| -> String {
        match b64::decode(seg) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut shown: String = text.chars().take(4000).collect();
                if text.chars().count() > 4000 {
                    shown.push_str("…(truncated)");
                }
                shown
            }
            Err(_) => format!(
                "<not strict base64url: {}>",
                seg.chars().take(80).collect::<String>()
            ),
        }
    };
    Some((show(h), show(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_requires_three_segments() {
        assert!(Jws::parse("a.b").is_err());
        assert!(Jws::parse("a.b.c.d").is_err());
        let jws = Jws::from_texts(r#"{"alg":"none"}"#, "{}");
        assert_eq!(jws.compact(), "eyJhbGciOiJub25lIn0.e30.");
        assert_eq!(jws.header_json().unwrap()["alg"], "none");
        assert_eq!(Jws::parse(&jws.compact()).unwrap(), jws);
    }

    #[test]
    fn describe_is_total() {
        assert!(describe("nodots").is_none());
        let (h, p) = describe("eyJhbGciOiJub25lIn0.!!!.x").unwrap();
        assert_eq!(h, r#"{"alg":"none"}"#);
        assert!(p.starts_with("<not strict"));
    }
}
