//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1): the parameters of a `Bearer` challenge
//! (RFC 6750 §3, RFC 9728 §5.1), parsed without guessing.
//!
//! ```
//! use xauth_conformance::net::challenge::bearer_params;
//! let p = bearer_params(r#"Bearer resource_metadata="https://a/x", scope="mcp:tools", error=invalid_token"#).unwrap();
//! assert_eq!(p[0], ("resource_metadata".to_owned(), "https://a/x".to_owned()));
//! assert_eq!(p[2], ("error".to_owned(), "invalid_token".to_owned()));
//! assert!(bearer_params("Basic realm=\"x\"").is_none());
//! ```

/// The `name=value` parameters (names lower-cased, quoted values unescaped) of `value` when it
/// is a `Bearer` challenge; `None` for another scheme or malformed parameters.
pub fn bearer_params(value: &str) -> Option<Vec<(String, String)>> {
    let value = value.trim_start();
    let scheme = value.get(..6)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = &value[6..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == ',') {
            chars.next();
        }
        let Some(_) = chars.peek() else { break };
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ' ')).collect();
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.next() != Some('=') || name.is_empty() {
            return None;
        }
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut v = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => v.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            v = std::iter::from_fn(|| chars.next_if(|c| *c != ',' && *c != ' ')).collect();
        }
        params.push((name.to_ascii_lowercase(), v));
    }
    Some(params)
}

/// The parameters of the first `Bearer` challenge among `headers` (name, value pairs).
pub fn first_bearer<'a>(
    headers: impl IntoIterator<Item = &'a (String, String)>,
) -> Option<Vec<(String, String)>> {
    headers
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
        .find_map(|(_, v)| bearer_params(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escaped_and_bare_values() {
        let p = bearer_params(r#"bearer error="insufficient_scope" , scope="a b",x="q\"uote""#)
            .unwrap();
        assert_eq!(
            p,
            vec![
                ("error".to_owned(), "insufficient_scope".to_owned()),
                ("scope".to_owned(), "a b".to_owned()),
                ("x".to_owned(), "q\"uote".to_owned()),
            ]
        );
        assert_eq!(bearer_params("Bearer").unwrap(), vec![]);
        assert!(bearer_params("Bearerx a=b").is_none());
        assert!(bearer_params(r#"Bearer a="unclosed"#).is_none());
        assert!(bearer_params("Bearer =b").is_none());
    }
}
