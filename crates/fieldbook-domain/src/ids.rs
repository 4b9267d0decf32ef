//! Newtype ids. Every record Fieldbook creates is named by a UUIDv7 made where the record is
//! made (on the device, offline), so two devices never need to agree on a counter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| InvalidInput::MalformedId { what: $what, value: text.to_owned() })
            }
        }
    };
}

uuid_id!(CustomerId, "customer id");
uuid_id!(SiteId, "site id");
uuid_id!(AssetId, "asset id");
uuid_id!(UserId, "user id");
uuid_id!(WorkOrderId, "work order id");
uuid_id!(PolicyId, "service policy id");
uuid_id!(TemplateId, "checklist template id");
uuid_id!(ResultId, "inspection result id");
uuid_id!(FaultRecordId, "fault record id");
uuid_id!(PartUsageId, "part usage id");
uuid_id!(SignOffId, "sign-off id");
uuid_id!(NoteId, "note id");
uuid_id!(MutationId, "mutation id");
uuid_id!(ScheduleId, "patrol schedule id");

/// A content id: the lowercase hex SHA-256 of a blob (a photo or a signature image). The id
/// is the hash, so a blob that arrives twice is stored once and a changed byte is a new id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
pub struct BlobId(String);

impl BlobId {
    /// The id of these bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BlobId {
    type Err = InvalidInput;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let is_hex = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if is_hex {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidInput::MalformedId {
                what: "blob id (64 lowercase hex digits of SHA-256)",
                value: text.to_owned(),
            })
        }
    }
}

impl TryFrom<String> for BlobId {
    type Error = InvalidInput;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<BlobId> for String {
    fn from(id: BlobId) -> Self {
        id.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = WorkOrderId::new();
        assert_eq!(id.to_string().parse::<WorkOrderId>().unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_refused_with_what_was_expected() {
        let err = "not-a-uuid".parse::<WorkOrderId>().unwrap_err();
        assert!(err.to_string().contains("work order id"), "{err}");
        assert!("../etc/passwd".parse::<BlobId>().is_err());
        assert!("ABCDEF".repeat(11)[..64].parse::<BlobId>().is_err(), "uppercase hex is refused");
    }

    #[test]
    fn blob_id_is_the_sha256_of_the_bytes() {
        let id = BlobId::of_bytes(b"abc");
        assert_eq!(id.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(id.as_str().parse::<BlobId>().unwrap(), id);
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let first = ResultId::new();
        let second = ResultId::new();
        assert!(first < second);
    }
}
