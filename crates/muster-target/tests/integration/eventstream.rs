//! The event-stream decoder against aws-c-event-stream's vectors (`tests/fixtures/eventstream`).

use std::path::Path;

use muster_target::eventstream::{EventStreamError, HeaderValue, Message, decode_all, encode};

fn vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/eventstream")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn one(name: &str) -> Message {
    match decode_all(&vector(name)) {
        Ok(mut m) if m.len() == 1 => m.remove(0),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn the_published_messages_decode_with_their_checksums() {
    let m = one("no-op.bin");
    assert!(m.headers.is_empty() && m.payload.is_empty());
    assert_eq!((m.prelude_crc, m.message_crc), (0x05c2_48eb, 0x7d98_c8ff));

    let m = one("application-data-no-headers.bin");
    assert_eq!(m.payload, b"{'foo':'bar'}");
    assert_eq!((m.prelude_crc, m.message_crc), (0xfd52_8c5a, 0xc365_3936));

    let m = one("one-header.bin");
    assert_eq!(
        m.headers,
        vec![(
            "content-type".to_owned(),
            HeaderValue::String("application/json".to_owned())
        )]
    );
    assert_eq!(m.header("content-type"), Some("application/json"));
    assert_eq!(m.payload, b"{'foo':'bar'}");
    assert_eq!((m.prelude_crc, m.message_crc), (0x07fd_8396, 0x8d9c_08b1));
}

#[test]
fn encoding_reproduces_the_published_bytes() {
    assert_eq!(encode(&[], b""), vector("no-op.bin"));
    assert_eq!(
        encode(&[], b"{'foo':'bar'}"),
        vector("application-data-no-headers.bin")
    );
    assert_eq!(
        encode(&[("content-type", "application/json")], b"{'foo':'bar'}"),
        vector("one-header.bin")
    );
}

#[test]
fn damaged_streams_are_errors_not_shorter_replies() {
    let mut stream = vector("one-header.bin");
    stream.extend(vector("application-data-no-headers.bin"));
    assert_eq!(decode_all(&stream).map(|m| m.len()), Ok(2));

    let cut = &stream[..stream.len() - 3];
    assert!(matches!(
        decode_all(cut),
        Err(EventStreamError::Truncated(_))
    ));

    let mut flipped = stream.clone();
    flipped[30] ^= 0x01; // inside the first message's header
    assert!(matches!(
        decode_all(&flipped),
        Err(EventStreamError::MessageCrc(0))
    ));

    let mut length = stream.clone();
    length[3] ^= 0x01; // the first total length: the prelude checksum no longer matches
    assert!(matches!(
        decode_all(&length),
        Err(EventStreamError::PreludeCrc(0))
    ));
}
