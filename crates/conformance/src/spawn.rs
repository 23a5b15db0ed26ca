//! `--spawn`: start the implementation under test with the environment contract, wait for its
//! readiness path, and always stop it (its whole process group) at the end.
//!
//! The child runs in its own process group. [`Spawned::stop`] sends SIGTERM to the group, waits
//! up to a grace period for the leader, then sends SIGKILL to the group. Dropping a
//! [`Spawned`] that was not stopped (an error path or a panic) sends SIGKILL to the group at
//! once, so the implementation never outlives the runner.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

/// Why the implementation could not be started or never became ready.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The command line could not be split into words.
    #[error("--spawn {0:?}: unbalanced quotes or empty command")]
    BadCommand(String),
    /// No free port.
    #[error("cannot choose a free port for the implementation: {0}")]
    Port(std::io::Error),
    /// The log file could not be created.
    #[error("cannot create the implementation log {path}: {source}")]
    Log {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The program could not be started.
    #[error("cannot start {program:?}: {source}")]
    Start {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The program exited before it became ready.
    #[error("the implementation exited ({status}) before {url} answered 2xx; its log: {log}")]
    Exited {
        /// Exit status.
        status: String,
        /// The readiness URL.
        url: String,
        /// The log file.
        log: String,
    },
    /// The readiness path never answered 2xx.
    #[error("the implementation was not ready within {secs:.1} s ({url}: {last}); its log: {log}")]
    NotReady {
        /// The deadline.
        secs: f64,
        /// The readiness URL.
        url: String,
        /// The last probe's outcome.
        last: String,
        /// The log file.
        log: String,
    },
}

/// Splits a `--spawn` command into program and arguments like a POSIX shell would (quotes and
/// backslashes), without running a shell.
///
/// ```
/// let words = xauth_conformance::spawn::split_command("node 'my server.js' --port=1").unwrap();
/// assert_eq!(words, ["node", "my server.js", "--port=1"]);
/// ```
///
/// A command that is exactly the path of an existing file is taken whole, so a program path
/// containing spaces needs no quoting.
pub fn split_command(cmd: &str) -> Result<Vec<String>, SpawnError> {
    if !cmd.trim().is_empty() && Path::new(cmd).is_file() {
        return Ok(vec![cmd.to_owned()]);
    }
    match shlex::split(cmd) {
        Some(w) if !w.is_empty() => Ok(w),
        _ => Err(SpawnError::BadCommand(cmd.to_owned())),
    }
}

/// Chooses a currently free loopback port (bind port 0, read it, release it).
pub fn free_port() -> Result<u16, SpawnError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(SpawnError::Port)?;
    Ok(l.local_addr().map_err(SpawnError::Port)?.port())
}

/// A running implementation.
#[derive(Debug)]
pub struct Spawned {
    child: tokio::process::Child,
    pgid: Option<Pid>,
    port: u16,
    log: PathBuf,
    stopped: bool,
}

impl Spawned {
    /// Starts `cmd` with `env` added to (and `remove` removed from) the runner's environment,
    /// in its own process group,
    /// with stdout and stderr appended to `log`.
    pub fn start(
        cmd: &str,
        env: &[(&str, String)],
        remove: &[&str],
        port: u16,
        log: &Path,
    ) -> Result<Self, SpawnError> {
        let words = split_command(cmd)?;
        let log_err = |source| SpawnError::Log {
            path: log.to_owned(),
            source,
        };
        let out = File::create(log).map_err(log_err)?;
        let err = out.try_clone().map_err(log_err)?;
        let mut command = tokio::process::Command::new(&words[0]);
        for key in remove {
            command.env_remove(key);
        }
        command
            .args(&words[1..])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| SpawnError::Start {
            program: words[0].clone(),
            source,
        })?;
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        tracing::debug!(?pgid, port, "implementation started");
        Ok(Self {
            child,
            pgid,
            port,
            log: log.to_owned(),
            stopped: false,
        })
    }

    /// The port the implementation was told to listen on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The process id of the implementation (the process group leader).
    pub fn pid(&self) -> Option<u32> {
        self.pgid.map(|p| p.as_raw_nonzero().get().unsigned_abs())
    }

    /// Polls `url` until it answers 2xx, the child exits, or `deadline` passes. Each probe is
    /// bounded by `probe_timeout`; probes back off from 20 ms to 250 ms.
    pub async fn wait_ready(
        &mut self,
        url: &url::Url,
        deadline: Duration,
        probe_timeout: Duration,
    ) -> Result<(), SpawnError> {
        let client = crate::net::target::client_builder_for(url)
            .timeout(probe_timeout.min(deadline))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| SpawnError::NotReady {
                secs: 0.0,
                url: url.to_string(),
                last: e.to_string(),
                log: self.log.display().to_string(),
            })?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        let mut last: String;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(SpawnError::Exited {
                    status: status.to_string(),
                    url: url.to_string(),
                    log: self.log.display().to_string(),
                });
            }
            match client.get(url.clone()).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => last = format!("answered {}", r.status()),
                Err(e) => last = describe_reqwest(&e),
            }
            let left = deadline.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(SpawnError::NotReady {
                    secs: deadline.as_secs_f64(),
                    url: url.to_string(),
                    last,
                    log: self.log.display().to_string(),
                });
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Stops the implementation: SIGTERM to its process group, up to `grace` for the leader to
    /// exit, then SIGKILL to the group (also reaping any process it left behind).
    pub async fn stop(mut self, grace: Duration) {
        self.stopped = true;
        if let Some(pgid) = self.pgid {
            let _ = kill_process_group(pgid, Signal::TERM);
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!("implementation did not stop within {grace:?} of SIGTERM; killing it");
        }
        if let Some(pgid) = self.pgid {
            let _ = kill_process_group(pgid, Signal::KILL);
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !self.stopped
            && let Some(pgid) = self.pgid
        {
            let _ = kill_process_group(pgid, Signal::KILL);
        }
    }
}

/// A one-line description of a request error (connection refused, timeout, …).
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut src = e.source();
    let mut deepest = None;
    while let Some(inner) = src {
        deepest = Some(inner.to_string());
        src = inner.source();
    }
    if let Some(d) = deepest {
        s.push_str(": ");
        s.push_str(&d);
    }
    s
}
