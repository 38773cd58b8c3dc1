//! The database's schema, as numbered migrations. `PRAGMA user_version`
//! holds how many have been applied; each runs once, in a transaction.

use rusqlite::Connection;

/// Every migration, in order. Append only: a shipped migration never
/// changes.
const MIGRATIONS: &[&str] = &[
    // 1: users, tokens, models, datasets, benchmarks and their artifacts.
    "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX tokens_expiry ON tokens(expires_at);
    CREATE TABLE models (
        ref TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        uploaded_at INTEGER NOT NULL
    );
    CREATE INDEX models_user ON models(user_id);
    CREATE TABLE datasets (
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, name)
    );
    CREATE TABLE benchmarks (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'queued', 'running', 'success', 'failed', 'canceled')),
        benchmark_type TEXT NOT NULL,
        device TEXT NOT NULL,
        engine TEXT NOT NULL,
        model_file_name TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        dataset_name TEXT,
        dataset_sha256 TEXT,
        parameters TEXT,
        nb_inference INTEGER,
        target_uids TEXT,
        target_uid TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        job_token TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
    );
    CREATE INDEX benchmarks_user ON benchmarks(user_id, seq DESC);
    CREATE INDEX benchmarks_status ON benchmarks(status, seq);
    CREATE TABLE artifacts (
        benchmark_id TEXT NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (benchmark_id, name)
    );
    ",
];

/// Brings the schema up to date. A database newer than this vlab is
/// refused rather than guessed at.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<(), String>> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        return Ok(Err(format!(
            "the database has schema version {applied}, newer than this vlab's {}; \
             use a newer vlab",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_refuse_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap().unwrap();
        migrate(&mut conn).unwrap().unwrap();
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        let refused = migrate(&mut conn).unwrap().unwrap_err();
        assert!(refused.contains("schema version 99"), "{refused}");
    }
}
