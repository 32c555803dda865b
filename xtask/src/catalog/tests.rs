//! Tests of the catalog and the Authenticode hash, against independent readers: osslsigncode
//! (hash, catalog lookup, signature) and Python's asn1crypto with hashlib (check_catalog.py).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};

use super::ctl::{self, SpcIndirectDataContent};
use super::testing::{driver_image, scratch_dir, tiny_pe};
use super::*;
use crate::sign::{self, TestCertificate};

const INF_TEXT: &str = "\
[Version]\r
Signature   = \"$WINDOWS NT$\"\r
Class       = Net\r
ClassGuid   = {4d36e972-e325-11ce-bfc1-08002be10318}\r
CatalogFile = rswan.cat\r
PnpLockdown = 1\r
";
const HARDWARE_IDS: [&str; 2] = ["ROOT\\RSWAN_MP", "MS_RSWANP"];

/// 2024-06-01 00:00:00 UTC: a fixed catalog time, so two builds can be compared.
fn catalog_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_717_200_000)
}

fn hardware_ids() -> Vec<String> {
    HARDWARE_IDS.iter().map(|s| s.to_string()).collect()
}

fn pe_member(name: &str, contents: Vec<u8>) -> CatalogMember {
    CatalogMember {
        file_name: name.into(),
        contents,
        kind: MemberKind::Pe,
    }
}

fn inf_member() -> CatalogMember {
    CatalogMember {
        file_name: "rswan.inf".into(),
        contents: INF_TEXT.as_bytes().to_vec(),
        kind: MemberKind::Flat,
    }
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn write(path: &Path, contents: &[u8]) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The digest osslsigncode computes for `image` (`extract-data` writes the indirect data it
/// would sign), decoded from its output.
fn osslsigncode_digest(image: &Path, algorithm: &str) -> Vec<u8> {
    let out = image.with_extension(format!("{algorithm}.data"));
    let output = Command::new("osslsigncode")
        .args(["extract-data", "-h", algorithm, "-in"])
        .arg(image)
        .arg("-out")
        .arg(&out)
        .output()
        .expect("osslsigncode not found: run `apt-get install osslsigncode`");
    assert!(
        output.status.success(),
        "osslsigncode extract-data failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let info = ContentInfo::from_der(&read(&out)).expect("osslsigncode output is a ContentInfo");
    let signed: SignedData = info.content.decode_as().expect("SignedData");
    let indirect: SpcIndirectDataContent = signed
        .encap_content_info
        .econtent
        .expect("indirect data")
        .decode_as()
        .expect("SpcIndirectDataContent");
    indirect.message_digest.digest.as_bytes().to_vec()
}

fn assert_hashes_match_osslsigncode(path: &Path) {
    let ours = authenticode::pe_image(&read(path)).expect("our Authenticode hash");
    assert_eq!(
        osslsigncode_digest(path, "sha1"),
        ours.sha1,
        "SHA-1 of {}",
        path.display()
    );
    assert_eq!(
        osslsigncode_digest(path, "sha256"),
        ours.sha256,
        "SHA-256 of {}",
        path.display()
    );
}

#[test]
fn authenticode_hash_of_small_images_matches_osslsigncode_including_padding() {
    let dir = scratch_dir("authenticode-small");
    for pe32_plus in [false, true] {
        // 0x400 bytes is a multiple of 8; 3 and 13 trailing bytes need the zero padding.
        for trailing in [0, 3, 13] {
            let path = dir.join(format!("tiny-{pe32_plus}-{trailing}.sys"));
            write(&path, &tiny_pe(pe32_plus, trailing));
            assert_hashes_match_osslsigncode(&path);
        }
    }
}

#[test]
fn authenticode_hash_of_the_driver_image_matches_osslsigncode() {
    let dir = scratch_dir("authenticode-driver");
    let path = dir.join("rswan.sys");
    write(&path, &read(driver_image()));
    assert_hashes_match_osslsigncode(&path);
}

#[test]
fn authenticode_hash_skips_checksum_and_signature_but_not_code() {
    let dir = scratch_dir("authenticode-ranges");
    let original = tiny_pe(true, 5);
    let unsigned = authenticode::pe_image(&original).unwrap();

    let mut checksum_changed = original.clone();
    checksum_changed[0x80 + 24 + 64] ^= 0xFF;
    assert_eq!(authenticode::pe_image(&checksum_changed).unwrap(), unsigned);

    let mut code_changed = original.clone();
    code_changed[0x210] ^= 0x01;
    assert_ne!(authenticode::pe_image(&code_changed).unwrap(), unsigned);

    // Signing pads to 8 bytes, appends the certificate table and points the directory entry
    // at it: none of that is hashed.
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let path = dir.join("signed.sys");
    write(&path, &original);
    sign::sign_file(&path, &certificate).unwrap();
    let signed = read(&path);
    assert!(
        signed.len() > original.len() + 1000,
        "no signature appended"
    );
    assert_eq!(authenticode::pe_image(&signed).unwrap(), unsigned);
    assert_hashes_match_osslsigncode(&path);
}

#[test]
fn authenticode_rejects_what_is_not_a_pe_image() {
    let image = tiny_pe(true, 0);
    let error = |bytes: &[u8]| authenticode::pe_image(bytes).unwrap_err().to_string();

    assert!(error(INF_TEXT.as_bytes()).contains("MZ signature"));
    assert!(error(&image[..0x60]).contains("no PE signature"));
    assert!(error(&image[..0x90]).contains("truncated PE image"));

    let mut bad_magic = image.clone();
    bad_magic[0x80 + 24..0x80 + 26].copy_from_slice(&0x107u16.to_le_bytes());
    assert!(error(&bad_magic).contains("magic 0x107"));

    // A certificate table that does not end the file.
    let mut misplaced = image.clone();
    let entry = 0x80 + 24 + 144;
    misplaced[entry..entry + 4].copy_from_slice(&0x300u32.to_le_bytes());
    misplaced[entry + 4..entry + 8].copy_from_slice(&0x10u32.to_le_bytes());
    assert!(error(&misplaced).contains("not at the end"));
}

/// Runs check_catalog.py (asn1crypto + hashlib) on `catalog`.
fn check_with_asn1crypto(catalog: &Path, arch: Arch, files: &[(&CatalogMember, &Path)]) {
    check_with_asn1crypto_signed(catalog, arch, files, None);
}

fn check_with_asn1crypto_signed(
    catalog: &Path,
    arch: Arch,
    files: &[(&CatalogMember, &Path)],
    signed_by: Option<&str>,
) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/catalog/check_catalog.py");
    let mut command = Command::new("python3");
    command
        .arg(&script)
        .arg(catalog)
        .args(["--os", os_attribute(arch)]);
    for id in HARDWARE_IDS {
        command.args(["--hwid", id]);
    }
    for (member, path) in files {
        let kind = match member.kind {
            MemberKind::Pe => "--pe",
            MemberKind::Flat => "--flat",
        };
        command
            .arg(kind)
            .arg(format!("{}={}", member.file_name, path.display()));
    }
    if let Some(cn) = signed_by {
        command.args(["--signed-by", cn]);
    }
    let output = command
        .output()
        .expect("python3 not found: run `apt-get install python3 python3-asn1crypto`");
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(3) => panic!(
            "the independent catalog check needs asn1crypto: {stderr} \
             (`cargo xtask setup` installs it)"
        ),
        _ => panic!(
            "check_catalog.py rejected {}:\n{stderr}{}",
            catalog.display(),
            String::from_utf8_lossy(&output.stdout)
        ),
    }
}

/// The package's files on disk: the driver image (as rswan.sys), a small PE32 image and the
/// INF, with the members describing them.
struct PackageFiles {
    dir: PathBuf,
    members: Vec<CatalogMember>,
    paths: Vec<PathBuf>,
}

impl PackageFiles {
    fn new(dir: &Path) -> PackageFiles {
        let members = vec![
            pe_member("rswan.sys", read(driver_image())),
            pe_member("RsWanHelper.sys", tiny_pe(false, 3)),
            inf_member(),
        ];
        let paths = members
            .iter()
            .map(|m| {
                let path = dir.join(&m.file_name);
                write(&path, &m.contents);
                path
            })
            .collect();
        PackageFiles {
            dir: dir.to_path_buf(),
            members,
            paths,
        }
    }

    fn pairs(&self) -> Vec<(&CatalogMember, &Path)> {
        self.members
            .iter()
            .zip(self.paths.iter().map(PathBuf::as_path))
            .collect()
    }

    fn write_catalog(&self, arch: Arch) -> (PathBuf, Catalog) {
        let catalog = build_catalog(arch, &hardware_ids(), &self.members, catalog_time()).unwrap();
        let path = self.dir.join("rswan.cat");
        write(&path, &catalog.der);
        (path, catalog)
    }
}

#[test]
fn catalog_passes_the_independent_asn1crypto_check_for_every_arch() {
    let dir = scratch_dir("catalog-asn1crypto");
    let files = PackageFiles::new(&dir);
    for arch in Arch::ALL {
        let (path, catalog) = files.write_catalog(arch);
        assert_eq!(catalog.entries, 6, "two members for each of three files");
        check_with_asn1crypto(&path, arch, &files.pairs());
    }
}

#[test]
fn catalog_is_the_same_for_the_same_files() {
    let dir = scratch_dir("catalog-reproducible");
    let files = PackageFiles::new(&dir);
    let (_, first) = files.write_catalog(Arch::X64);
    let mut reordered = files.members.clone();
    reordered.reverse();
    let second = build_catalog(Arch::X64, &hardware_ids(), &reordered, catalog_time()).unwrap();
    assert_eq!(first.der, second.der);
    let arm64 = build_catalog(Arch::Arm64, &hardware_ids(), &reordered, catalog_time()).unwrap();
    assert_ne!(first.der, arm64.der);
}

#[test]
fn signed_catalog_lists_each_image_for_osslsigncode() {
    let dir = scratch_dir("catalog-osslsigncode");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let files = PackageFiles::new(&dir);
    // The package signs the images too; their catalog hash does not change.
    sign::sign_file(&files.paths[0], &certificate).unwrap();
    let (catalog, _) = files.write_catalog(Arch::X64);
    sign::sign_file(&catalog, &certificate).unwrap();

    check_with_asn1crypto_signed(&catalog, Arch::X64, &files.pairs(), Some(SUBJECT));
    for image in &files.paths[..2] {
        let verified =
            sign::verify_catalog(&catalog, image, &certificate).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ["SHA1", "SHA256"].contains(&verified.digest_algorithm.as_str()),
            "{verified:?}"
        );
    }
    let unsigned = dir.join("unsigned-rswan.sys");
    write(&unsigned, &read(driver_image()));
    sign::verify_catalog(&catalog, &unsigned, &certificate).unwrap();
}

const SUBJECT: &str = "rswan Test Signing";

/// osslsigncode stops at the first member whose digest matches, so each kind of member is
/// checked on its own: a catalog of only the SHA-1 members, and one of only the SHA-256 ones.
#[test]
fn osslsigncode_accepts_the_sha1_member_and_the_sha256_member_alone() {
    let dir = scratch_dir("catalog-per-algorithm");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let image = dir.join("rswan.sys");
    write(&image, &read(driver_image()));
    let member = pe_member("rswan.sys", read(&image));
    let digests = authenticode::pe_image(&member.contents).unwrap();
    for (algorithm, oid, digest) in [
        ("SHA1", ctl::SHA1, &digests.sha1[..]),
        ("SHA256", ctl::SHA256, &digests.sha256[..]),
    ] {
        let subject = trusted_subject(&member, oid, digest).unwrap();
        let der = encode(Arch::X64, &hardware_ids(), vec![subject], catalog_time()).unwrap();
        let catalog = dir.join(format!("{algorithm}.cat"));
        write(&catalog, &der);
        sign::sign_file(&catalog, &certificate).unwrap();
        let verified = sign::verify_catalog(&catalog, &image, &certificate)
            .unwrap_or_else(|e| panic!("{algorithm} member: {e}"));
        assert_eq!(verified.digest_algorithm, algorithm);
    }
}

#[test]
fn changed_image_is_not_in_the_catalog() {
    let dir = scratch_dir("catalog-tampered");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let files = PackageFiles::new(&dir);
    let (catalog, _) = files.write_catalog(Arch::X64);
    sign::sign_file(&catalog, &certificate).unwrap();
    sign::verify_catalog(&catalog, &files.paths[0], &certificate).unwrap();

    let mut image = read(&files.paths[0]);
    let last = image.len() - 1;
    image[last] ^= 0x01;
    let tampered = dir.join("tampered.sys");
    write(&tampered, &image);
    let error = sign::verify_catalog(&catalog, &tampered, &certificate)
        .unwrap_err()
        .to_string();
    assert!(error.contains("Catalog verification: failed"), "{error}");
    assert!(error.contains("cargo xtask package"), "{error}");
}

#[test]
fn unsigned_catalog_does_not_verify() {
    let dir = scratch_dir("catalog-unsigned");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let files = PackageFiles::new(&dir);
    let (catalog, _) = files.write_catalog(Arch::X64);
    assert!(sign::verify_catalog(&catalog, &files.paths[0], &certificate).is_err());
}

#[test]
fn bad_input_gives_errors_that_say_what_is_wrong() {
    let error = |arch: Arch, hwids: &[String], members: &[CatalogMember], time: SystemTime| {
        build_catalog(arch, hwids, members, time)
            .unwrap_err()
            .to_string()
    };
    let ids = hardware_ids();
    let now = catalog_time();
    let image = tiny_pe(true, 0);

    assert!(error(Arch::X64, &ids, &[], now).contains("at least one file"));

    let twice = [pe_member("rswan.sys", image.clone()), {
        let mut inf = inf_member();
        inf.file_name = "RSWAN.SYS".into();
        inf
    }];
    assert!(error(Arch::X64, &ids, &twice, now).contains("listed twice"));

    let same_contents = [
        pe_member("a.sys", image.clone()),
        pe_member("b.sys", image.clone()),
    ];
    assert!(error(Arch::X64, &ids, &same_contents, now).contains("identical contents"));

    let with_dir = [pe_member("x64/rswan.sys", image.clone())];
    assert!(error(Arch::X64, &ids, &with_dir, now).contains("plain file name"));

    let text_as_pe = [pe_member("rswan.inf", INF_TEXT.as_bytes().to_vec())];
    let message = error(Arch::X64, &ids, &text_as_pe, now);
    assert!(
        message.contains("rswan.inf (listed as a PE image)"),
        "{message}"
    );

    let blank_id = ["root\\rswan".to_string(), " ".to_string()];
    let members = [inf_member()];
    assert!(error(Arch::X64, &blank_id, &members, now).contains("hardware id"));

    let year_2050 = SystemTime::UNIX_EPOCH + Duration::from_secs(2_524_608_000);
    assert!(error(Arch::X64, &ids, &members, year_2050).contains("UTCTime"));
}

#[test]
fn catalog_decodes_with_the_types_that_wrote_it() {
    let members = [pe_member("rswan.sys", tiny_pe(true, 0)), inf_member()];
    let catalog = build_catalog(Arch::X86, &hardware_ids(), &members, catalog_time()).unwrap();
    let info = ContentInfo::from_der(&catalog.der).unwrap();
    let signed: SignedData = info.content.decode_as().unwrap();
    let content = signed.encap_content_info.econtent.unwrap();
    let ctl: ctl::CertificateTrustList = content.decode_as().unwrap();
    assert_eq!(ctl.trusted_subjects.len(), catalog.entries);
    assert_eq!(ctl.extensions.len(), 1 + HARDWARE_IDS.len());
    // Decoding checks that each SET OF is in DER order; encoding again gives the same bytes.
    assert_eq!(ctl.to_der().unwrap(), content.to_der().unwrap());
}
