//! rswan's own generator of the driver package's security catalog (`rswan.cat`).
//!
//! A catalog is a PKCS#7 SignedData whose content is a certificate trust list (CTL, szOID_CTL
//! 1.3.6.1.4.1.311.10.1) listing the hashes of the package's files; signing the catalog signs
//! every file it lists ("Catalog Files and Digital Signatures" in the WDK documentation). This
//! module writes the unsigned catalog; `sign::sign_file` signs it. The layout follows what
//! Inf2Cat writes, as recorded in notes/catalog.md: per member a File and an OSAttr name-value,
//! SPC indirect data holding the hash (SpcPeImageData for a PE image, the flat-file type for an
//! INF) and member info naming the SIP that hashed it; at catalog level the OS name-value and
//! one HWIDn name-value per hardware id.
//!
//! # SHA-1 and SHA-256
//!
//! The catalog is a version-1 catalog (subject algorithm szOID_CATALOG_LIST_MEMBER) in which
//! every file is listed twice: once by its SHA-1 hash and once by its SHA-256 hash. Each
//! member's identifier is its hash as upper-case hex in UTF-16LE, and its SPC indirect data
//! holds the hash of the same algorithm, so whichever hash a verifier computes, it finds the
//! member whose identifier and digest agree with it.
//!
//! Why not the version-2 layout MakeCat writes with `CatalogVersion=2` (raw-digest identifiers,
//! CAT_MEMBERINFO2): version-1 members are the form of every catalog sample recorded in
//! notes/catalog.md (Inf2Cat's, and Microsoft's own Windows 11 catalog), while the encoding of
//! CAT_MEMBERINFO2 is not publicly documented. A version-1 catalog that lists only SHA-1 would
//! not list the package's SHA-256 hashes, which the project requires: hence the second member
//! per file. Windows hashes files with SHA-1 to look them up in a version-1 catalog (the
//! PowerShell documentation of New-FileCatalog: "Version 1 uses the (deprecated) SHA1 hashing
//! algorithm to create file hashes, and version 2 uses SHA256"), so the SHA-1 members are the ones Windows is
//! expected to find. Unverified here (no Windows machine): whether any Windows component looks
//! up the SHA-256 members; osslsigncode and the independent parser in the tests check both.

mod authenticode;
mod ctl;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerInfos};
use der::asn1::{Any, BitString, BmpString, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

use crate::Result;
use crate::arch::Arch;
use authenticode::FileDigests;
use ctl::{
    CatMemberInfo, CatNameValue, CertificateTrustList, DigestInfo, SpcAttributeTypeAndValue,
    SpcIndirectDataContent, SpcLink, SpcPeImageData, SpcString, TrustedSubject,
};

/// How a file is hashed and described in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// A PE image (`.sys`): Authenticode hash, SpcPeImageData, the PE SIP.
    Pe,
    /// Any other file (`.inf`): hash of every byte, the flat-file SIP.
    Flat,
}

/// One file of the package, to be listed in the catalog.
#[derive(Debug, Clone)]
pub struct CatalogMember {
    /// The file's name in the package folder (no directory part).
    pub file_name: String,
    pub contents: Vec<u8>,
    pub kind: MemberKind,
}

/// An unsigned catalog, ready for `sign::sign_file`.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The DER encoding of the PKCS#7 ContentInfo.
    pub der: Vec<u8>,
    /// How many members the catalog lists: two per file (SHA-1 and SHA-256).
    pub entries: usize,
}

/// Builds the unsigned catalog of `members` for the package of `arch`.
///
/// `hardware_ids` become the catalog's HWID1..n attributes (lower-cased, as Inf2Cat writes
/// them); `this_update` is the CTL's thisUpdate time (UTCTime: 1950 to 2049).
pub fn build_catalog(
    arch: Arch,
    hardware_ids: &[String],
    members: &[CatalogMember],
    this_update: SystemTime,
) -> Result<Catalog> {
    if members.is_empty() {
        return Err("a catalog needs at least one file to list".into());
    }
    let mut names = HashSet::new();
    let mut files_by_hash = HashMap::new();
    let mut subjects = Vec::with_capacity(members.len() * 2);
    for member in members {
        check_file_name(&member.file_name)?;
        if !names.insert(member.file_name.to_lowercase()) {
            return Err(format!(
                "`{}` is listed twice in the catalog (file names are compared without case)",
                member.file_name
            )
            .into());
        }
        let digests = match member.kind {
            MemberKind::Pe => authenticode::pe_image(&member.contents)
                .map_err(|e| format!("{} (listed as a PE image): {e}", member.file_name))?,
            MemberKind::Flat => authenticode::flat_file(&member.contents),
        };
        // Identical files would give two members the same identifier.
        if let Some(first) = files_by_hash.insert(digests.sha256, &member.file_name) {
            return Err(format!(
                "`{first}` and `{}` have identical contents: list such a file once",
                member.file_name
            )
            .into());
        }
        subjects.extend(members_for_file(member, &digests)?);
    }
    // Windows' catalogs list members in identifier order (notes/catalog.md).
    subjects.sort_by(|a, b| a.identifier.as_bytes().cmp(b.identifier.as_bytes()));
    let entries = subjects.len();
    Ok(Catalog {
        der: encode(arch, hardware_ids, subjects, this_update)?,
        entries,
    })
}

/// The DER of the catalog listing `subjects` (in the order given).
fn encode(
    arch: Arch,
    hardware_ids: &[String],
    subjects: Vec<TrustedSubject>,
    this_update: SystemTime,
) -> Result<Vec<u8>> {
    let ctl = CertificateTrustList {
        subject_usage: vec![ctl::CATALOG_LIST],
        list_identifier: OctetString::new(list_identifier(arch, &subjects))?,
        this_update: Time::UtcTime(UtcTime::from_system_time(this_update).map_err(|e| {
            format!("catalog time {this_update:?} does not fit a UTCTime (1950..2049): {e}")
        })?),
        subject_algorithm: algorithm(ctl::CATALOG_LIST_MEMBER),
        trusted_subjects: subjects,
        extensions: catalog_attributes(arch, hardware_ids)?,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        // PKCS#7, not CMS: the CTL sits directly under [0], with no OCTET STRING around it.
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ctl::CTL,
            econtent: Some(Any::encode_from(&ctl)?),
        },
        certificates: None,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let content_info = ContentInfo {
        content_type: ctl::SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(content_info.to_der()?)
}

/// The value of the catalog's OS attribute for a Windows 10/11 package of `arch`: the values
/// Inf2Cat writes for `/os:10_X64`, `/os:Server10_ARM64` and `/os:10_X86`.
pub fn os_attribute(arch: Arch) -> &'static str {
    match arch {
        Arch::X64 => "_v100_X64",
        Arch::Arm64 => "Server_v100_ARM64",
        Arch::X86 => "_v100",
    }
}

/// OSAttr of every member: platform 2 (Windows NT), version 10.0 (Windows 10/11, Server 2016+).
const MEMBER_OS_ATTR: &str = "2:10.0";
/// CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_DATAASCII | CRYPTCAT_ATTR_NAMEASCII.
const NAME_VALUE_FLAGS: u32 = 0x1001_0001;
/// The SIPs that hash PE images and flat files (CRYPT_SUBJTYPE_*_IMAGE in mssip.h).
const PE_SIP: &str = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}";
const FLAT_SIP: &str = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}";
/// The certificate version Inf2Cat writes in member info.
const MEMBER_CERT_VERSION: u32 = 0x200;

fn check_file_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "catalog member name `{name}` must be a plain file name (no directory part)"
        )
        .into());
    }
    Ok(())
}

/// The SHA-1 and the SHA-256 member of one file.
fn members_for_file(member: &CatalogMember, digests: &FileDigests) -> Result<[TrustedSubject; 2]> {
    Ok([
        trusted_subject(member, ctl::SHA1, &digests.sha1)?,
        trusted_subject(member, ctl::SHA256, &digests.sha256)?,
    ])
}

fn trusted_subject(
    member: &CatalogMember,
    digest_algorithm: ObjectIdentifier,
    digest: &[u8],
) -> Result<TrustedSubject> {
    let (data_type, data_value, sip) = match member.kind {
        MemberKind::Pe => (
            ctl::SPC_PE_IMAGE_DATA,
            Any::encode_from(&SpcPeImageData {
                flags: BitString::new(0, [])?,
                file: empty_file_link()?,
            })?,
            PE_SIP,
        ),
        MemberKind::Flat => (
            ctl::SPC_CAB_DATA,
            Any::encode_from(&empty_file_link()?)?,
            FLAT_SIP,
        ),
    };
    let indirect_data = SpcIndirectDataContent {
        data: SpcAttributeTypeAndValue {
            value_type: data_type,
            value: data_value,
        },
        message_digest: DigestInfo {
            algorithm: algorithm(digest_algorithm),
            digest: OctetString::new(digest)?,
        },
    };
    let member_info = CatMemberInfo {
        subject_guid: BmpString::from_utf8(sip)?,
        cert_version: MEMBER_CERT_VERSION,
    };
    let attributes = vec![
        attribute(
            ctl::CAT_NAME_VALUE,
            &name_value("File", &member.file_name.to_lowercase())?,
        )?,
        attribute(ctl::CAT_NAME_VALUE, &name_value("OSAttr", MEMBER_OS_ATTR)?)?,
        attribute(ctl::CAT_MEMBER_INFO, &member_info)?,
        attribute(ctl::SPC_INDIRECT_DATA, &indirect_data)?,
    ];
    Ok(TrustedSubject {
        identifier: OctetString::new(utf16le_nul(&hex_upper(digest)))?,
        // SetOfVec sorts its elements into DER order.
        attributes: SetOfVec::try_from(attributes)?,
    })
}

/// The catalog-level attributes: OS, then HWID1..n.
fn catalog_attributes(arch: Arch, hardware_ids: &[String]) -> Result<Vec<Extension>> {
    let mut pairs = vec![("OS".to_string(), os_attribute(arch).to_string())];
    for (index, id) in hardware_ids.iter().enumerate() {
        if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "hardware id `{id}` for the catalog is empty or contains white space"
            )
            .into());
        }
        pairs.push((format!("HWID{}", index + 1), id.to_lowercase()));
    }
    pairs
        .iter()
        .map(|(name, value)| {
            Ok(Extension {
                extn_id: ctl::CAT_NAME_VALUE,
                critical: false,
                extn_value: OctetString::new(name_value(name, value)?.to_der()?)?,
            })
        })
        .collect()
}

fn name_value(name: &str, value: &str) -> Result<CatNameValue> {
    Ok(CatNameValue {
        name: BmpString::from_utf8(name)?,
        flags: NAME_VALUE_FLAGS,
        value: OctetString::new(utf16le_nul(value))?,
    })
}

fn attribute(oid: ObjectIdentifier, value: &impl Encode) -> Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::from_der(&value.to_der()?)?])?,
    })
}

/// The file link catalogs put in a member's indirect data: a file SpcLink with an empty name.
fn empty_file_link() -> Result<SpcLink> {
    Ok(SpcLink::File(SpcString::Unicode(BmpString::from_utf8("")?)))
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::null()),
    }
}

/// Inf2Cat draws a random GUID; deriving it from the contents instead keeps the package
/// reproducible, and a different package still gets a different identifier.
fn list_identifier(arch: Arch, subjects: &[TrustedSubject]) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(os_attribute(arch));
    for subject in subjects {
        hasher.update(subject.identifier.as_bytes());
    }
    let digest = hasher.finalize();
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn utf16le_nul(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}
