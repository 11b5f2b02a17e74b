//! Nothing a sender can put in a body panics a reader, and every record stays accounted for.

use muster_ingest::{BodyFormat, JsonLinesReader};
use proptest::prelude::*;

use crate::{check_accounting, data, read_bytes};

const FORMATS: [BodyFormat; 3] = [
    BodyFormat::ProtobufTraces,
    BodyFormat::ProtobufLogs,
    BodyFormat::Json,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for format in FORMATS {
            read_bytes(&bytes, format);
        }
    }

    /// Mutations of real bodies reach deep into the decoders, where random bytes rarely get.
    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (name, format) = [
            ("recv_004_v1_traces.pb", BodyFormat::ProtobufTraces),
            ("recv_006_v1_logs.pb", BodyFormat::ProtobufLogs),
            ("recv_029_v1_traces.json", BodyFormat::Json),
            ("recv_031_v1_logs.json", BodyFormat::Json),
        ][which];
        let mut bytes = data(name);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let (items, stats) = read_bytes(&bytes, format);
        prop_assert!(stats.records_mapped + stats.records_quarantined == stats.records);
        let end = cut.index(bytes.len() + 1);
        read_bytes(&bytes[..end], format);
        prop_assert!(items.len() as u64 >= stats.records_quarantined);
    }

    #[test]
    fn arbitrary_json_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,80}", 0..8)) {
        let text = lines.join("\n");
        let mut reader = JsonLinesReader::new(text.as_bytes(), "prop");
        let items: Vec<_> = reader.by_ref().collect();
        check_accounting(&items, &reader.stats());
    }
}
