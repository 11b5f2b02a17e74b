//! Personal data, UK first and international.

use crate::finding::{Finding, FindingKind};
use crate::identifier::{IdentifierKind, identifiers};

/// A type of personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    Email,
    Phone,
    UkNino,
    NhsNumber,
    UkPostcode,
    SortCode,
    AccountNumber,
    Iban,
    PaymentCard,
    DateOfBirth,
    IpAddress,
    UkPassport,
    UkDrivingLicence,
    PersonName,
    StreetAddress,
}

impl PiiKind {
    pub const ALL: [PiiKind; 15] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::UkNino,
        PiiKind::NhsNumber,
        PiiKind::UkPostcode,
        PiiKind::SortCode,
        PiiKind::AccountNumber,
        PiiKind::Iban,
        PiiKind::PaymentCard,
        PiiKind::DateOfBirth,
        PiiKind::IpAddress,
        PiiKind::UkPassport,
        PiiKind::UkDrivingLicence,
        PiiKind::PersonName,
        PiiKind::StreetAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::UkNino => "uk-nino",
            PiiKind::NhsNumber => "nhs-number",
            PiiKind::UkPostcode => "uk-postcode",
            PiiKind::SortCode => "sort-code",
            PiiKind::AccountNumber => "account-number",
            PiiKind::Iban => "iban",
            PiiKind::PaymentCard => "payment-card",
            PiiKind::DateOfBirth => "date-of-birth",
            PiiKind::IpAddress => "ip-address",
            PiiKind::UkPassport => "uk-passport",
            PiiKind::UkDrivingLicence => "uk-driving-licence",
            PiiKind::PersonName => "person-name",
            PiiKind::StreetAddress => "street-address",
        }
    }

    pub fn from_name(name: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Appends every personal-data finding in `text` to `out`.
pub fn find(text: &str, out: &mut Vec<Finding>) {
    for id in identifiers(text) {
        let kind = match id.kind {
            IdentifierKind::Email => PiiKind::Email,
            IdentifierKind::Phone => PiiKind::Phone,
        };
        out.push(Finding {
            kind: FindingKind::Personal(kind),
            start: id.span.start,
            end: id.span.end,
            confidence: 0.9,
            validator: None,
        });
    }
}
