//! Tests of the test certificate and of signing with osslsigncode.

use std::fs;
use std::path::Path;

use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Sequence};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};

use super::*;
use crate::catalog::testing::{driver_image, scratch_dir};

const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// RSAPublicKey (RFC 8017).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn common_name(name: &x509_cert::name::Name) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == COMMON_NAME)
        .map(|atv| {
            der::asn1::Utf8StringRef::try_from(&atv.value)
                .expect("CN is a UTF8String")
                .as_str()
                .to_string()
        })
        .expect("the name has a CN")
}

#[test]
fn certificate_is_a_self_signed_rsa_code_signing_certificate() {
    let dir = scratch_dir("sign-certificate");
    let certificate = TestCertificate::load_or_create(&dir).unwrap();
    assert_eq!(certificate.cer_path(), dir.join("rswan-test.cer"));
    let parsed = Certificate::from_der(&read(&certificate.cer_path()))
        .expect("rswan-test.cer is a DER X.509 certificate");
    let tbs = &parsed.tbs_certificate;
    assert_eq!(common_name(&tbs.subject), SUBJECT_CN);
    assert_eq!(tbs.issuer, tbs.subject, "self-signed");
    assert_eq!(parsed.signature_algorithm.oid, SHA256_WITH_RSA);

    let key = &tbs.subject_public_key_info;
    assert_eq!(key.algorithm.oid, RSA_ENCRYPTION);
    let rsa = RsaPublicKey::from_der(key.subject_public_key.raw_bytes()).unwrap();
    assert_eq!(rsa.modulus.as_bytes().len() * 8, 2048);
    assert_eq!(rsa.public_exponent.as_bytes(), [0x01, 0x00, 0x01]);

    let extensions = tbs.extensions.as_ref().expect("extensions");
    let extension = |oid: ObjectIdentifier| {
        extensions
            .iter()
            .find(|e| e.extn_id == oid)
            .unwrap_or_else(|| panic!("no extension {oid}"))
    };
    let eku = ExtendedKeyUsage::from_der(
        extension(ObjectIdentifier::new_unwrap("2.5.29.37"))
            .extn_value
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(eku.0, vec![CODE_SIGNING]);
    let key_usage = KeyUsage::from_der(
        extension(ObjectIdentifier::new_unwrap("2.5.29.15"))
            .extn_value
            .as_bytes(),
    )
    .unwrap();
    assert!(key_usage.0.contains(KeyUsages::DigitalSignature));
    assert!(!key_usage.0.contains(KeyUsages::KeyCertSign));
}

#[test]
fn certificate_is_made_once_per_directory_and_remade_when_incomplete() {
    let dir = scratch_dir("sign-once");
    let first = TestCertificate::load_or_create(&dir).unwrap();
    let der = read(&first.cer_path());
    let again = TestCertificate::load_or_create(&dir).unwrap();
    assert_eq!(
        read(&again.cer_path()),
        der,
        "a second build reuses the certificate"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(first.key_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by others");
    }
    assert!(
        !dir.join("rswan-test.cnf").exists(),
        "the openssl config is left behind"
    );

    fs::remove_file(first.key_path()).unwrap();
    let remade = TestCertificate::load_or_create(&dir).unwrap();
    assert_ne!(
        read(&remade.cer_path()),
        der,
        "a certificate without its key is replaced"
    );
}

#[test]
fn signed_image_verifies_with_sha256_and_page_hashes() {
    let dir = scratch_dir("sign-image");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let image = dir.join("rswan.sys");
    fs::copy(driver_image(), &image).unwrap();
    assert!(verify_signature(&image, &certificate).is_err(), "unsigned");

    sign_file(&image, &certificate).unwrap();
    let verified = verify_signature(&image, &certificate).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verified,
        Verification {
            digest_algorithm: "SHA256".into(),
            page_hash_algorithm: Some("SHA256".into()),
        }
    );
    assert!(!dir.join("rswan.sys.signed.new").exists());

    // Signing again replaces the signature rather than failing or nesting.
    let once = fs::metadata(&image).unwrap().len();
    sign_file(&image, &certificate).unwrap();
    assert_eq!(fs::metadata(&image).unwrap().len(), once);
    verify_signature(&image, &certificate).unwrap();
}

#[test]
fn changed_or_foreign_signatures_do_not_verify() {
    let dir = scratch_dir("sign-negative");
    let ours = TestCertificate::load_or_create(&dir.join("ours")).unwrap();
    let theirs = TestCertificate::load_or_create(&dir.join("theirs")).unwrap();
    let image = dir.join("rswan.sys");
    fs::copy(driver_image(), &image).unwrap();
    sign_file(&image, &ours).unwrap();
    verify_signature(&image, &ours).unwrap();

    let error = verify_signature(&image, &theirs).unwrap_err().to_string();
    assert!(error.contains("signed with another certificate"), "{error}");

    let mut bytes = read(&image);
    bytes[0x400] ^= 0x01;
    fs::write(&image, bytes).unwrap();
    let error = verify_signature(&image, &ours).unwrap_err().to_string();
    assert!(error.contains("MISMATCH"), "{error}");
}

#[test]
fn signing_refuses_files_that_are_neither_images_nor_catalogs() {
    let dir = scratch_dir("sign-refuse");
    let certificate = TestCertificate::load_or_create(&dir.join("cert")).unwrap();
    let inf = dir.join("rswan.inf");
    fs::write(&inf, "[Version]\r\n").unwrap();
    let error = sign_file(&inf, &certificate).unwrap_err().to_string();
    assert!(
        error.contains("neither a PE image nor a catalog"),
        "{error}"
    );
    let missing = sign_file(&dir.join("missing.sys"), &certificate)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing.sys"), "{missing}");
}
