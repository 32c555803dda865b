//! The ASN.1 types of a security catalog's content: the certificate trust list (CTL) and the
//! Authenticode structures its members carry, with their object identifiers.
//!
//! Sources: the CTL fields are those of [MS-CAESO] ("CertificateTrustList"), the SPC types
//! those of the Authenticode PE specification ("SpcIndirectDataContent", "SpcPeImageData",
//! "SpcLink"), and the catalog attribute layouts (name-value, member info) those recorded in
//! notes/catalog.md from real catalogs.

use der::asn1::{Any, BitString, BmpString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Choice, Sequence};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

/// id-signedData (PKCS #7): the content type of a catalog.
pub const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// szOID_CTL: the content type of a catalog's SignedData.
pub const CTL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.1");
/// szOID_CATALOG_LIST: the CTL's subject usage for a catalog.
pub const CATALOG_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.1.1");
/// szOID_CATALOG_LIST_MEMBER: the subject algorithm of a version-1 catalog.
pub const CATALOG_LIST_MEMBER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.1.2");
/// CAT_NAMEVALUE_OBJID: a named string attribute (member or catalog level).
pub const CAT_NAME_VALUE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.2.1");
/// CAT_MEMBERINFO_OBJID: the subject interface package (SIP) that hashed a member.
pub const CAT_MEMBER_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.12.2.2");
/// SPC_INDIRECT_DATA_OBJID: the member's hash, in an SpcIndirectDataContent.
pub const SPC_INDIRECT_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// SPC_PE_IMAGE_DATA_OBJID: the indirect data type of a PE image.
pub const SPC_PE_IMAGE_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.15");
/// SPC_CAB_DATA_OBJID: the indirect data type catalogs give flat files such as an INF.
pub const SPC_CAB_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.25");
/// id-sha1 (OIW) and id-sha256 (NIST).
pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// CertificateTrustList ([MS-CAESO]); the optional fields a catalog leaves out
/// (version, sequenceNumber, nextUpdate) are not represented.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertificateTrustList {
    pub subject_usage: Vec<ObjectIdentifier>,
    pub list_identifier: OctetString,
    pub this_update: Time,
    pub subject_algorithm: AlgorithmIdentifierOwned,
    pub trusted_subjects: Vec<TrustedSubject>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub extensions: Vec<Extension>,
}

/// One catalog member: its identifier (the tag Windows looks it up by) and its attributes.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TrustedSubject {
    pub identifier: OctetString,
    pub attributes: SetOfVec<Attribute>,
}

/// CAT_NAMEVALUE: `value` is UTF-16LE text with a terminating NUL.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CatNameValue {
    pub name: BmpString,
    pub flags: u32,
    pub value: OctetString,
}

/// CAT_MEMBERINFO: the SIP GUID as `{XXXXXXXX-...}` text and the certificate version.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CatMemberInfo {
    pub subject_guid: BmpString,
    pub cert_version: u32,
}

/// SpcIndirectDataContent: what kind of file was hashed, and the hash.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SpcIndirectDataContent {
    pub data: SpcAttributeTypeAndValue,
    pub message_digest: DigestInfo,
}

/// SpcAttributeTypeAndOptionalValue, always with its value here.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SpcAttributeTypeAndValue {
    pub value_type: ObjectIdentifier,
    pub value: Any,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct DigestInfo {
    pub algorithm: AlgorithmIdentifierOwned,
    pub digest: OctetString,
}

/// SpcPeImageData. osslsigncode's catalog check needs the file link to be present.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SpcPeImageData {
    pub flags: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub file: SpcLink,
}

/// SpcLink, of which catalogs use only the `file` choice.
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum SpcLink {
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    File(SpcString),
}

/// SpcString, of which catalogs use only the `unicode` choice.
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum SpcString {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Unicode(BmpString),
}
