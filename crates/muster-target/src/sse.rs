//! Reading a `text/event-stream` body (server-sent events) into JSON, so a streamed reply is judged
//! and kept as evidence like any other: `{"event_stream": [{"event": name, "data": …}, …]}`.

use serde_json::{Map, Value, json};

/// The events in `text`, per the WHATWG event-stream format: fields `event:` and `data:` (several
/// `data:` lines join with newlines), `:` comments, a blank line ends an event. Each event's data is
/// kept as JSON when it parses, else as text. `None` when there is no event at all, so a body that
/// is neither JSON nor a stream still reads as malformed.
pub(crate) fn parse(text: &str) -> Option<Value> {
    let mut events = Vec::new();
    let mut name: Option<String> = None;
    let mut data: Option<String> = None;
    let mut dispatch = |name: &mut Option<String>, data: &mut Option<String>| {
        if let Some(d) = data.take() {
            let value = serde_json::from_str(&d).unwrap_or(Value::String(d));
            let mut event = Map::new();
            event.insert(
                "event".into(),
                Value::String(name.take().unwrap_or_else(|| "message".to_owned())),
            );
            event.insert("data".into(), value);
            events.push(Value::Object(event));
        }
        *name = None;
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            dispatch(&mut name, &mut data);
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            // `id:` and `retry:` matter to reconnecting browsers, not to a reply read once.
            _ => {}
        }
    }
    // A stream cut off without its final blank line still delivered its last event.
    dispatch(&mut name, &mut data);
    if events.is_empty() {
        None
    } else {
        Some(json!({ "event_stream": events }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_name_and_json_data() {
        let text = "event: ping\ndata: {\"type\": \"ping\"}\n\n: a comment\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
        assert_eq!(
            parse(text),
            Some(json!({"event_stream": [
                {"event": "ping", "data": {"type": "ping"}},
                {"event": "message_stop", "data": {"type": "message_stop"}}
            ]}))
        );
    }

    #[test]
    fn multi_line_data_joins_and_unnamed_events_are_messages() {
        let text = "data: one\ndata: two\n\ndata: {\"a\":\ndata: 1}";
        assert_eq!(
            parse(text),
            Some(json!({"event_stream": [
                {"event": "message", "data": "one\ntwo"},
                {"event": "message", "data": {"a": 1}}
            ]}))
        );
    }

    #[test]
    fn text_without_events_is_not_a_stream() {
        assert_eq!(parse("<html>maintenance</html>"), None);
        assert_eq!(parse(""), None);
    }
}
