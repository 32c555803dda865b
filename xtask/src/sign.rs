//! Test signing of the driver package: one self-signed code-signing certificate per build
//! directory, made with the openssl CLI, and signing and verifying with osslsigncode.
//!
//! A test-signed package installs only on a machine with test signing on that trusts this
//! certificate ("Installing Test-Signed Driver Packages", "The TESTSIGNING Boot Configuration
//! Option" in the WDK documentation); whether Windows accepts it is not verified here.
//! The certificate is RSA-2048 with a SHA-256 signature, key usage digitalSignature and
//! extended key usage codeSigning. `rswan-test.cer` (DER) is the file a test machine imports;
//! the private key stays in the certificate's directory, never in a package folder.

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Result;
use crate::tools::{self, Tool};

/// The certificate's file name in the package folders.
pub const CERTIFICATE_FILE: &str = "rswan-test.cer";
const CERTIFICATE_PEM_FILE: &str = "rswan-test.pem";
const KEY_FILE: &str = "rswan-test.key";
/// The subject that OPENSSL_CONFIG writes, for the tests that read it back.
#[cfg(test)]
const SUBJECT_CN: &str = "rswan Test Signing";

/// openssl req configuration of the certificate: a self-signed leaf that is its own trust
/// anchor (no CA rights), usable only for code signing.
const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = subject
x509_extensions = extensions
prompt = no
[subject]
CN = rswan Test Signing
[extensions]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
";
const VALIDITY_DAYS: &str = "3650";
/// A certificate that expires within this many seconds is replaced.
const MINIMUM_REMAINING_VALIDITY: &str = "86400";

/// The test certificate of one build directory and its private key.
#[derive(Debug, Clone)]
pub struct TestCertificate {
    dir: PathBuf,
}

impl TestCertificate {
    /// The certificate kept in `dir`, made there first if it is missing, incomplete or about
    /// to expire. Later builds reuse it, so a test machine imports it once.
    pub fn load_or_create(dir: &Path) -> Result<TestCertificate> {
        let certificate = TestCertificate {
            dir: dir.to_path_buf(),
        };
        if !certificate.is_usable()? {
            certificate.create()?;
        }
        Ok(certificate)
    }

    /// The certificate in DER form (`rswan-test.cer`), to copy into each package folder.
    pub fn cer_path(&self) -> PathBuf {
        self.dir.join(CERTIFICATE_FILE)
    }

    fn pem_path(&self) -> PathBuf {
        self.dir.join(CERTIFICATE_PEM_FILE)
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    fn is_usable(&self) -> Result<bool> {
        if ![self.cer_path(), self.pem_path(), self.key_path()]
            .iter()
            .all(|p| p.is_file())
        {
            return Ok(false);
        }
        let output = run(
            tools::OPENSSL,
            tool_command(tools::OPENSSL)?
                .args([
                    "x509",
                    "-noout",
                    "-checkend",
                    MINIMUM_REMAINING_VALIDITY,
                    "-in",
                ])
                .arg(self.pem_path()),
        )?;
        Ok(output.status.success())
    }

    fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| {
            format!(
                "creating the certificate directory {}: {e}",
                self.dir.display()
            )
        })?;
        let config = self.dir.join("rswan-test.cnf");
        let new_key = self.dir.join("rswan-test.key.new");
        let new_pem = self.dir.join("rswan-test.pem.new");
        let new_cer = self.dir.join("rswan-test.cer.new");
        fs::write(&config, OPENSSL_CONFIG)?;
        let made = run_checked(
            tools::OPENSSL,
            tool_command(tools::OPENSSL)?
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"])
                .args(["-days", VALIDITY_DAYS, "-config"])
                .arg(&config)
                .arg("-keyout")
                .arg(&new_key)
                .arg("-out")
                .arg(&new_pem),
            "making the test-signing certificate",
        )
        .and_then(|_| {
            run_checked(
                tools::OPENSSL,
                tool_command(tools::OPENSSL)?
                    .args(["x509", "-outform", "DER", "-in"])
                    .arg(&new_pem)
                    .arg("-out")
                    .arg(&new_cer),
                "writing the certificate in DER form",
            )
        });
        fs::remove_file(&config)?;
        made?;
        restrict_to_owner(&new_key)?;
        // Key first and .cer last: a run that stops half-way leaves no complete set behind,
        // so the next run makes a new one.
        fs::rename(&new_key, self.key_path())?;
        fs::rename(&new_pem, self.pem_path())?;
        fs::rename(&new_cer, self.cer_path())?;
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<()> {
    Ok(())
}

/// What osslsigncode reported for a signature or catalog that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The algorithm of the file digest that matched, e.g. `SHA256`.
    pub digest_algorithm: String,
    /// The algorithm of the page hashes, if the signature carries them.
    pub page_hash_algorithm: Option<String>,
}

/// Signs the PE image (`.sys`) or catalog (`.cat`) at `path` in place with SHA-256; a PE
/// image also gets page hashes. An existing signature is replaced.
pub fn sign_file(path: &Path, certificate: &TestCertificate) -> Result<()> {
    let head = fs::read(path)
        .map_err(|e| format!("reading {} to sign it: {e}", path.display()))?
        .into_iter()
        .take(2)
        .collect::<Vec<u8>>();
    let page_hashes = match head.as_slice() {
        b"MZ" => true,
        // A catalog is a DER SEQUENCE.
        [0x30, _] => false,
        _ => {
            return Err(format!(
                "{} is neither a PE image nor a catalog: only .sys and .cat files are signed",
                path.display()
            )
            .into());
        }
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    let signed = path.with_file_name(format!("{}.signed.new", file_name.to_string_lossy()));
    if signed.exists() {
        fs::remove_file(&signed)?;
    }
    let mut command = tool_command(tools::OSSLSIGNCODE)?;
    command
        .arg("sign")
        .arg("-certs")
        .arg(certificate.pem_path())
        .arg("-key")
        .arg(certificate.key_path())
        .args(["-h", "sha256"]);
    if page_hashes {
        command.arg("-ph");
    }
    command.arg("-in").arg(path).arg("-out").arg(&signed);
    let result = run_checked(
        tools::OSSLSIGNCODE,
        &mut command,
        &format!("signing {}", path.display()),
    );
    if let Err(error) = result {
        // osslsigncode may leave a partial output behind.
        let _ = fs::remove_file(&signed);
        return Err(error);
    }
    fs::rename(&signed, path)?;
    Ok(())
}

/// Checks the embedded signature of `path` against the test certificate alone.
pub fn verify_signature(path: &Path, certificate: &TestCertificate) -> Result<Verification> {
    let output = run_checked(
        tools::OSSLSIGNCODE,
        tool_command(tools::OSSLSIGNCODE)?
            .arg("verify")
            .arg("-CAfile")
            .arg(certificate.pem_path())
            .arg("-in")
            .arg(path),
        &format!(
            "verifying the signature of {} (was it changed after signing, or signed with \
             another certificate? `cargo xtask package` signs it again)",
            path.display()
        ),
    )?;
    parse_verification(&output)
}

/// Checks that the signed `catalog` lists `image` (by its Authenticode hash) and that the
/// catalog's signature chains to the test certificate.
pub fn verify_catalog(
    catalog: &Path,
    image: &Path,
    certificate: &TestCertificate,
) -> Result<Verification> {
    let output = run_checked(
        tools::OSSLSIGNCODE,
        tool_command(tools::OSSLSIGNCODE)?
            .arg("verify")
            .arg("-CAfile")
            .arg(certificate.pem_path())
            .arg("-catalog")
            .arg(catalog)
            .arg("-in")
            .arg(image),
        &format!(
            "checking {} against the catalog {} (did the image change after the catalog \
             was made? `cargo xtask package` makes both again)",
            image.display(),
            catalog.display()
        ),
    )?;
    parse_verification(&output)
}

fn parse_verification(output: &Output) -> Result<Verification> {
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
            .filter(|value| !value.is_empty())
    };
    let digest_algorithm = field("Message digest algorithm").ok_or_else(|| {
        format!("osslsigncode verified, but its report names no message digest:\n{text}")
    })?;
    Ok(Verification {
        digest_algorithm,
        page_hash_algorithm: field("Page hash algorithm"),
    })
}

/// A command that runs `tool`; a tool that cannot be found is an error naming the Debian
/// package that provides it.
fn tool_command(tool: Tool) -> Result<Command> {
    Ok(Command::new(tools::require(tool)?))
}

fn run(tool: Tool, command: &mut Command) -> Result<Output> {
    Ok(command
        .output()
        .map_err(|e| format!("running {}: {e}", tool.command))?)
}

/// Like `run`, but a failing exit status is an error that shows the tool's output.
fn run_checked(tool: Tool, command: &mut Command, doing: &str) -> Result<Output> {
    let output = run(tool, command)?;
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let report = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|line| !line.trim().is_empty())
            .collect::<Vec<_>>();
        let tail = &report[report.len().saturating_sub(25)..];
        return Err(format!(
            "{doing}: {} failed ({}):\n  {}",
            tool.command,
            output.status,
            tail.join("\n  ")
        )
        .into());
    }
    Ok(output)
}
