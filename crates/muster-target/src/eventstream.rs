//! AWS event-stream framing (`application/vnd.amazon.eventstream`), as ConverseStream answers.
//!
//! Each message: total length (u32), headers length (u32), CRC32 of those 8 bytes, headers, payload,
//! CRC32 of everything before it. All integers are big-endian; the CRC is CRC-32/ISO-HDLC (the
//! zlib one). A message whose lengths or checksums do not add up is an error, never skipped: a
//! damaged stream must make the turn inconclusive, not shorten the reply.

use crc::{CRC_32_ISO_HDLC, Crc};

const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);
/// Prelude (12 bytes) plus the message CRC (4).
const OVERHEAD: usize = 16;

/// One header value; the type byte on the wire picks the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    String(String),
    /// Milliseconds since the epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
    pub prelude_crc: u32,
    pub message_crc: u32,
}

impl Message {
    /// A string header's value (`:message-type`, `:event-type`, `:exception-type`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventStreamError {
    #[error("the stream ends inside a message (at byte {0})")]
    Truncated(usize),
    #[error("a message at byte {at} declares impossible lengths")]
    BadLength { at: usize },
    #[error("the prelude checksum of the message at byte {0} is wrong")]
    PreludeCrc(usize),
    #[error("the checksum of the message at byte {0} is wrong")]
    MessageCrc(usize),
    #[error("a header of the message at byte {at} is malformed: {why}")]
    BadHeader { at: usize, why: &'static str },
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Decode every message in `bytes`, which must end exactly at a message boundary.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Message>, EventStreamError> {
    let mut messages = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (message, len) = decode_one(&bytes[at..]).map_err(|e| shift(e, at))?;
        messages.push(message);
        at += len;
    }
    Ok(messages)
}

/// Errors report positions within the whole stream, not within one message.
fn shift(e: EventStreamError, by: usize) -> EventStreamError {
    match e {
        EventStreamError::Truncated(a) => EventStreamError::Truncated(a + by),
        EventStreamError::BadLength { at } => EventStreamError::BadLength { at: at + by },
        EventStreamError::PreludeCrc(a) => EventStreamError::PreludeCrc(a + by),
        EventStreamError::MessageCrc(a) => EventStreamError::MessageCrc(a + by),
        EventStreamError::BadHeader { at, why } => EventStreamError::BadHeader { at: at + by, why },
    }
}

fn decode_one(bytes: &[u8]) -> Result<(Message, usize), EventStreamError> {
    let total = be_u32(bytes, 0).ok_or(EventStreamError::Truncated(0))? as usize;
    let headers_len = be_u32(bytes, 4).ok_or(EventStreamError::Truncated(0))? as usize;
    let prelude_crc = be_u32(bytes, 8).ok_or(EventStreamError::Truncated(0))?;
    if CRC32.checksum(&bytes[..8]) != prelude_crc {
        return Err(EventStreamError::PreludeCrc(0));
    }
    if total < OVERHEAD || headers_len > total - OVERHEAD {
        return Err(EventStreamError::BadLength { at: 0 });
    }
    if bytes.len() < total {
        return Err(EventStreamError::Truncated(bytes.len()));
    }
    let message_crc = be_u32(bytes, total - 4).ok_or(EventStreamError::Truncated(0))?;
    if CRC32.checksum(&bytes[..total - 4]) != message_crc {
        return Err(EventStreamError::MessageCrc(0));
    }
    let headers = decode_headers(&bytes[12..12 + headers_len])?;
    let payload = bytes[12 + headers_len..total - 4].to_vec();
    Ok((
        Message {
            headers,
            payload,
            prelude_crc,
            message_crc,
        },
        total,
    ))
}

fn decode_headers(mut bytes: &[u8]) -> Result<Vec<(String, HeaderValue)>, EventStreamError> {
    let bad = |why| EventStreamError::BadHeader { at: 0, why };
    let take = |n: usize, bytes: &mut &[u8]| -> Result<Vec<u8>, EventStreamError> {
        if bytes.len() < n {
            return Err(bad("it runs past the headers"));
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head.to_vec())
    };
    let mut headers = Vec::new();
    while !bytes.is_empty() {
        let name_len = usize::from(take(1, &mut bytes)?[0]);
        let name = String::from_utf8(take(name_len, &mut bytes)?)
            .map_err(|_| bad("the name is not UTF-8"))?;
        let kind = take(1, &mut bytes)?[0];
        let fixed = |b: Vec<u8>| -> [u8; 8] {
            let mut out = [0u8; 8];
            out[8 - b.len()..].copy_from_slice(&b);
            out
        };
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes([take(1, &mut bytes)?[0]])),
            3 => {
                let b = take(2, &mut bytes)?;
                HeaderValue::Short(i16::from_be_bytes([b[0], b[1]]))
            }
            4 => {
                let b = take(4, &mut bytes)?;
                HeaderValue::Int(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            5 => HeaderValue::Long(i64::from_be_bytes(fixed(take(8, &mut bytes)?))),
            6 | 7 => {
                let b = take(2, &mut bytes)?;
                let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
                let data = take(len, &mut bytes)?;
                if kind == 6 {
                    HeaderValue::Bytes(data)
                } else {
                    HeaderValue::String(
                        String::from_utf8(data).map_err(|_| bad("a string value is not UTF-8"))?,
                    )
                }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(fixed(take(8, &mut bytes)?))),
            9 => {
                let mut uuid = [0u8; 16];
                uuid.copy_from_slice(&take(16, &mut bytes)?);
                HeaderValue::Uuid(uuid)
            }
            _ => return Err(bad("unknown value type")),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

/// Encode a message with string headers (what a ConverseStream event carries). Used by test
/// stand-ins; decoding is what the adapter needs.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(usize::from(u16::MAX))];
        head.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        head.extend_from_slice(name);
        head.push(7);
        head.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        head.extend_from_slice(value);
    }
    let total = u32::try_from(OVERHEAD + head.len() + payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_be_bytes());
    let prelude_crc = CRC32.checksum(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    let message_crc = CRC32.checksum(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}
