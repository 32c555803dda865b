//! RFC 1662 "PPP in HDLC-like framing", async variant: the byte stream lwIP (PPPoS) and
//! rp-pppoe's `pppoe` (async mode) read and write. Frames are delimited by 0x7E flags; 0x7E,
//! 0x7D and control characters are escaped as 0x7D, byte ^ 0x20; each frame ends with an FCS-16.

/// Flag Sequence.
const FLAG: u8 = 0x7e;
/// Control Escape.
const ESCAPE: u8 = 0x7d;
const ESCAPE_XOR: u8 = 0x20;
/// Address and Control fields (All-Stations, UI) that start an uncompressed frame.
pub const ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];
/// FCS-16 initial value (RFC 1662 section C.2).
const FCS_INIT: u16 = 0xffff;
/// FCS-16 over a frame including its own FCS field (RFC 1662 section C.2).
const FCS_GOOD: u16 = 0xf0b8;
/// The reflected CCITT polynomial x^16 + x^12 + x^5 + 1.
const FCS_POLYNOMIAL: u16 = 0x8408;
/// Frames longer than this (unescaped) are dropped: above a 1500-byte MRU plus headers.
const MAX_FRAME: usize = 4096;

/// FCS-16 over `data`, continuing from `fcs`.
pub fn fcs16(mut fcs: u16, data: &[u8]) -> u16 {
    for &byte in data {
        fcs ^= u16::from(byte);
        for _ in 0..8 {
            fcs = if fcs & 1 != 0 {
                (fcs >> 1) ^ FCS_POLYNOMIAL
            } else {
                fcs >> 1
            };
        }
    }
    fcs
}

/// Frames one PPP packet (protocol field first, as a PPPoE session carries it) with Address
/// and Control, FCS, escapes of every control character, and flags on both sides.
pub fn encode(packet: &[u8]) -> Vec<u8> {
    let fcs = !fcs16(fcs16(FCS_INIT, &ADDRESS_CONTROL), packet);
    let mut out = Vec::with_capacity(packet.len() * 2 + 8);
    out.push(FLAG);
    let fcs_bytes = fcs.to_le_bytes();
    for &byte in ADDRESS_CONTROL.iter().chain(packet).chain(&fcs_bytes) {
        if byte < 0x20 || byte == FLAG || byte == ESCAPE {
            out.extend([ESCAPE, byte ^ ESCAPE_XOR]);
        } else {
            out.push(byte);
        }
    }
    out.push(FLAG);
    out
}

/// Why a frame between two flags was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer than 4 bytes (no room for a protocol field and an FCS).
    TooShort,
    TooLong,
    BadFcs,
    /// 0x7D right before a flag (RFC 1662 section 4.4.1: an abort).
    Aborted,
}

/// Turns an async byte stream back into frames, checking the FCS.
#[derive(Debug, Default)]
pub struct Decoder {
    frame: Vec<u8>,
    escaped: bool,
    overflow: bool,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Feeds bytes; returns each frame completed by them (without FCS, Address and Control
    /// left as sent) or why it was dropped. Empty frames (back-to-back flags) are skipped.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut frames = Vec::new();
        for &byte in bytes {
            match byte {
                FLAG => {
                    if let Some(result) = self.end_frame() {
                        frames.push(result);
                    }
                }
                ESCAPE => self.escaped = true,
                _ => {
                    let byte = if self.escaped {
                        byte ^ ESCAPE_XOR
                    } else {
                        byte
                    };
                    self.escaped = false;
                    if self.frame.len() < MAX_FRAME {
                        self.frame.push(byte);
                    } else {
                        self.overflow = true;
                    }
                }
            }
        }
        frames
    }

    fn end_frame(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        let frame = std::mem::take(&mut self.frame);
        let aborted = std::mem::take(&mut self.escaped);
        let overflow = std::mem::take(&mut self.overflow);
        if frame.is_empty() && !aborted {
            return None;
        }
        Some(if aborted {
            Err(FrameError::Aborted)
        } else if overflow {
            Err(FrameError::TooLong)
        } else if frame.len() < 4 {
            Err(FrameError::TooShort)
        } else if fcs16(FCS_INIT, &frame) != FCS_GOOD {
            Err(FrameError::BadFcs)
        } else {
            let mut frame = frame;
            frame.truncate(frame.len() - 2);
            Ok(frame)
        })
    }
}

/// The PPP packet of a decoded frame as a PPPoE session carries it: without Address and
/// Control (RFC 2516 section 7), which the frame has unless ACFC was negotiated.
pub fn strip_address_control(frame: &[u8]) -> &[u8] {
    frame.strip_prefix(&ADDRESS_CONTROL[..]).unwrap_or(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcs16_matches_the_crc16_x25_check_value() {
        // CRC-16/X-25 (the PPP FCS, complemented) of "123456789" is 0x906E.
        assert_eq!(!fcs16(FCS_INIT, b"123456789"), 0x906e);
    }

    #[test]
    fn encoded_frame_decodes_to_the_same_packet() {
        // An LCP Configure-Request with an ACCM option: 0x00 bytes and a 0x7E inside.
        let packet = [
            0xc0, 0x21, 0x01, 0x7e, 0x00, 0x0a, 0x02, 0x06, 0x00, 0x00, 0x7d, 0x00,
        ];
        let wire = encode(&packet);
        assert_eq!(wire[0], FLAG);
        assert_eq!(*wire.last().unwrap(), FLAG);
        assert!(
            wire[1..wire.len() - 1]
                .iter()
                .all(|&b| b >= 0x20 && b != FLAG),
            "every control character and flag inside is escaped: {wire:02x?}"
        );
        let frames = Decoder::new().push(&wire);
        assert_eq!(frames.len(), 1);
        let frame = frames[0].clone().unwrap();
        assert_eq!(&frame[..2], &ADDRESS_CONTROL);
        assert_eq!(strip_address_control(&frame), &packet);
    }

    #[test]
    fn frames_split_across_reads_and_shared_flags_decode() {
        let mut wire = encode(&[0xc0, 0x21, 0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4]);
        // Back-to-back frames may share one flag.
        wire.extend_from_slice(&encode(&[0x80, 0x21, 0x01, 0x02, 0x00, 0x04])[1..]);
        let mut decoder = Decoder::new();
        let mut frames = Vec::new();
        for chunk in wire.chunks(3) {
            frames.extend(decoder.push(chunk));
        }
        let frames: Vec<_> = frames.into_iter().map(Result::unwrap).collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(
            strip_address_control(&frames[1]),
            &[0x80, 0x21, 0x01, 0x02, 0x00, 0x04]
        );
    }

    #[test]
    fn corrupted_and_aborted_frames_are_dropped() {
        let mut wire = encode(&[0xc0, 0x21, 0x05, 0x01, 0x00, 0x04]);
        let middle = wire.len() / 2;
        wire[middle] ^= 0x01;
        assert_eq!(Decoder::new().push(&wire), vec![Err(FrameError::BadFcs)]);
        assert_eq!(
            Decoder::new().push(&[FLAG, 0xff, ESCAPE, FLAG]),
            vec![Err(FrameError::Aborted)]
        );
        assert_eq!(
            Decoder::new().push(&[FLAG, 0xff, 0x03, FLAG]),
            vec![Err(FrameError::TooShort)]
        );
        let mut long = vec![FLAG];
        long.extend(std::iter::repeat_n(0x41, MAX_FRAME + 1));
        long.push(FLAG);
        assert_eq!(Decoder::new().push(&long), vec![Err(FrameError::TooLong)]);
    }

    #[test]
    fn compressed_frames_keep_their_first_bytes() {
        assert_eq!(strip_address_control(&[0xc0, 0x21, 1]), &[0xc0, 0x21, 1]);
        assert_eq!(strip_address_control(&[0xff, 0x03, 0x21, 9]), &[0x21, 9]);
    }
}
