//! Who is calling: passwords (argon2id), device tokens (random, stored as SHA-256), the bearer
//! extractor, and login rate limits per account and per address.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
use fieldbook_protocol::{DeviceInfo, UserInfo};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2id hashes any password").to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Verifying against this when the user does not exist keeps a wrong user name as slow as a
/// wrong password, so timing does not tell which user names exist.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such user; this hash only spends time"))
}

/// A new device token: 32 random bytes, base64url. Only its hash is stored.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are 256 random bits, so a fast hash is enough (no dictionary to guess from).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The caller of an authenticated request: a user on an enrolled, unrevoked device.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserInfo,
    pub device: DeviceInfo,
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(ApiError::unauthorized)?;
        let (device, user) = state.db.device_by_token(&token_hash(token)).await?.ok_or_else(ApiError::unauthorized)?;
        Ok(Actor { user, device })
    }
}

/// The client's address when the server knows it (not in in-process tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// Login attempts allowed per account and per address.
pub struct LoginLimits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimits {
    /// `per_minute` attempts per account (and three times that per address, for an office of
    /// tablets behind one NAT), with a burst of the same size.
    pub fn new(per_minute: u32) -> Self {
        let account = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        let address = NonZeroU32::new(per_minute.max(1).saturating_mul(3)).expect("at least 1");
        LoginLimits {
            per_account: RateLimiter::keyed(Quota::per_minute(account)),
            per_address: RateLimiter::keyed(Quota::per_minute(address)),
        }
    }

    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let limited = self.per_account.check_key(&username.to_lowercase()).is_err()
            || addr.is_some_and(|ip| self.per_address.check_key(&ip).is_err());
        if limited {
            Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many sign-in attempts; wait a minute and try again",
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse 电池");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse 电池", &hash));
        assert!(!verify_password("correct horse", &hash));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn login_attempts_are_limited_per_account() {
        let limits = LoginLimits::new(3);
        for _ in 0..3 {
            limits.check("zhang", None).unwrap();
        }
        assert_eq!(limits.check("ZHANG", None).unwrap_err().code, "rate_limited");
        limits.check("li", None).unwrap();
    }
}
