//! Shared helpers for the integration tests that drive the real `switchboard` binary.
//!
//! Every test gets its own temporary folder (data dir, XDG dirs) and a fixed master key in the
//! child's environment; the OS keyring is made unreachable so no test touches a real profile.
//! Fake providers come from `switchboard sandbox serve`, read through its one ready line.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Base64 of the 32 bytes 0, 1, …, 31.
pub const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Base64 of 32 bytes 0xA5: valid, but not the key the workspaces were created with.
pub const WRONG_MASTER_KEY: &str = "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=";

/// How long any single command may take before the test fails (debug build, 2 cores).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_switchboard")
}

/// Variables a child must never inherit from whoever runs the tests.
const SCRUBBED: &[&str] = &[
    "SWITCHBOARD_DATA_DIR",
    "SWITCHBOARD_MASTER_KEY",
    "SWITCHBOARD_LOG",
    "STRIPE_API_KEY",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "RUST_LOG",
];

/// A `switchboard` command with the hermetic base environment of the tests.
pub fn base_command(home: &Path) -> Command {
    let mut cmd = Command::new(bin());
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd.env("SWITCHBOARD_MASTER_KEY", MASTER_KEY)
        // No keyring reachable: the env key is the only source (the keyring has its own tests).
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"));
    cmd
}

fn drain(mut reader: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = reader.read_to_end(&mut buf);
        buf
    })
}

/// The outcome of one finished command.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8(self.stderr.clone()).expect("stderr is UTF-8")
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_string).collect()
    }

    /// Every stdout line parsed as one JSON value (JSON Lines).
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout_lines()
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{}", self.describe()))
            })
            .collect()
    }

    pub fn describe(&self) -> String {
        let clip = |b: &[u8]| {
            if b.len() > 4000 {
                format!(
                    "{}… ({} bytes)",
                    String::from_utf8_lossy(&b[..4000]),
                    b.len()
                )
            } else {
                String::from_utf8_lossy(b).into_owned()
            }
        };
        format!(
            "`switchboard {}` exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.status.code(),
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }

    /// Panics (with the whole output) unless the exit status is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "{}", self.describe());
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// One test's world: a temporary folder holding the data dir, and every output of every command
/// run through it (for the secret-leak scan).
pub struct Cli {
    pub root: tempfile::TempDir,
    pub data_dir: PathBuf,
    /// Extra environment for every command of this world (e.g. `SWITCHBOARD_LOG=debug`).
    env: Vec<(OsString, OsString)>,
    transcript: std::sync::Mutex<Vec<Run>>,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    pub fn new() -> Cli {
        let root = tempfile::Builder::new()
            .prefix("switchboard-cli-test")
            .tempdir()
            .expect("temp dir");
        let data_dir = root.path().join("data");
        Cli {
            root,
            data_dir,
            env: Vec::new(),
            transcript: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Cli {
        self.env.push((key.into(), value.into()));
        self
    }

    /// `switchboard ARGS --data-dir <data dir>`.
    pub fn cmd<S: AsRef<OsStr>>(&self, args: &[S]) -> Invocation<'_> {
        let mut inv = self.raw(args);
        inv.args.push("--data-dir".into());
        inv.args.push(self.data_dir.clone().into());
        inv
    }

    /// `switchboard ARGS` exactly (the test places `--data-dir` itself).
    pub fn raw<S: AsRef<OsStr>>(&self, args: &[S]) -> Invocation<'_> {
        Invocation {
            cli: self,
            args: args.iter().map(|a| a.as_ref().to_os_string()).collect(),
            stdin: None,
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
        }
    }

    /// Every command run so far with its outputs.
    pub fn transcript(&self) -> Vec<Run> {
        self.transcript.lock().unwrap().clone()
    }

    fn record(&self, run: &Run) {
        self.transcript.lock().unwrap().push(run.clone());
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    /// Connects the sandbox's Stripe under `name` with the key on standard input, then gives
    /// the connection the budget the sandbox announces (not Stripe's test-mode 25/s), so tests
    /// measure the engine, not the limiter.
    pub fn connect_stripe(&self, sandbox: &Sandbox, name: &str) -> Run {
        let connected = self
            .cmd(&[
                "connect",
                "stripe",
                "--name",
                name,
                "--api-base",
                &sandbox.api_base,
            ])
            .stdin(format!("{}\n", sandbox.api_key))
            .run();
        if connected.code() == Some(0) {
            let mut args = vec!["connections".to_string(), "set-budget".into(), name.into()];
            args.extend(sandbox.budget_args());
            self.cmd(&args).run().ok();
        }
        connected
    }
}

/// A command being put together.
pub struct Invocation<'a> {
    cli: &'a Cli,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, Option<OsString>)>,
}

impl<'a> Invocation<'a> {
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.env.push((key.into(), None));
        self
    }

    fn command(&self) -> Command {
        let mut cmd = base_command(self.cli.root.path());
        cmd.args(&self.args);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    /// Starts the command; standard input stays open (and empty) until [`Running::write_stdin`]
    /// or [`Running::wait`], unless given with [`Invocation::stdin`].
    pub fn spawn(self) -> Running<'a> {
        let mut cmd = self.command();
        cmd.stdin(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn switchboard");
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let mut stdin = child.stdin.take();
        if let Some(input) = &self.stdin {
            let mut pipe = stdin.take().unwrap();
            // A child that exits early closes the pipe; its exit status tells the story.
            let _ = pipe.write_all(input);
        }
        Running {
            cli: self.cli,
            args: self
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            child,
            stdin,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Runs to the end (standard input is closed after the given input, if any).
    pub fn run(self) -> Run {
        self.spawn().wait()
    }
}

/// A command still running.
pub struct Running<'a> {
    cli: &'a Cli,
    args: Vec<String>,
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running<'_> {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn write_stdin(&mut self, input: &[u8]) {
        if let Some(mut pipe) = self.stdin.take() {
            let _ = pipe.write_all(input);
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Closes standard input and waits (at most [`COMMAND_TIMEOUT`]) for the exit.
    pub fn wait(mut self) -> Run {
        drop(self.stdin.take());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > COMMAND_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`switchboard {}` did not finish within {COMMAND_TIMEOUT:?}",
                    self.args.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let run = Run {
            args: std::mem::take(&mut self.args),
            status,
            stdout: self.stdout.take().unwrap().join().unwrap(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
        };
        self.cli.record(&run);
        run
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `switchboard sandbox serve`, killed when dropped.
pub struct Sandbox {
    child: Child,
    /// The one ready line, exactly as printed.
    pub ready_line: String,
    pub api_base: String,
    pub api_key: String,
    stdout_rest: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Sandbox {
    /// `connections set-budget` flags for the budget the ready line announces
    /// (`providers.stripe.rate_limits`).
    pub fn budget_args(&self) -> Vec<String> {
        let ready: Value = serde_json::from_str(&self.ready_line).expect("JSON ready line");
        let limits = &ready["providers"]["stripe"]["rate_limits"];
        let mut args = Vec::new();
        for (field, flag) in [
            ("per_second", "--per-second"),
            ("per_minute", "--per-minute"),
            ("per_day", "--per-day"),
            ("concurrent", "--concurrent"),
        ] {
            if let Some(n) = limits[field].as_u64() {
                args.push(flag.to_string());
                args.push(n.to_string());
            }
        }
        assert!(
            !args.is_empty(),
            "the ready line announces a budget: {ready}"
        );
        args
    }
}

/// What a stopped sandbox printed besides its ready line.
pub struct SandboxOutput {
    pub stdout_after_ready: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Sandbox {
    pub fn start(stripe_charges: usize, seed: u64) -> Sandbox {
        Self::start_with_env(stripe_charges, seed, &[])
    }

    pub fn start_with_env(stripe_charges: usize, seed: u64, env: &[(&str, &str)]) -> Sandbox {
        Self::start_with(stripe_charges, seed, env, &[])
    }

    /// With extra `sandbox serve` arguments (e.g. `--faults SPEC`).
    pub fn start_with(
        stripe_charges: usize,
        seed: u64,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Sandbox {
        let home = std::env::temp_dir();
        let mut cmd = base_command(&home);
        cmd.args([
            "sandbox",
            "serve",
            "--stripe-charges",
            &stripe_charges.to_string(),
            "--seed",
            &seed.to_string(),
        ]);
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchboard sandbox serve");
        let stderr = drain(child.stderr.take().unwrap());
        let (tx, rx) = mpsc::channel::<String>();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let stdout_rest = std::thread::spawn(move || {
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            rest
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if !line.is_empty() => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
                panic!("the sandbox printed no ready line ({other:?}); stderr:\n{err}");
            }
        };
        let ready_line = line.trim_end_matches('\n').to_string();
        let value: Value = serde_json::from_str(&ready_line)
            .unwrap_or_else(|e| panic!("ready line is not JSON ({e}): {ready_line}"));
        let stripe = &value["providers"]["stripe"];
        let api_base = stripe["api_base"]
            .as_str()
            .expect("providers.stripe.api_base")
            .to_string();
        let api_key = stripe["api_key"]
            .as_str()
            .expect("providers.stripe.api_key")
            .to_string();
        assert!(
            api_base.starts_with("http://127.0.0.1:"),
            "loopback base: {api_base}"
        );
        assert!(api_key.starts_with("sk_test_"), "key shape: {api_key}");
        Sandbox {
            child,
            ready_line,
            api_base,
            api_key,
            stdout_rest: Some(stdout_rest),
            stderr: Some(stderr),
        }
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the exit; `None` if it did not stop.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Stops the sandbox and returns everything else it printed.
    pub fn stop(mut self) -> SandboxOutput {
        let _ = self.child.kill();
        let _ = self.child.wait();
        SandboxOutput {
            stdout_after_ready: self.stdout_rest.take().unwrap().join().unwrap(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `needle` occurs in `haystack` (non-empty needle).
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    assert!(!needle.is_empty());
    let (first, rest) = (needle[0], &needle[1..]);
    let mut start = 0;
    while let Some(pos) = haystack[start..].iter().position(|&b| b == first) {
        let at = start + pos;
        if haystack.len() - at < needle.len() {
            return false;
        }
        if &haystack[at + 1..at + needle.len()] == rest {
            return true;
        }
        start = at + 1;
    }
    false
}

/// `text` without ANSI escape sequences (log lines are coloured).
pub fn strip_ansi(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == 0x1b && text.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < text.len() && !(0x40..=0x7e).contains(&text[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// Standard base64 (with padding), to look for encoded forms of a secret.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.fff]Z`;
/// `None` for anything else (an offset other than `Z` included).
pub fn parse_rfc3339_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    match &s[19..s.len() - 1] {
        "" => {}
        frac if frac.starts_with('.')
            && frac.len() > 1
            && frac[1..].bytes().all(|c| c.is_ascii_digit()) => {}
        _ => return None,
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// Every regular file under `dir`, recursively, with its raw bytes.
pub fn read_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    read_tree_with(dir, &|path| std::fs::read(path).ok())
}

/// Like [`read_tree`], but each file is read by a `cat` child process. Needed while this process
/// holds a SQLite connection to one of the files: closing any other descriptor of a file drops
/// all of this process's POSIX locks on it, which would let another process checkpoint and
/// delete the WAL under that connection.
pub fn read_tree_from_child(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    read_tree_with(dir, &|path| {
        let out = Command::new("cat")
            .arg(path)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("run cat");
        out.status.success().then_some(out.stdout)
    })
}

fn read_tree_with(dir: &Path, read: &dyn Fn(&Path) -> Option<Vec<u8>>) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => out.extend(read_tree_with(&path, read)),
            // A WAL or SHM file may vanish between listing and reading.
            Ok(t) if t.is_file() => {
                if let Some(bytes) = read(&path) {
                    out.push((path, bytes));
                }
            }
            _ => {}
        }
    }
    out
}

/// The command lines of all processes (pid, arguments joined by NUL), read from /proc.
pub fn all_cmdlines() -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            out.push((pid, cmdline));
        }
    }
    out
}

/// SplitMix64: a small deterministic generator, so a failing seed replays exactly.
/// `switchboard connect xero --name NAME --no-browser …` against an in-process sandbox's fake
/// Xero, completed as a browser would: the printed sign-in address is followed (the fake
/// approves and redirects to the command's loopback listener). Panics unless it connects.
pub async fn connect_xero(cli: &Cli, xero: &switchboard_sandbox::OAuthControl, name: &str) {
    let mut args: Vec<String> = [
        "connect",
        "xero",
        "--name",
        name,
        "--api-base",
        &xero.api_base(),
        "--auth-url",
        &xero.authorize_url(),
        "--token-url",
        &xero.token_url(),
        "--client-id",
        xero.client_id(),
        "--redirect-port",
        "0",
        "--no-browser",
    ]
    .map(str::to_string)
    .to_vec();
    if let Some(revoke) = xero.revoke_url() {
        args.extend(["--revoke-url".to_string(), revoke]);
    }
    let status = complete_sign_in(cli, &args, &xero.authorize_url()).await;
    assert!(status.success(), "connect xero exited with {status}");
}

/// Runs a command that signs in with `--no-browser` (connect, reconnect) and plays the
/// browser: reads the sign-in address from the first line of standard output, follows it
/// (the fake approves and redirects to the CLI's loopback listener), and waits for the exit.
pub async fn complete_sign_in(
    cli: &Cli,
    args: &[String],
    authorize_url: &str,
) -> std::process::ExitStatus {
    let mut child = base_command(cli.root.path())
        .args(args)
        .arg("--data-dir")
        .arg(&cli.data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a sign-in");
    // The sign-in address comes alone on the first line of standard output.
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_string()
    })
    .await
    .unwrap();
    assert!(url.starts_with(authorize_url), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let page = reqwest::get(&url).await.expect("the fake answers");
    assert!(page.status().is_success(), "{page:?}");
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap()
}

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod helper_tests {
    #[test]
    fn helpers_work() {
        use super::*;
        assert_eq!(base64(b"sk_test_abc:"), "c2tfdGVzdF9hYmM6");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_utc("2025-03-01T12:00:00Z"),
            Some(1_740_830_400)
        );
        assert_eq!(
            parse_rfc3339_utc("2025-03-01T12:00:00.123Z"),
            Some(1_740_830_400)
        );
        assert_eq!(parse_rfc3339_utc("2025-03-01T12:00:00+00:00"), None);
        assert_eq!(parse_rfc3339_utc("2025-03-01 12:00:00Z"), None);
        assert!(contains_bytes(b"hello world", b"o w"));
        assert!(!contains_bytes(b"hello world", b"worlds"));
        assert_eq!(strip_ansi(b"\x1b[2mab\x1b[0mc"), b"abc");
    }
}
