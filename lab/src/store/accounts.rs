//! Users and their tokens. Tokens are stored only as sha256 hashes.

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Store, now_ms};

/// A user's id in the store.
pub type UserId = i64;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Calls the API.
    Access,
    /// Gets new access tokens.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// The hex sha256 of a token, as it is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token: 256 bits, hex.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Store {
    /// The id of the user `email`, creating the row on first sight.
    pub fn user_id(&self, email: &str) -> rusqlite::Result<UserId> {
        let db = self.db();
        db.execute("INSERT OR IGNORE INTO users (email) VALUES (?1)", [email])?;
        db.query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
            r.get(0)
        })
    }

    /// Issues a token of `kind` for `user` that lives `lifetime_ms`.
    pub fn issue_token(
        &self,
        user: UserId,
        kind: TokenKind,
        lifetime_ms: i64,
    ) -> rusqlite::Result<String> {
        let token = new_token();
        let now = now_ms();
        let db = self.db();
        db.execute("DELETE FROM tokens WHERE expires_at < ?1", [now])?;
        db.execute(
            "INSERT INTO tokens (hash, user_id, kind, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash(&token), user, kind.as_str(), now + lifetime_ms],
        )?;
        Ok(token)
    }

    /// The user a live token of `kind` belongs to.
    pub fn token_user(&self, token: &str, kind: TokenKind) -> rusqlite::Result<Option<UserId>> {
        self.db()
            .query_row(
                "SELECT user_id FROM tokens WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3",
                params![token_hash(token), kind.as_str(), now_ms()],
                |r| r.get(0),
            )
            .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_hashed_typed_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let alice = store.user_id("alice@lab").unwrap();
        assert_eq!(store.user_id("alice@lab").unwrap(), alice);
        let access = store.issue_token(alice, TokenKind::Access, 60_000).unwrap();
        assert_eq!(access.len(), 64);
        assert_eq!(
            store.token_user(&access, TokenKind::Access).unwrap(),
            Some(alice)
        );
        assert_eq!(store.token_user(&access, TokenKind::Refresh).unwrap(), None);
        let stored: String = store
            .db()
            .query_row("SELECT hash FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, access);
        let expired = store.issue_token(alice, TokenKind::Access, -1).unwrap();
        assert_eq!(store.token_user(&expired, TokenKind::Access).unwrap(), None);
    }
}
