//! Personal data masked by the detectors, everywhere the pack shows text, unless the pack is
//! written with `--include-raw`.

use serde_json::Value;

#[derive(Clone, Copy, Debug)]
pub struct Redactor {
    raw: bool,
}

impl Redactor {
    pub fn new(include_raw: bool) -> Self {
        Self { raw: include_raw }
    }

    pub fn text(&self, text: &str) -> String {
        if self.raw {
            text.to_owned()
        } else {
            muster_detect::redact_personal(text)
        }
    }

    /// True when `value` holds personal data somewhere in its strings.
    pub fn holds_personal_data(value: &Value) -> bool {
        match value {
            Value::String(s) => !muster_detect::personal_data_types(s).is_empty(),
            Value::Array(items) => items.iter().any(Self::holds_personal_data),
            Value::Object(map) => map.values().any(Self::holds_personal_data),
            _ => false,
        }
    }

    /// `value` with every string masked.
    pub fn masked(value: &Value) -> Value {
        let mut masked = value.clone();
        muster_detect::redact_personal_json(&mut masked);
        masked
    }
}
