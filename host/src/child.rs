//! Running a scenario in a child process (the `rswan-host-run` binary), so that a driver crash,
//! a bug check, a verifier stop or a hang ends the child, not the test, and the test gets a
//! readable account of it.
#![forbid(unsafe_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report::{ChildReport, Ending};
use crate::symbols::Symbols;

/// How long a scenario may run before it counts as hung (a deadlock in the driver).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The outcome of one scenario run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: ChildReport,
    pub symbols: Symbols,
    pub image: PathBuf,
}

impl Outcome {
    /// A readable account of how the child ended.
    pub fn describe(&self) -> String {
        self.report.describe(&self.symbols)
    }

    /// The report of a scenario that passed; panics with the account of it otherwise.
    pub fn expect_ok(&self) -> &ChildReport {
        if self.report.ending != Ending::Ok {
            panic!(
                "scenario on {} did not pass: {}",
                self.image.display(),
                self.describe()
            );
        }
        &self.report
    }

    /// The driver's DbgPrintEx messages at `level` (`rswan_ndis::debug::level`), in order,
    /// without the component, level and `rswan: ` prefix the driver prints.
    pub fn driver_prints(&self, level: u32) -> Vec<String> {
        let prefix = format!(
            "component={} level={level} rswan: ",
            rswan_ndis::debug::COMPONENT_ID
        );
        self.report
            .observations
            .iter()
            .filter(|(key, _)| key == "dbgprint")
            .filter_map(|(_, value)| value.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// The value of observation `key`; panics naming it if absent.
    pub fn observation(&self, key: &str) -> &str {
        self.report.observation(key).unwrap_or_else(|| {
            panic!(
                "no observation `{key}`; the child reported {:?} and ended: {}",
                self.report.observations,
                self.describe()
            )
        })
    }
}

/// Runs `scenario` on `image` with `args` in the runner binary at `runner`.
pub fn run(runner: &Path, scenario: &str, image: &Path, args: &[&str]) -> Outcome {
    run_with_timeout(runner, scenario, image, args, DEFAULT_TIMEOUT)
}

/// Runs `scenario` with the adapter's registry key read from `file`, written first with
/// `values`, one `.reg`-style value a line such as `"PppoeLines"=dword:00000004` (the format
/// of `loader::imports::configuration`). Panics when the file cannot be written.
pub fn run_with_registry(
    runner: &Path,
    scenario: &str,
    image: &Path,
    args: &[&str],
    file: &Path,
    values: &[&str],
) -> Outcome {
    let mut text = String::from("Windows Registry Editor Version 5.00\n\n[rswan adapter]\n");
    for value in values {
        text += value;
        text.push('\n');
    }
    std::fs::write(file, text).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    let variable = format!(
        "{}={}",
        crate::loader::imports::configuration::REGISTRY_VARIABLE,
        file.display()
    );
    run_in(&["env", &variable], runner, scenario, image, args)
}

/// Runs `scenario` under a wrapper command, e.g. `["ip", "netns", "exec", "ns1"]` to run the
/// child in a network namespace.
pub fn run_in(
    wrapper: &[&str],
    runner: &Path,
    scenario: &str,
    image: &Path,
    args: &[&str],
) -> Outcome {
    run_in_with_timeout(wrapper, runner, scenario, image, args, DEFAULT_TIMEOUT)
}

/// [`run_in`] with a time limit of its own (a wrapper such as an emulator slows the child).
pub fn run_in_with_timeout(
    wrapper: &[&str],
    runner: &Path,
    scenario: &str,
    image: &Path,
    args: &[&str],
    timeout: Duration,
) -> Outcome {
    let (program, wrapper_args) = wrapper.split_first().expect("a wrapper program");
    let mut command = Command::new(program);
    command
        .args(wrapper_args)
        .arg(runner)
        .arg(scenario)
        .arg(image)
        .args(args);
    run_command(command, image, timeout)
}

pub fn run_with_timeout(
    runner: &Path,
    scenario: &str,
    image: &Path,
    args: &[&str],
    timeout: Duration,
) -> Outcome {
    let mut command = Command::new(runner);
    command.arg(scenario).arg(image).args(args);
    run_command(command, image, timeout)
}

fn run_command(mut command: Command, image: &Path, timeout: Duration) -> Outcome {
    let runner = command.get_program().to_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", runner.to_string_lossy()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.to_string(),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break format!(
                    "timed out after {} s: the driver hung (a deadlock or a lost completion)",
                    timeout.as_secs()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break format!("waiting for the child failed: {e}"),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Outcome {
        report: ChildReport::parse(&stdout, &stderr, &status),
        symbols: Symbols::for_image(image),
        image: image.to_path_buf(),
    }
}
