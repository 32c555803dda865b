//! A minimal RADIUS authentication server (RFC 2865) for l2tpns, which sends every PAP and
//! CHAP login to RADIUS. It answers Access-Request with Access-Accept when User-Password
//! (PAP) or CHAP-Password (CHAP-MD5) matches the one account, else Access-Reject.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use md5::{Digest, Md5};

use crate::netns::NetNs;

const ACCESS_REQUEST: u8 = 1;
const ACCESS_ACCEPT: u8 = 2;
const ACCESS_REJECT: u8 = 3;
const USER_NAME: u8 = 1;
const USER_PASSWORD: u8 = 2;
const CHAP_PASSWORD: u8 = 3;
const CHAP_CHALLENGE: u8 = 60;
const HEADER_LEN: usize = 20;
/// How often the server thread checks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// One decision, for tests to check what l2tpns asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub user: String,
    pub method: Method,
    pub accepted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pap,
    Chap,
    /// Neither User-Password nor CHAP-Password.
    Unknown,
}

/// The account and secret the server checks against.
#[derive(Debug, Clone)]
pub struct Account {
    pub secret: Vec<u8>,
    pub user: Vec<u8>,
    pub password: Vec<u8>,
}

impl Account {
    /// Decides one request; returns the reply datagram and the decision, or `None` for a
    /// datagram that is not a well-formed Access-Request.
    pub fn answer(&self, request: &[u8]) -> Option<(Vec<u8>, Decision)> {
        let (&code, rest) = request.split_first()?;
        let (&id, _) = rest.split_first()?;
        let length = usize::from(u16::from_be_bytes([*request.get(2)?, *request.get(3)?]));
        if code != ACCESS_REQUEST || length < HEADER_LEN || length > request.len() {
            return None;
        }
        let authenticator: [u8; 16] = request[4..20].try_into().ok()?;
        let attributes = parse_attributes(&request[HEADER_LEN..length])?;
        let find = |kind: u8| attributes.iter().find(|(t, _)| *t == kind).map(|(_, v)| *v);
        let user = find(USER_NAME).unwrap_or_default();
        let (method, password_ok) = if let Some(hidden) = find(USER_PASSWORD) {
            let password = reveal_password(&self.secret, &authenticator, hidden)?;
            (Method::Pap, password == self.password)
        } else if let Some(chap) = find(CHAP_PASSWORD) {
            let challenge = find(CHAP_CHALLENGE).unwrap_or(&authenticator);
            (Method::Chap, chap_matches(&self.password, challenge, chap))
        } else {
            (Method::Unknown, false)
        };
        let accepted = password_ok && user == self.user;
        let reply_code = if accepted {
            ACCESS_ACCEPT
        } else {
            ACCESS_REJECT
        };
        let mut reply = vec![reply_code, id, 0, HEADER_LEN as u8];
        // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
        let digest = Md5::new()
            .chain_update(&reply)
            .chain_update(authenticator)
            .chain_update(&self.secret)
            .finalize();
        reply.extend_from_slice(&digest);
        let decision = Decision {
            user: String::from_utf8_lossy(user).into_owned(),
            method,
            accepted,
        };
        Some((reply, decision))
    }
}

fn parse_attributes(mut bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut attributes = Vec::new();
    while !bytes.is_empty() {
        let kind = *bytes.first()?;
        let len = usize::from(*bytes.get(1)?);
        if len < 2 || len > bytes.len() {
            return None;
        }
        attributes.push((kind, &bytes[2..len]));
        bytes = &bytes[len..];
    }
    Some(attributes)
}

/// Undoes User-Password hiding (RFC 2865 section 5.2): each 16-byte block is XORed with
/// MD5(secret + previous cipher block), the first with MD5(secret + Request Authenticator).
pub fn reveal_password(secret: &[u8], authenticator: &[u8; 16], hidden: &[u8]) -> Option<Vec<u8>> {
    if hidden.is_empty() || !hidden.len().is_multiple_of(16) {
        return None;
    }
    let mut password = Vec::with_capacity(hidden.len());
    let mut previous: &[u8] = authenticator;
    for block in hidden.chunks(16) {
        let pad = Md5::new()
            .chain_update(secret)
            .chain_update(previous)
            .finalize();
        password.extend(block.iter().zip(pad.iter()).map(|(c, p)| c ^ p));
        previous = block;
    }
    while password.last() == Some(&0) {
        password.pop();
    }
    Some(password)
}

/// CHAP-Password is the CHAP identifier then MD5(identifier + password + challenge)
/// (RFC 2865 section 5.3, RFC 1994 section 4.1).
fn chap_matches(password: &[u8], challenge: &[u8], chap_password: &[u8]) -> bool {
    let Some((&ident, response)) = chap_password.split_first() else {
        return false;
    };
    let expected = Md5::new()
        .chain_update([ident])
        .chain_update(password)
        .chain_update(challenge)
        .finalize();
    response == expected.as_slice()
}

/// The server: a UDP socket on 127.0.0.1:1812 inside a namespace, answered by a thread that
/// stops when this is dropped.
#[derive(Debug)]
pub struct RadiusServer {
    stop: Arc<AtomicBool>,
    decisions: Arc<Mutex<Vec<Decision>>>,
    thread: Option<JoinHandle<()>>,
}

impl RadiusServer {
    pub fn start(ns: &NetNs, account: Account) -> RadiusServer {
        let socket = ns.enter(|| UdpSocket::bind("127.0.0.1:1812").expect("bind RADIUS port"));
        socket
            .set_read_timeout(Some(STOP_CHECK))
            .expect("set a read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let decisions = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = Arc::clone(&stop);
            let decisions = Arc::clone(&decisions);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some((reply, decision)) = account.answer(&buf[..n]) {
                        // Recorded before the reply goes out: l2tpns acts on the reply at once,
                        // and a test may look as soon as it sees the effect.
                        decisions.lock().expect("decisions lock").push(decision);
                        // A lost reply is retried by l2tpns.
                        let _ = socket.send_to(&reply, from);
                    }
                }
            })
        };
        RadiusServer {
            stop,
            decisions,
            thread: Some(thread),
        }
    }

    /// Every request answered so far.
    pub fn decisions(&self) -> Vec<Decision> {
        self.decisions.lock().expect("decisions lock").clone()
    }
}

impl Drop for RadiusServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            secret: b"xyzzy5461".to_vec(),
            user: b"nemo".to_vec(),
            password: b"arctangent".to_vec(),
        }
    }

    /// RFC 2865 section 7.1: the Access-Request of user "nemo", password "arctangent", secret
    /// "xyzzy5461".
    const RFC2865_REQUEST_AUTHENTICATOR: [u8; 16] = [
        0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22,
        0x7a,
    ];
    const RFC2865_HIDDEN_PASSWORD: [u8; 16] = [
        0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a, 0x0a,
        0xee,
    ];

    fn request(attributes: &[(u8, &[u8])]) -> Vec<u8> {
        let mut packet = vec![ACCESS_REQUEST, 0, 0, 0];
        packet.extend_from_slice(&RFC2865_REQUEST_AUTHENTICATOR);
        for (kind, value) in attributes {
            packet.push(*kind);
            packet.push(u8::try_from(value.len() + 2).unwrap());
            packet.extend_from_slice(value);
        }
        let len = u16::try_from(packet.len()).unwrap().to_be_bytes();
        packet[2..4].copy_from_slice(&len);
        packet
    }

    #[test]
    fn rfc2865_example_password_is_revealed() {
        let password = reveal_password(
            b"xyzzy5461",
            &RFC2865_REQUEST_AUTHENTICATOR,
            &RFC2865_HIDDEN_PASSWORD,
        );
        assert_eq!(password.as_deref(), Some(&b"arctangent"[..]));
    }

    #[test]
    fn pap_request_of_the_rfc_example_is_accepted_and_signed() {
        let packet = request(&[
            (USER_NAME, b"nemo"),
            (USER_PASSWORD, &RFC2865_HIDDEN_PASSWORD),
        ]);
        let (reply, decision) = account().answer(&packet).unwrap();
        assert_eq!(reply[0], ACCESS_ACCEPT);
        assert_eq!(decision.method, Method::Pap);
        assert!(decision.accepted);
        let expected = Md5::new()
            .chain_update([ACCESS_ACCEPT, 0, 0, 20])
            .chain_update(RFC2865_REQUEST_AUTHENTICATOR)
            .chain_update(b"xyzzy5461")
            .finalize();
        assert_eq!(&reply[4..], expected.as_slice());
    }

    #[test]
    fn wrong_user_or_password_is_rejected() {
        let packet = request(&[
            (USER_NAME, b"eve"),
            (USER_PASSWORD, &RFC2865_HIDDEN_PASSWORD),
        ]);
        assert_eq!(account().answer(&packet).unwrap().0[0], ACCESS_REJECT);
        let mut wrong = RFC2865_HIDDEN_PASSWORD;
        wrong[0] ^= 1;
        let packet = request(&[(USER_NAME, b"nemo"), (USER_PASSWORD, &wrong)]);
        assert_eq!(account().answer(&packet).unwrap().0[0], ACCESS_REJECT);
    }

    #[test]
    fn chap_response_is_checked_against_the_challenge() {
        let challenge = [7u8; 16];
        let mut chap = vec![42u8];
        chap.extend_from_slice(
            &Md5::new()
                .chain_update([42u8])
                .chain_update(b"arctangent")
                .chain_update(challenge)
                .finalize(),
        );
        let good = request(&[
            (USER_NAME, b"nemo"),
            (CHAP_PASSWORD, &chap),
            (CHAP_CHALLENGE, &challenge),
        ]);
        let (reply, decision) = account().answer(&good).unwrap();
        assert_eq!((reply[0], decision.method), (ACCESS_ACCEPT, Method::Chap));
        chap[1] ^= 0x80;
        let bad = request(&[
            (USER_NAME, b"nemo"),
            (CHAP_PASSWORD, &chap),
            (CHAP_CHALLENGE, &challenge),
        ]);
        assert_eq!(account().answer(&bad).unwrap().0[0], ACCESS_REJECT);
    }

    #[test]
    fn malformed_datagrams_get_no_answer() {
        assert!(account().answer(&[]).is_none());
        let mut packet = request(&[(USER_NAME, b"nemo")]);
        packet[21] = 40; // attribute length past the end
        assert!(account().answer(&packet).is_none());
        let mut accept = request(&[]);
        accept[0] = ACCESS_ACCEPT;
        assert!(account().answer(&accept).is_none());
    }
}
