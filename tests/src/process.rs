//! Processes with timeouts: one-shot commands, and long-running peers whose output lines the
//! tests wait for. Every wait here has a deadline; every peer is killed when dropped.

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Time a one-shot command (ip, tshark) may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// Time a peer gets to exit after SIGTERM before it is killed.
const TERMINATE_GRACE: Duration = Duration::from_secs(3);
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Where a tool comes from, so a missing one fails with the fix in the message.
const TOOL_PACKAGES: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("tshark", "tshark"),
    ("dumpcap", "wireshark-common (with tshark)"),
    ("pppoe", "pppoe"),
    ("pppoe-server", "pppoe"),
    ("l2tpns", "l2tpns"),
];

/// The full path of a tool, searched in PATH and the sbin directories (which a non-login PATH
/// may lack). Panics naming the Debian package to install when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            let package = TOOL_PACKAGES
                .iter()
                .find(|(tool, _)| *tool == name)
                .map_or(name, |(_, package)| *package);
            panic!("`{name}` is not installed: run `apt-get install -y {package}`")
        })
}

/// Runs `command` to the end with no input, killing it after `timeout`.
pub fn run(command: &mut Command, timeout: Duration) -> io::Result<Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = read_all_in_background(child.stdout.take());
    let stderr = read_all_in_background(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{command:?} did not finish within {timeout:?}"),
            ));
        }
        thread::sleep(POLL_INTERVAL);
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Runs `command` within [`COMMAND_TIMEOUT`] and returns its stdout; panics with its stderr if
/// it fails.
pub fn run_checked(command: &mut Command) -> String {
    let output = run(command, COMMAND_TIMEOUT).unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn read_all_in_background<R: Read + Send + 'static>(
    pipe: Option<R>,
) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error only shortens the output shown; the exit status is what counts.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The lines a peer printed so far, shared with the threads that read its pipes.
#[derive(Debug, Default)]
struct LineLog {
    state: Mutex<LineLogState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct LineLogState {
    lines: Vec<String>,
    open_pipes: usize,
}

impl LineLog {
    fn follow<R: Read + Send + 'static>(self: &Arc<Self>, pipe: R) {
        self.state.lock().expect("line log lock").open_pipes += 1;
        let log = Arc::clone(self);
        thread::spawn(move || {
            for line in BufReader::new(pipe).split(b'\n') {
                let Ok(line) = line else { break };
                let mut state = log.state.lock().expect("line log lock");
                state
                    .lines
                    .push(String::from_utf8_lossy(&line).trim_end().to_owned());
                log.changed.notify_all();
            }
            log.state.lock().expect("line log lock").open_pipes -= 1;
            log.changed.notify_all();
        });
    }
}

/// A long-running process (a PPPoE peer, lwIP, dumpcap). Its stderr (and stdout unless the
/// caller keeps it) is collected line by line; it is killed when dropped, and its output is
/// printed if that happens while a test panics.
#[derive(Debug)]
pub struct Peer {
    label: String,
    child: Child,
    log: Arc<LineLog>,
    status: Option<ExitStatus>,
}

impl Peer {
    /// Starts `command` with no input; stdout and stderr lines are collected.
    pub fn spawn(label: &str, mut command: Command) -> Peer {
        command.stdout(Stdio::piped());
        let mut peer = Peer::start(label, command, Stdio::null());
        if let Some(stdout) = peer.child.stdout.take() {
            peer.log.follow(stdout);
        }
        peer
    }

    /// Starts `command` with the given stdin and stdout (pipes the caller takes with
    /// [`Peer::take_stdin`] and [`Peer::take_stdout`], or another process's pipes); stderr lines
    /// are collected.
    pub fn spawn_with_stdio(
        label: &str,
        mut command: Command,
        stdin: Stdio,
        stdout: Stdio,
    ) -> Peer {
        command.stdout(stdout);
        Peer::start(label, command, stdin)
    }

    fn start(label: &str, mut command: Command, stdin: Stdio) -> Peer {
        command.stdin(stdin).stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {label} ({command:?}): {e}"));
        let log = Arc::new(LineLog::default());
        if let Some(stderr) = child.stderr.take() {
            log.follow(stderr);
        }
        Peer {
            label: label.to_owned(),
            child,
            log,
            status: None,
        }
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pids fit in i32"))
    }

    /// Every line collected so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.state.lock().expect("line log lock").lines.clone()
    }

    /// Everything collected so far, for failure messages.
    pub fn output(&self) -> String {
        self.lines().join("\n")
    }

    /// Waits until a collected line satisfies `matches` and returns it. Fails when `timeout`
    /// passes or when the process closed its output without printing such a line.
    pub fn wait_for_line(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.log.state.lock().expect("line log lock");
        loop {
            if let Some(line) = state.lines.iter().find(|l| matches(l)) {
                return Ok(line.clone());
            }
            let now = Instant::now();
            if state.open_pipes == 0 || now >= deadline {
                let why = if state.open_pipes == 0 {
                    "it closed its output first"
                } else {
                    "timed out"
                };
                return Err(format!(
                    "{}: no line with {what} within {timeout:?} ({why}); its output:\n{}",
                    self.label,
                    state.lines.join("\n")
                ));
            }
            state = self
                .log
                .changed
                .wait_timeout(state, deadline - now)
                .expect("line log lock")
                .0;
        }
    }

    /// [`Peer::wait_for_line`] for a line containing `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for_line(&format!("`{needle}`"), timeout, |l| l.contains(needle))
    }

    /// The exit status, if the process has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits at most `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Sends `signal` unless the process has exited.
    pub fn signal(&mut self, signal: Signal) {
        if self.try_status().is_none() {
            // It may exit between the check and the signal; ESRCH then is fine.
            let _ = kill(self.pid(), signal);
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after a grace period; returns how it ended.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        if let Some(status) = self.wait_exit(TERMINATE_GRACE) {
            return status;
        }
        self.signal(Signal::SIGKILL);
        self.wait_exit(TERMINATE_GRACE)
            .unwrap_or_else(|| panic!("{} survived SIGKILL", self.label))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            self.signal(Signal::SIGKILL);
            let _ = self.wait_exit(TERMINATE_GRACE);
        }
        if thread::panicking() {
            eprintln!("----- output of {} -----\n{}", self.label, self.output());
        }
    }
}
