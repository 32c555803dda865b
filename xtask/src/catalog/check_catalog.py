"""Independent check of a catalog written by xtask's catalog module.

Parses the catalog with asn1crypto (not with the Rust code that wrote it), computes the hashes
of the listed files itself (hashlib, with its own reading of the PE headers for the
Authenticode ranges) and checks what notes/catalog.md says a catalog holds. Exit status 0: all
checks passed; 1: a check failed (the message says which); 3: asn1crypto is missing.

usage: check_catalog.py CATALOG --os OS [--hwid ID]... [--pe NAME=PATH]... [--flat NAME=PATH]...
                        [--signed-by CN]
"""

import argparse
import hashlib
import struct
import sys

try:
    from asn1crypto import cms, core, x509
except ImportError:
    print("asn1crypto is not installed: run `apt-get install python3-asn1crypto` "
          "(or `pip install asn1crypto`)", file=sys.stderr)
    sys.exit(3)

CTL = "1.3.6.1.4.1.311.10.1"
CATALOG_LIST = "1.3.6.1.4.1.311.12.1.1"
CATALOG_LIST_MEMBER = "1.3.6.1.4.1.311.12.1.2"
NAME_VALUE = "1.3.6.1.4.1.311.12.2.1"
MEMBER_INFO = "1.3.6.1.4.1.311.12.2.2"
SPC_INDIRECT_DATA = "1.3.6.1.4.1.311.2.1.4"
SPC_PE_IMAGE_DATA = "1.3.6.1.4.1.311.2.1.15"
SPC_FLAT_FILE = "1.3.6.1.4.1.311.2.1.25"
SHA1 = "1.3.14.3.2.26"
SHA256 = "2.16.840.1.101.3.4.2.1"
PE_SIP = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}"
FLAT_SIP = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}"
NAME_VALUE_FLAGS = 0x10010001


class Attribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", core.SetOf, {"spec": core.Any})]


class Attributes(core.SetOf):
    _child_spec = Attribute


class TrustedSubject(core.Sequence):
    _fields = [("identifier", core.OctetString), ("attributes", Attributes)]


class TrustedSubjects(core.SequenceOf):
    _child_spec = TrustedSubject


class Extension(core.Sequence):
    _fields = [
        ("id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("value", core.OctetString),
    ]


class Extensions(core.SequenceOf):
    _child_spec = Extension


class AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class Ctl(core.Sequence):
    _fields = [
        ("subject_usage", core.SequenceOf, {"spec": core.ObjectIdentifier}),
        ("list_identifier", core.OctetString),
        ("this_update", x509.Time),
        ("subject_algorithm", AlgorithmIdentifier),
        ("trusted_subjects", TrustedSubjects),
        ("extensions", Extensions, {"explicit": 0}),
    ]


class NameValue(core.Sequence):
    _fields = [("name", core.BMPString), ("flags", core.Integer), ("value", core.OctetString)]


class MemberInfo(core.Sequence):
    _fields = [("guid", core.BMPString), ("cert_version", core.Integer)]


class TypeAndValue(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("value", core.Any)]


class DigestInfo(core.Sequence):
    _fields = [("algorithm", AlgorithmIdentifier), ("digest", core.OctetString)]


class IndirectData(core.Sequence):
    _fields = [("data", TypeAndValue), ("digest", DigestInfo)]


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


def authenticode_hashes(image):
    """SHA-1 and SHA-256 over the Authenticode ranges, written from the PE/COFF layout."""
    expect(image[:2] == b"MZ", "test input is not a PE image")
    (pe,) = struct.unpack_from("<I", image, 0x3C)
    expect(image[pe:pe + 4] == b"PE\0\0", "test input has no PE signature")
    optional = pe + 24
    (magic,) = struct.unpack_from("<H", image, optional)
    directories = optional + {0x10B: 96, 0x20B: 112}[magic]
    checksum = optional + 64
    certificate_entry = directories + 4 * 8
    offset, size = struct.unpack_from("<II", image, certificate_entry)
    end = offset if size else len(image)
    data = image[:checksum] + image[checksum + 4:certificate_entry] + image[certificate_entry + 8:end]
    if not size:
        # Without a certificate table the file is hashed as if zero-padded to 8 bytes.
        data += b"\0" * (-len(image) % 8)
    return hashlib.sha1(data).digest(), hashlib.sha256(data).digest()


def identifier(digest):
    return (digest.hex().upper() + "\0").encode("utf-16-le")


def name_values(attributes):
    found = {}
    for attribute in attributes:
        if attribute["type"].dotted != NAME_VALUE:
            continue
        expect(len(attribute["values"]) == 1, "a name-value attribute has more than one value")
        nv = attribute["values"][0].parse(NameValue)
        expect(nv["flags"].native == NAME_VALUE_FLAGS,
               f"name-value {nv['name'].native} has flags {nv['flags'].native:#x}")
        value = nv["value"].native
        expect(value.endswith(b"\0\0"), f"name-value {nv['name'].native} is not NUL-terminated")
        found[nv["name"].native] = value[:-2].decode("utf-16-le")
    return found


def check_member(subject, expected, digest_name):
    name, kind, digest = expected
    attributes = subject["attributes"]
    encoded = [a.dump() for a in attributes]
    expect(encoded == sorted(encoded), f"{name}: attribute SET is not in DER order")
    types = sorted(a["type"].dotted for a in attributes)
    expect(types == sorted([NAME_VALUE, NAME_VALUE, MEMBER_INFO, SPC_INDIRECT_DATA]),
           f"{name}: unexpected attribute types {types}")
    values = name_values(attributes)
    expect(values == {"File": name.lower(), "OSAttr": "2:10.0"},
           f"{name}: member name-values are {values}")
    for attribute in attributes:
        kind_of = attribute["type"].dotted
        if kind_of == MEMBER_INFO:
            info = attribute["values"][0].parse(MemberInfo)
            sip = PE_SIP if kind == "pe" else FLAT_SIP
            expect(info["guid"].native == sip, f"{name}: member info SIP {info['guid'].native}")
            expect(info["cert_version"].native == 0x200, f"{name}: member info version")
        elif kind_of == SPC_INDIRECT_DATA:
            spc = attribute["values"][0].parse(IndirectData)
            data_type = spc["data"]["type"].dotted
            expect(data_type == (SPC_PE_IMAGE_DATA if kind == "pe" else SPC_FLAT_FILE),
                   f"{name}: SPC data type {data_type}")
            algorithm = spc["digest"]["algorithm"]["algorithm"].dotted
            expect(algorithm == {"sha1": SHA1, "sha256": SHA256}[digest_name],
                   f"{name}: the {digest_name} member's SPC digest algorithm is {algorithm}")
            expect(spc["digest"]["digest"].native == digest,
                   f"{name}: SPC {digest_name} digest {spc['digest']['digest'].native.hex()} "
                   f"!= independent hash {digest.hex()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("catalog")
    parser.add_argument("--os", required=True)
    parser.add_argument("--hwid", action="append", default=[])
    parser.add_argument("--pe", action="append", default=[])
    parser.add_argument("--flat", action="append", default=[])
    parser.add_argument("--signed-by")
    args = parser.parse_args()

    expected = {}
    for kind, entries in (("pe", args.pe), ("flat", args.flat)):
        for entry in entries:
            name, path = entry.split("=", 1)
            with open(path, "rb") as f:
                contents = f.read()
            if kind == "pe":
                sha1, sha256 = authenticode_hashes(contents)
            else:
                sha1, sha256 = hashlib.sha1(contents).digest(), hashlib.sha256(contents).digest()
            expected[identifier(sha1)] = ((name, kind, sha1), "sha1")
            expected[identifier(sha256)] = ((name, kind, sha256), "sha256")

    with open(args.catalog, "rb") as f:
        data = f.read()
    info = cms.ContentInfo.load(data, strict=True)
    expect(info["content_type"].dotted == "1.2.840.113549.1.7.2", "not a PKCS#7 SignedData")
    signed = info["content"]
    expect(signed["version"].native == "v1", f"SignedData version {signed['version'].native}")
    encapsulated = signed["encap_content_info"]
    expect(encapsulated["content_type"].dotted == CTL,
           f"content type {encapsulated['content_type'].dotted}, not szOID_CTL")
    # PKCS#7 style: the CTL SEQUENCE itself under [0] (an OCTET STRING around it, as CMS
    # would put, does not parse as a Ctl).
    ctl = encapsulated["content"].parse(Ctl)

    expect([o.dotted for o in ctl["subject_usage"]] == [CATALOG_LIST], "subject usage")
    expect(len(ctl["list_identifier"].native) == 16, "list identifier is not 16 bytes")
    expect(ctl["subject_algorithm"]["algorithm"].dotted == CATALOG_LIST_MEMBER,
           "subject algorithm is not szOID_CATALOG_LIST_MEMBER (a version-1 catalog)")

    subjects = ctl["trusted_subjects"]
    identifiers = [s["identifier"].native for s in subjects]
    expect(len(identifiers) == len(expected),
           f"{len(identifiers)} members, expected {len(expected)} (SHA-1 and SHA-256 per file)")
    expect(identifiers == sorted(identifiers), "members are not sorted by identifier")
    for subject in subjects:
        key = subject["identifier"].native
        expect(key in expected, f"member {key.decode('utf-16-le')!r} matches no independent "
               "hash of a listed file")
        check_member(subject, *expected[key])

    catalog_values = {}
    for extension in ctl["extensions"]:
        expect(extension["id"].dotted == NAME_VALUE, f"catalog attribute {extension['id'].dotted}")
        nv = NameValue.load(extension["value"].native, strict=True)
        expect(nv["flags"].native == NAME_VALUE_FLAGS, "catalog name-value flags")
        catalog_values[nv["name"].native] = nv["value"].native[:-2].decode("utf-16-le")
    wanted = {"OS": args.os}
    wanted.update({f"HWID{i + 1}": h.lower() for i, h in enumerate(args.hwid)})
    expect(catalog_values == wanted, f"catalog attributes {catalog_values}, expected {wanted}")

    if args.signed_by:
        signer_infos = signed["signer_infos"]
        expect(len(signer_infos) == 1, f"{len(signer_infos)} signers")
        expect(signer_infos[0]["digest_algorithm"]["algorithm"].native == "sha256",
               "the catalog signature is not SHA-256")
        names = [c.chosen.subject.native.get("common_name") for c in signed["certificates"]]
        expect(args.signed_by in names, f"signer certificates {names}")
    else:
        expect(len(signed["signer_infos"]) == 0, "an unsigned catalog has signer infos")

    print(f"catalog ok: {len(identifiers)} members, attributes {catalog_values}")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"catalog check failed: {failure}", file=sys.stderr)
        sys.exit(1)
