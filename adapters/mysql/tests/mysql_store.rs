//! `MysqlStore` against a real MySQL/MariaDB server, each test in a scratch database of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`; the
//! database in the path is replaced by the scratch one). When it cannot be reached every test
//! prints why and passes, except with `CI=true`: then it fails.

use std::sync::Arc;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};
use zoho_oauth::conformance::{self, token, LockEvidence, LockScope, Profile, UnreleasedSaves};
use zoho_oauth::core::{DataCenter, Environment, Instant};
use zoho_oauth::{CredentialKey, StoreError, TokenStore};
use zoho_oauth_mysql::{MysqlStore, SCHEMA_VERSION};

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";
const CLIENT_ID: &str = "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG";

/// A database of its own on the test server, dropped at the end of the test.
struct Scratch {
    admin: Conn,
    name: String,
    url: String,
}

impl Scratch {
    /// `None` (after saying why) when the server is unreachable and `CI` is not `true`.
    fn new() -> Option<Self> {
        let base =
            std::env::var("ZOHO_OAUTH_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let connected = Opts::from_url(&base)
            .map_err(mysql::Error::from)
            .and_then(Conn::new);
        let mut admin = conformance::connected_or_skip(
            &format!("MySQL/MariaDB at ZOHO_OAUTH_TEST_MYSQL_URL (default {DEFAULT_URL})"),
            connected,
        )?;
        let name = conformance::scratch_name();
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .and_then(|()| admin.query_drop(format!("CREATE DATABASE {name}")))
            .expect("create the scratch database");
        let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
        let url = format!("{prefix}/{name}");
        Some(Self { admin, name, url })
    }

    fn store(&self) -> MysqlStore {
        MysqlStore::connect(&self.url).expect("connect the store")
    }

    /// Run `sql` in the scratch database.
    fn execute(&mut self, sql: &str) {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        self.admin.query_drop(sql).expect("admin statement");
    }

    /// The SDKs' view of a row: `select * from oauthtoken where user_name='…' limit 1`.
    fn sdk_row(&mut self, user: &str) -> Vec<Option<String>> {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        let row: mysql::Row = self
            .admin
            .exec_first(
                "select * from oauthtoken where user_name = ? limit 1",
                (user,),
            )
            .unwrap()
            .expect("the SDK finds the row");
        (0..10)
            .map(|i| row.get::<Option<String>, _>(i).unwrap())
            .collect()
    }

    fn count(&mut self, sql: &str) -> i64 {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        self.admin.query_first(sql).unwrap().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self
            .admin
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

fn key(user: &str) -> CredentialKey {
    CredentialKey::new(user, CLIENT_ID, DataCenter::Eu, Environment::Production)
}

/// The table as the SDKs' documentation creates it, with one row as the Python SDK's
/// `DBStore.save_token` inserts it after a grant-token exchange.
const SDK_TABLE_AND_ROW: &str = "
    CREATE TABLE oauthtoken (
      id varchar(10) NOT NULL,
      user_name varchar(255),
      client_id varchar(255),
      client_secret varchar(255),
      refresh_token varchar(255),
      access_token varchar(255),
      grant_token varchar(255),
      expiry_time varchar(20),
      redirect_url varchar(255),
      api_domain varchar(255),
      primary key (id)
    );
    insert into oauthtoken (id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain)
    values ('1','ana@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b',
            '1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d',
            '1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',
            '1000.ab12cd34ef56ab78cd90ef12ab34cd56.78ef90ab12cd34ef56ab78cd90ef12ab',
            '1717003600000','https://app.example.com/oauth/callback','https://www.zohoapis.eu');
";

/// How often the conformance lock check asks the server about lock waits. InnoDB serves `INNODB_TRX`,
/// `INNODB_LOCKS` and `INNODB_LOCK_WAITS` from one buffer that it refreshes only when it was last
/// read more than 0.1 s ago (MySQL manual, "Persistence and Consistency of InnoDB Transaction and
/// Locking Information"): polled more often, it keeps showing its first snapshot forever, taken
/// before the waiter blocked. Not a sleep standing in for synchronisation: the condition is the
/// server's own view, this is only the pace of asking.
const LOCK_VIEW_POLL: Duration = Duration::from_millis(200);

#[test]
fn each_credential_is_one_row_of_oauthtoken() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let keys = conformance::keys();
    for (i, k) in keys.iter().enumerate() {
        store.save(k, &token(i as u64)).unwrap();
    }
    store.save(&keys[0], &token(0)).unwrap();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM oauthtoken"),
        keys.len() as i64
    );
}

#[test]
fn a_schema_from_a_newer_version_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    store.save(&conformance::keys()[0], &token(1)).unwrap();
    drop(store);
    db.execute(&format!(
        "UPDATE zoho_oauth_schema SET version = {}",
        SCHEMA_VERSION + 1
    ));
    match MysqlStore::connect(&db.url) {
        Err(StoreError::FutureVersion(why)) => assert!(why.contains("version 2"), "{why}"),
        other => panic!("expected FutureVersion, got {other:?}"),
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 1);
}

#[test]
fn a_table_of_an_sdk_older_than_v5_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(
        "CREATE TABLE oauthtoken (id varchar(255) NOT NULL, user_mail varchar(255) NOT NULL, \
         client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), \
         access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), \
         redirect_url varchar(255), primary key (id))",
    );
    match MysqlStore::connect(&db.url) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("user_name"), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let columns = db.count(
        "SELECT COUNT(*) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'oauthtoken'",
    );
    assert_eq!(columns, 9, "no column was added");
}

#[test]
fn stored_state_from_a_newer_encoding_is_refused_and_garbage_is_reported_corrupt() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let (ana, bo) = (key("ana@example.com"), key("bo@example.com"));
    store.save(&ana, &token(1)).unwrap();
    store.save(&bo, &token(2)).unwrap();
    // Byte 4 (1-based) is the encoding version, after the magic `ZOT`.
    db.execute(
        "UPDATE oauthtoken SET zo_state = CONCAT(SUBSTRING(zo_state, 1, 3), \
         CHAR(ASCII(SUBSTRING(zo_state, 4, 1)) + 1), SUBSTRING(zo_state, 5)) \
         WHERE user_name = 'ana@example.com'",
    );
    db.execute(
        "UPDATE oauthtoken SET zo_state = X'3c68746d6c3e' WHERE user_name = 'bo@example.com'",
    );
    assert!(matches!(
        store.load(&ana),
        Err(StoreError::FutureVersion(_))
    ));
    assert!(matches!(store.load(&bo), Err(StoreError::Corrupt(_))));
}

#[test]
fn the_mysql_store_passes_every_conformance_check_against_a_second_connection() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let other = Arc::new(db.store());
    // The server itself says when a connection waits for a row lock of this database's lock
    // table (during the lock check, only the other store's can).
    let lock_table = format!("`{}`.`zoho_oauth_lock`", db.name);
    let mut waiting = || {
        let n: Option<i64> = db
            .admin
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS w \
                 JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id \
                 WHERE l.lock_table = ?",
                (&lock_table,),
            )
            .unwrap();
        n == Some(1)
    };
    conformance::run_all(
        &store,
        other,
        Profile {
            lock_evidence: LockEvidence::BackendSaysWaiting {
                every: LOCK_VIEW_POLL,
                waiting: &mut waiting,
            },
            ..Profile::new(UnreleasedSaves::RolledBack, LockScope::Key)
        },
    );
}

#[test]
fn the_lock_serialises_read_modify_write_across_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::locked_increments_across_processes(
        "the_lock_serialises_read_modify_write_across_processes",
        &db.url,
        |url| MysqlStore::connect(url).unwrap(),
    );
}

#[test]
fn a_row_written_by_the_official_sdk_is_read_and_listed() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE_AND_ROW);
    // Not credentials: a row still waiting for its grant exchange, and one for a custom domain.
    db.execute(
        "insert into oauthtoken (id,user_name,client_id,grant_token) \
         values ('2','bo@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef')",
    );
    db.execute(
        "insert into oauthtoken (id,user_name,client_id,refresh_token,api_domain) \
         values ('3','cy@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','1000.aa.bb','https://crm.example.org')",
    );
    let store = db.store();
    let ana = key("ana@example.com");
    assert_eq!(store.list().unwrap(), vec![ana.clone()]);

    let token = store.load(&ana).unwrap().expect("the SDK's row");
    assert_eq!(
        token.refresh_token.expose(),
        "1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
    );
    assert_eq!(
        token.access_token.as_ref().map(|a| a.expose()),
        Some("1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d")
    );
    assert_eq!(token.expires_at, Instant::from_millis(1_717_003_600_000));
    assert_eq!(token.api_domain.as_str(), "https://www.zohoapis.eu");
    // The same user in another data centre is another credential, which the SDK row is not.
    let mut us = ana.clone();
    us.data_center = DataCenter::Us;
    assert_eq!(store.load(&us).unwrap(), None);
}

#[test]
fn saving_over_an_sdk_row_updates_it_in_place_and_keeps_what_the_store_does_not_know() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE_AND_ROW);
    let store = db.store();
    let ana = key("ana@example.com");
    store.save(&ana, &token(5)).unwrap();

    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 1);
    let row = db.sdk_row("ana@example.com");
    let t = token(5);
    assert_eq!(row[0].as_deref(), Some("1"), "same id");
    assert_eq!(row[2].as_deref(), Some(CLIENT_ID));
    assert_eq!(
        row[3].as_deref(),
        Some("5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b"),
        "client_secret kept"
    );
    assert_eq!(row[4].as_deref(), Some(t.refresh_token.expose()));
    assert_eq!(
        row[5].as_deref(),
        t.access_token.as_ref().map(|a| a.expose())
    );
    assert_eq!(
        row[6].as_deref(),
        Some("1000.ab12cd34ef56ab78cd90ef12ab34cd56.78ef90ab12cd34ef56ab78cd90ef12ab"),
        "grant_token kept"
    );
    assert_eq!(row[7], Some(t.expires_at.as_millis().to_string()));
    assert_eq!(
        row[8].as_deref(),
        Some("https://app.example.com/oauth/callback"),
        "redirect_url kept"
    );
    assert_eq!(
        row[9].as_deref(),
        Some("https://www.zohoapis.com"),
        "the token's api_domain"
    );
    assert_eq!(store.load(&ana).unwrap(), Some(t));
}

#[test]
fn a_row_the_store_inserts_is_readable_the_way_the_sdk_reads_it() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let mut t = token(7);
    t.api_domain.clear(); // Zoho sent none: the key's data centre and environment fill the column.
    let mut bo = key("bo@example.com");
    bo.environment = Environment::Sandbox;
    store.save(&bo, &t).unwrap();
    store.save(&key("cy@example.com"), &token(8)).unwrap();

    let row = db.sdk_row("bo@example.com");
    let id: u64 = row[0].as_deref().unwrap().parse().expect("a numeric id");
    assert_eq!(row[1].as_deref(), Some("bo@example.com"));
    assert_eq!(row[2].as_deref(), Some(CLIENT_ID));
    assert_eq!(
        row[3].as_deref(),
        Some(""),
        "client_secret is not known to a store"
    );
    assert_eq!(row[4].as_deref(), Some(t.refresh_token.expose()));
    assert_eq!(
        row[5].as_deref(),
        t.access_token.as_ref().map(|a| a.expose())
    );
    assert_eq!(row[6], None);
    assert_eq!(row[7], Some(t.expires_at.as_millis().to_string()));
    assert_eq!(row[8], None);
    assert_eq!(row[9].as_deref(), Some("https://sandbox.zohoapis.eu"));
    // The SDK's generate_id: int(max(id)) + 1 must not collide.
    let max = db.count("SELECT CAST(MAX(id) AS UNSIGNED) FROM oauthtoken");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM oauthtoken WHERE id = '{}'",
            max + 1
        )),
        0
    );
    assert!(id >= 1);
    // And the store still reads its own row exactly (the empty api_domain included).
    assert_eq!(store.load(&bo).unwrap(), Some(t));
}

#[test]
fn a_refresh_the_sdk_writes_after_the_store_wins_and_keeps_the_mint_budget() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let ana = key("ana@example.com");
    let before = token(1);
    store.save(&ana, &before).unwrap();
    // What the Python SDK's save_token does after its own refresh.
    db.execute(
        "update oauthtoken set user_name='ana@example.com',access_token='1000.1111222233334444aaaabbbbccccdddd.eeeeffff00001111222233334444aaaa',\
         expiry_time='1717090000000' where user_name='ana@example.com' limit 1",
    );
    let after = store.load(&ana).unwrap().unwrap();
    assert_eq!(
        after.access_token.as_ref().map(|a| a.expose()),
        Some("1000.1111222233334444aaaabbbbccccdddd.eeeeffff00001111222233334444aaaa")
    );
    assert_eq!(after.expires_at, Instant::from_millis(1_717_090_000_000));
    assert_eq!(after.refresh_token, before.refresh_token);
    assert_eq!(after.mints, before.mints);
    assert_eq!(after.scope, before.scope);
}
