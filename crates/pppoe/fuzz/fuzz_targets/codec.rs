//! Any bytes: parsing never panics, and whatever parses re-emits to a frame that parses to
//! the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rswan_pppoe::Session;
use rswan_pppoe::wire::{Discovery, DiscoveryWriter, MacAddr, SessionFrame};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Discovery::parse(data) {
        let mut buf = [0u8; 70_000];
        let mut w = DiscoveryWriter::new(&mut buf, d.dst, d.src, d.code, d.session_id)
            .expect("header fits");
        for tag in d.tags() {
            w.tag(tag.tag_type, tag.value)
                .expect("a parsed tag fits again");
        }
        let len = w.finish();
        let again = Discovery::parse(&buf[..len]).expect("re-emitted frame parses");
        assert!(again.tags().eq(d.tags()));
        assert_eq!(
            (again.code, again.session_id, again.dst, again.src),
            (d.code, d.session_id, d.dst, d.src)
        );
        assert_eq!(
            (
                again.service_name,
                again.host_uniq,
                again.ac_cookie,
                again.max_payload
            ),
            (d.service_name, d.host_uniq, d.ac_cookie, d.max_payload)
        );
    }
    if let Ok(s) = SessionFrame::parse(data) {
        let payload = &data[s.payload_range()];
        let session = Session {
            id: s.session_id,
            local: s.dst,
            peer: s.src,
            max_payload: 9000,
        };
        assert_eq!(session.decapsulate(data), Ok(payload));
        let mut copy = data.to_vec();
        let echo = Session {
            local: MacAddr(s.src.0),
            peer: s.dst,
            ..session
        };
        let len = echo.encapsulate(&mut copy, payload.len()).expect("fits");
        assert_eq!(&copy[20..len], payload);
    }
});
