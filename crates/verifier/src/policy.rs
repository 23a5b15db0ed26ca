//! Authorization (403), kept apart from authentication (401).

use std::fmt;
use std::sync::Arc;

use crate::claims::Claims;

type Predicate = Arc<dyn Fn(&Claims) -> bool + Send + Sync>;

/// What a verified token must additionally satisfy for a route. A failed check is
/// [`Forbidden`] (`403 FORBIDDEN`), never a 401.
///
/// ```
/// use xauth_verifier::Policy;
/// let admin = Policy::require_role(["service_role"]);
/// let content = Policy::require_role(["authenticated", "service_role"])
///     .and_claim("not anonymous", |c| c.is_anonymous != Some(true));
/// # let _ = (admin, content);
/// ```
#[derive(Clone, Default)]
pub struct Policy {
    roles: Option<Vec<String>>,
    predicates: Vec<(String, Predicate)>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("roles", &self.roles)
            .field(
                "predicates",
                &self
                    .predicates
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Policy {
    /// A policy that every verified token satisfies.
    pub fn any() -> Self {
        Policy::default()
    }

    /// The `role` claim must be one of `roles`.
    pub fn require_role<I, S>(roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Policy {
            roles: Some(roles.into_iter().map(Into::into).collect()),
            predicates: Vec::new(),
        }
    }

    /// Adds a named predicate over the verified claims.
    pub fn and_claim(
        mut self,
        name: impl Into<String>,
        pred: impl Fn(&Claims) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.predicates.push((name.into(), Arc::new(pred)));
        self
    }

    /// Checks the verified claims.
    pub fn check(&self, claims: &Claims) -> Result<(), Forbidden> {
        if let Some(roles) = &self.roles {
            let ok = claims
                .role
                .as_deref()
                .is_some_and(|r| roles.iter().any(|x| x == r));
            if !ok {
                return Err(Forbidden {
                    requirement: "role".to_owned(),
                });
            }
        }
        for (name, pred) in &self.predicates {
            if !pred(claims) {
                return Err(Forbidden {
                    requirement: name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// A verified token that lacks the rights a route needs: `403 FORBIDDEN`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: requirement {requirement:?} not met")]
pub struct Forbidden {
    /// The name of the unmet requirement (`role` or a predicate name). Not sent to clients.
    pub requirement: String,
}

impl Forbidden {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        "FORBIDDEN"
    }
}
