//! The one URL joiner: a path (a profile route, possibly with a query) appended to a base URL,
//! keeping the base's own path and never doubling its trailing `/`.

/// `base` with `path` appended to its path (a `?query` in `path` becomes the query).
pub fn join(base: &url::Url, path: &str) -> url::Url {
    let mut u = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    match joined.split_once('?') {
        Some((p, q)) => {
            u.set_path(p);
            u.set_query(Some(q));
        }
        None => u.set_path(&joined),
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_keep_the_base_path_and_split_the_query() {
        let base: url::Url = "http://127.0.0.1:1/prefix/".parse().unwrap();
        assert_eq!(
            join(&base, "/api/content").as_str(),
            "http://127.0.0.1:1/prefix/api/content"
        );
        assert_eq!(
            join(&base, "/token?grant_type=password").as_str(),
            "http://127.0.0.1:1/prefix/token?grant_type=password"
        );
        let root: url::Url = "http://127.0.0.1:1".parse().unwrap();
        assert_eq!(
            join(&root, "/_control/v1").as_str(),
            "http://127.0.0.1:1/_control/v1"
        );
    }
}
