//! A state-machine test: random sequences of sign-in, refresh (of the current token or any
//! older one: rotation, reuse inside and outside the interval, parent-of-active), logout in
//! each scope, /user, clock advances and key rotation run against a real issuer and a small
//! model of GoTrue's rules. The server never disagrees with the model.
//!
//! Time: the issuer clock moves only by the commands (offset), in steps of 40 s or 300 s, with a
//! reuse interval of 100 s and a token TTL of 3600 s, so the real time that passes during a case
//! (well under 20 s) can never push a decision across a boundary.
// Tests assert with unwrap.
#![allow(clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use support::{Harness, PASSWORD, start_with};

const REUSE_INTERVAL: i64 = 100;
const TTL: i64 = 3600;

#[derive(Debug, Clone, Copy)]
enum Scope {
    Global,
    Local,
    Others,
}

#[derive(Debug, Clone)]
enum Cmd {
    SignIn,
    /// Refresh with the session's latest refresh token.
    RefreshCurrent {
        session: usize,
    },
    /// Refresh with any refresh token this session ever handed out.
    RefreshAny {
        session: usize,
        token: usize,
    },
    Logout {
        session: usize,
        scope: Scope,
    },
    GetUser {
        session: usize,
    },
    Advance(i64),
    Rotate,
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let scope = prop_oneof![Just(Scope::Global), Just(Scope::Local), Just(Scope::Others)];
    prop_oneof![
        2 => Just(Cmd::SignIn),
        4 => (0..4usize).prop_map(|session| Cmd::RefreshCurrent { session }),
        3 => (0..4usize, 0..8usize).prop_map(|(session, token)| Cmd::RefreshAny { session, token }),
        1 => (0..4usize, scope).prop_map(|(session, scope)| Cmd::Logout { session, scope }),
        2 => (0..4usize).prop_map(|session| Cmd::GetUser { session }),
        2 => prop_oneof![Just(40i64), Just(300i64)].prop_map(Cmd::Advance),
        1 => Just(Cmd::Rotate),
    ]
}

/// One refresh token as the model sees it.
#[derive(Debug, Clone)]
struct Token {
    value: String,
    parent: Option<String>,
    revoked: bool,
    /// Model time of revocation (GoTrue's `updated_at` of a revoked token).
    revoked_at: i64,
}

#[derive(Debug, Clone)]
struct Session {
    alive: bool,
    /// Tokens in creation order.
    tokens: Vec<Token>,
    /// The latest refresh token the client received.
    current: String,
    access: String,
    access_issued_at: i64,
}

#[derive(Debug, Default)]
struct Model {
    now: i64,
    sessions: Vec<Session>,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// 200 returning exactly this (existing) refresh token.
    OkWith(String),
    Err(u16, &'static str),
}

impl Model {
    fn token_mut(&mut self, session: usize, value: &str) -> Option<&mut Token> {
        self.sessions[session]
            .tokens
            .iter_mut()
            .find(|t| t.value == value)
    }

    /// GoTrue's v1 refresh rules. Returns the expected outcome; on success the caller records
    /// the token the server returned.
    fn refresh(&mut self, session: usize, value: &str) -> Outcome {
        let now = self.now;
        let s = &self.sessions[session];
        if !s.alive {
            return Outcome::Err(400, "refresh_token_not_found");
        }
        let Some(token) = s.tokens.iter().find(|t| t.value == value).cloned() else {
            return Outcome::Err(400, "refresh_token_not_found");
        };
        if token.revoked {
            let active = s.tokens.iter().rev().find(|t| !t.revoked);
            if let Some(active) = active
                && active.parent.as_deref() == Some(value)
            {
                return Outcome::OkWith(active.value.clone());
            }
            if now >= token.revoked_at + REUSE_INTERVAL {
                for t in &mut self.sessions[session].tokens {
                    if !t.revoked {
                        t.revoked = true;
                        t.revoked_at = now;
                    }
                }
                return Outcome::Err(400, "refresh_token_already_used");
            }
        } else if let Some(t) = self.token_mut(session, value) {
            t.revoked = true;
            t.revoked_at = now;
        }
        Outcome::Ok
    }

    fn access_state(&self, session: usize) -> Outcome {
        let s = &self.sessions[session];
        if self.now >= s.access_issued_at + TTL {
            Outcome::Err(403, "bad_jwt")
        } else if !s.alive {
            Outcome::Err(403, "session_not_found")
        } else {
            Outcome::Ok
        }
    }
}

fn outcome_of(reply: &support::Reply) -> Outcome {
    if reply.status.is_success() {
        Outcome::Ok
    } else {
        let code = reply.error_code();
        let known: &'static str = match code.as_str() {
            "refresh_token_not_found" => "refresh_token_not_found",
            "refresh_token_already_used" => "refresh_token_already_used",
            "session_not_found" => "session_not_found",
            "bad_jwt" => "bad_jwt",
            _ => "unexpected",
        };
        Outcome::Err(reply.status.as_u16(), known)
    }
}

async fn run(commands: Vec<Cmd>) -> Result<(), TestCaseError> {
    let email = support::email("sm");
    let h: Harness = start_with(|b| {
        b.user(&email, PASSWORD)
            .refresh_reuse_interval(REUSE_INTERVAL)
            .access_token_ttl(TTL)
    })
    .await;
    let mut model = Model::default();
    for (step, command) in commands.into_iter().enumerate() {
        let ctx = format!("step {step}: {command:?}");
        match command {
            Cmd::SignIn => {
                let session = h.session(&email, PASSWORD).await;
                let refresh = session["refresh_token"].as_str().unwrap().to_owned();
                model.sessions.push(Session {
                    alive: true,
                    tokens: vec![Token {
                        value: refresh.clone(),
                        parent: None,
                        revoked: false,
                        revoked_at: 0,
                    }],
                    current: refresh,
                    access: session["access_token"].as_str().unwrap().to_owned(),
                    access_issued_at: model.now,
                });
            }
            Cmd::RefreshCurrent { session } | Cmd::RefreshAny { session, .. }
                if model.sessions.is_empty() =>
            {
                let _ = session;
            }
            Cmd::RefreshCurrent { session } | Cmd::RefreshAny { session, .. } => {
                let index = session % model.sessions.len();
                let value = match command {
                    Cmd::RefreshAny { token, .. } => {
                        let tokens = &model.sessions[index].tokens;
                        tokens[token % tokens.len()].value.clone()
                    }
                    _ => model.sessions[index].current.clone(),
                };
                let expected = model.refresh(index, &value);
                let reply = h.refresh(&value).await;
                let actual = outcome_of(&reply);
                match expected {
                    Outcome::Ok | Outcome::OkWith(_) => {
                        prop_assert_eq!(actual, Outcome::Ok, "{} {}", ctx, reply.text);
                        let body = reply.json();
                        let issued = body["refresh_token"].as_str().unwrap().to_owned();
                        if let Outcome::OkWith(active) = expected {
                            prop_assert_eq!(&issued, &active, "{}", ctx);
                        } else {
                            let s = &model.sessions[index];
                            prop_assert!(
                                s.tokens.iter().all(|t| t.value != issued),
                                "{}: a new token was expected",
                                ctx
                            );
                            model.sessions[index].tokens.push(Token {
                                value: issued.clone(),
                                parent: Some(value.clone()),
                                revoked: false,
                                revoked_at: 0,
                            });
                        }
                        let s = &mut model.sessions[index];
                        s.current = issued;
                        s.access = body["access_token"].as_str().unwrap().to_owned();
                        s.access_issued_at = model.now;
                    }
                    expected => prop_assert_eq!(actual, expected, "{} {}", ctx, reply.text),
                }
            }
            Cmd::Logout { session, scope } => {
                if model.sessions.is_empty() {
                    continue;
                }
                let index = session % model.sessions.len();
                let expected = model.access_state(index);
                let scope_name = match scope {
                    Scope::Global => "global",
                    Scope::Local => "local",
                    Scope::Others => "others",
                };
                let reply = h
                    .logout(&model.sessions[index].access.clone(), Some(scope_name))
                    .await;
                let actual = outcome_of(&reply);
                prop_assert_eq!(&actual, &expected, "{} {}", ctx, reply.text);
                if expected == Outcome::Ok {
                    prop_assert_eq!(reply.status, StatusCode::NO_CONTENT);
                    for (i, s) in model.sessions.iter_mut().enumerate() {
                        let dies = match scope {
                            Scope::Global => true,
                            Scope::Local => i == index,
                            Scope::Others => i != index,
                        };
                        if dies {
                            s.alive = false;
                        }
                    }
                }
            }
            Cmd::GetUser { session } => {
                if model.sessions.is_empty() {
                    continue;
                }
                let index = session % model.sessions.len();
                let expected = model.access_state(index);
                let reply = h.get_user(&model.sessions[index].access.clone()).await;
                prop_assert_eq!(outcome_of(&reply), expected, "{} {}", ctx, reply.text);
            }
            Cmd::Advance(seconds) => {
                model.now += seconds;
                h.issuer.set_clock_offset(model.now);
            }
            Cmd::Rotate => {
                // Rotation changes the signing key; earlier tokens stay verifiable (the old
                // key is published as previous), so the model is unchanged.
                h.issuer.rotate(None).await.expect("rotation");
            }
        }
        // The live-session count always matches.
        let alive = model.sessions.iter().filter(|s| s.alive).count();
        prop_assert_eq!(h.issuer.state().auth.session_count(), alive, "{}", ctx);
    }
    h.issuer.shutdown().await;
    Ok(())
}

#[test]
fn the_server_never_disagrees_with_the_model() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 24,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(cmd(), 1..40), |commands| {
        runtime.block_on(run(commands))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
