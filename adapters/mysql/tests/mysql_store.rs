//! `MysqlStore` against a real MySQL/MariaDB server, each test in a scratch database of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`; the
//! database in the path is replaced by the scratch one). When it cannot be reached every test
//! prints why and passes, except with `CI=true`: then it fails.

use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};
use zoho_oauth::core::{DataCenter, Environment, Instant, Origin};
use zoho_oauth::sdk::rows::RowError;
use zoho_oauth::store::conformance::{
    self, save, token, LockEvidence, LockScope, Profile, UnreleasedSaves,
};
use zoho_oauth::{CredentialKey, LockWait, StoreError, TokenStore};
use zoho_oauth_mysql::{MysqlStore, Unusable, SCHEMA_VERSION};

/// The database fault checks, shared with the PostgreSQL store's tests.
#[path = "../../postgres/tests/shared/db_faults.rs"]
mod db_faults;

/// A lock wait long enough for a lock that must come free.
const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(30));

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";
const CLIENT_ID: &str = "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG";

/// A database of its own on the test server, dropped at the end of the test.
struct Scratch {
    admin: Conn,
    name: String,
    url: String,
    /// Users created for the test, dropped with the database.
    users: Vec<String>,
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
        Some(Self {
            admin,
            name,
            url,
            users: Vec::new(),
        })
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

    /// A URL of this database for a new user `<name>_<role>` with `password` and `grants` on the
    /// database (dropped with it).
    fn user_url(&mut self, role: &str, password: &str, grants: &str) -> String {
        let user = format!("{}_{role}", self.name);
        self.admin
            .query_drop(format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'; \
                 GRANT {grants} ON {}.* TO '{user}'@'%'",
                self.name
            ))
            .expect("create the user");
        self.users.push(user.clone());
        let (_, host) = self.url.split_once('@').expect("user@host in the URL");
        format!("mysql://{user}:{password}@{host}")
    }

    /// A store connecting as a user of its own, `<name>_<role>`, whose sessions
    /// [`sessions_of`](Self::sessions_of) finds (`PROCESSLIST` is live, unlike `INNODB_TRX`).
    fn store_as(&mut self, role: &str) -> MysqlStore {
        let url = self.user_url(role, "zo-test-pw", "ALL");
        MysqlStore::connect(&url).expect("connect the store")
    }

    /// The connection ids of `<name>_<role>`.
    fn sessions_of(&mut self, role: &str) -> Vec<u64> {
        self.admin
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?",
                (format!("{}_{role}", self.name),),
            )
            .unwrap()
    }

    /// `KILL CONNECTION id`, and wait until the server has ended it (the kill is asynchronous;
    /// it is gone from `PROCESSLIST` within 10 s).
    fn kill(&mut self, id: u64) {
        self.admin
            .query_drop(format!("KILL CONNECTION {id}"))
            .unwrap();
        let started = WallClock::now();
        loop {
            let left: Option<i64> = self
                .admin
                .exec_first(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                    (id,),
                )
                .unwrap();
            if left == Some(0) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "connection {id} survived KILL"
            );
        }
    }

    /// End every session of `<name>_<role>`, as an operator's `KILL CONNECTION` or a server
    /// restart would; how many.
    fn kill_all(&mut self, role: &str) -> usize {
        let ids = self.sessions_of(role);
        for &id in &ids {
            self.kill(id);
        }
        ids.len()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for user in &self.users {
            let _ = self
                .admin
                .query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"));
        }
        let _ = self
            .admin
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

fn key(user: &str) -> CredentialKey {
    CredentialKey::new(user, CLIENT_ID, DataCenter::Eu, Environment::Production)
}

/// The table as the SDKs' documentation creates it.
const SDK_TABLE: &str = "
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
";

/// One row as the Python SDK's `DBStore.save_token` inserts it after a grant-token exchange.
const SDK_ROW: &str = "
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
        save(&store, k, &token(i as u64)).unwrap();
    }
    save(&store, &keys[0], &token(0)).unwrap();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM oauthtoken"),
        keys.len() as i64
    );
}

#[test]
fn a_schema_from_a_newer_version_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    save(&store, &conformance::keys()[0], &token(1)).unwrap();
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
    save(&store, &ana, &token(1)).unwrap();
    save(&store, &bo, &token(2)).unwrap();
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
    // The other instance connects as a user with a password: describe() must not show it.
    let password = "zo-pw-8c2e51";
    let other_url = db.user_url("rw", password, "ALL");
    let other = Arc::new(MysqlStore::connect(&other_url).expect("connect with a password"));
    let mut damager = Conn::new(Opts::from_url(&db.url).unwrap()).unwrap();
    let mut damage = |key: &CredentialKey| {
        damager
            .exec_drop(
                "UPDATE oauthtoken SET zo_state = X'5a4f5402ffff' WHERE user_name = ? \
                 AND client_id = ? AND zo_dc = ? AND zo_env = ?",
                (
                    &key.user,
                    &key.client_id,
                    key.data_center.location_code(),
                    key.environment.name(),
                ),
            )
            .unwrap();
        assert_eq!(damager.affected_rows(), 1);
    };
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
            damage: Some(&mut damage),
            secrets: &[password],
            ..Profile::new(UnreleasedSaves::RolledBack, LockScope::Key)
        },
    );
}

#[test]
fn a_locked_delete_excludes_saves_across_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::a_locked_delete_excludes_saves_across_processes(
        "a_locked_delete_excludes_saves_across_processes",
        &db.url,
        |url| MysqlStore::connect(url).unwrap(),
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
    db.execute(SDK_TABLE);
    db.execute(SDK_ROW);
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
        token.refresh_token.as_ref().unwrap().expose(),
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
    db.execute(SDK_TABLE);
    db.execute(SDK_ROW);
    let store = db.store();
    let ana = key("ana@example.com");
    save(&store, &ana, &token(5)).unwrap();

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
    assert_eq!(
        row[4].as_deref(),
        t.refresh_token.as_ref().map(|r| r.expose())
    );
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
    save(&store, &bo, &t).unwrap();
    save(&store, &key("cy@example.com"), &token(8)).unwrap();

    let row = db.sdk_row("bo@example.com");
    let id: u64 = row[0].as_deref().unwrap().parse().expect("a numeric id");
    assert_eq!(row[1].as_deref(), Some("bo@example.com"));
    assert_eq!(row[2].as_deref(), Some(CLIENT_ID));
    assert_eq!(
        row[3].as_deref(),
        Some(""),
        "client_secret is not known to a store"
    );
    assert_eq!(
        row[4].as_deref(),
        t.refresh_token.as_ref().map(|r| r.expose())
    );
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
    save(&store, &ana, &before).unwrap();
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

/// Rows exactly as the official Python SDK (`zohocrmsdk7-0` 6.0.0, `DBStore.save_token`) wrote
/// them into the table its documentation creates ([`SDK_TABLE`]): ids and `expiry_time` (epoch milliseconds) as
/// text, `api_domain` NULL (the SDK writes it only when its configuration asks), the emulator's
/// origin (an SDK configured with a custom environment URL), or a Zoho API domain. Dumped with
/// `mysqldump --no-create-info --skip-extended-insert`.
const ROWS_THE_PYTHON_SDK_WROTE: &str = "
    INSERT INTO `oauthtoken` VALUES ('1','alice@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b','1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d','1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',NULL,'1795986965929','https://app.example.com/oauth/callback',NULL);
    INSERT INTO `oauthtoken` VALUES ('2','bob@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b','1000.aaaa7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d','1000.bbbb5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',NULL,'1795986966109','https://app.example.com/oauth/callback','http://127.0.0.1:8080');
    INSERT INTO `oauthtoken` VALUES ('3','carol@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b','1000.cccc7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d','1000.dddd5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',NULL,'1795986966117','https://app.example.com/oauth/callback','https://www.zohoapis.eu');
";

fn user_in(user: &str, data_center: DataCenter) -> CredentialKey {
    CredentialKey::new(user, CLIENT_ID, data_center, Environment::Production)
}

#[test]
fn rows_the_python_sdk_wrote_without_api_domain_belong_to_the_configured_data_centre() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE);
    db.execute(ROWS_THE_PYTHON_SDK_WROTE);
    let store = db.store().with_configured_region(
        Origin::Zoho(DataCenter::Eu),
        DataCenter::Eu,
        Environment::Production,
    );
    let alice = user_in("alice@example.com", DataCenter::Eu);
    let carol = user_in("carol@example.com", DataCenter::Eu);
    assert_eq!(store.list().unwrap(), vec![alice.clone(), carol.clone()]);

    let token = store.load(&alice).unwrap().expect("alice's row");
    assert_eq!(
        token.refresh_token.as_ref().map(|r| r.expose()),
        Some("1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d")
    );
    assert_eq!(
        token.access_token.as_ref().map(|a| a.expose()),
        Some("1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d")
    );
    assert_eq!(token.expires_at, Instant::from_millis(1_795_986_965_929));
    assert_eq!(token.api_domain.as_str(), "", "the SDK wrote none");
    // The emulator's origin is not a Zoho API domain: reported, not hidden.
    let unusable = store.unusable_rows().unwrap();
    assert_eq!(unusable.len(), 1, "{unusable:?}");
    assert_eq!(unusable[0].id, "2");
    assert_eq!(unusable[0].user_name.as_deref(), Some("bob@example.com"));
    assert_eq!(
        unusable[0].why,
        Unusable::Sdk(RowError::Unkeyable {
            api_domain: "http://127.0.0.1:8080".into()
        })
    );
    assert!(unusable[0]
        .why
        .to_string()
        .contains("not a Zoho API domain"));

    // Revoking alice (a locked delete) removes her row, the SDK's others stay.
    assert!(conformance::delete(&store, &alice).unwrap());
    assert_eq!(
        db.count("SELECT COUNT(*) FROM oauthtoken WHERE id = '1'"),
        0
    );
    assert_eq!(store.list().unwrap(), vec![carol]);
}

#[test]
fn with_the_emulator_as_accounts_origin_its_rows_and_those_without_api_domain_are_served() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE);
    db.execute(ROWS_THE_PYTHON_SDK_WROTE);
    let store = db.store().with_configured_region(
        Origin::custom("http://127.0.0.1:8080").unwrap(),
        DataCenter::Us,
        Environment::Production,
    );
    let alice = user_in("alice@example.com", DataCenter::Us);
    let bob = user_in("bob@example.com", DataCenter::Us);
    let carol = user_in("carol@example.com", DataCenter::Eu);
    let mut listed = store.list().unwrap();
    listed.sort();
    let mut expected = vec![alice.clone(), bob.clone(), carol];
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(store.unusable_rows().unwrap(), vec![]);
    let token = store.load(&bob).unwrap().expect("bob's row");
    assert_eq!(token.api_domain.as_str(), "http://127.0.0.1:8080");
    // A save over the SDK's row updates it in place: the SDK still finds it by user_name.
    let mut locked = store.lock(&alice, WAIT).unwrap();
    let mut t = locked.load().unwrap().unwrap();
    t.scope.push_str("ZohoCRM.modules.ALL").unwrap();
    locked.save(&t).unwrap();
    locked.release().unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 3);
    assert_eq!(db.sdk_row("alice@example.com")[0].as_deref(), Some("1"));
    assert_eq!(store.load(&alice).unwrap(), Some(t));
}

#[test]
fn without_a_configured_region_rows_that_cannot_be_keyed_are_reported_with_the_reason() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE);
    db.execute(ROWS_THE_PYTHON_SDK_WROTE);
    db.execute(
        "INSERT INTO oauthtoken (id, user_name, client_id, client_secret, grant_token, redirect_url) \
         VALUES ('4', 'dan@example.com', '1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG', 's', \
                 '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef', 'https://app.example.com/cb')",
    );
    let store = db.store();
    assert_eq!(
        store.list().unwrap(),
        vec![user_in("carol@example.com", DataCenter::Eu)]
    );
    let why: Vec<(String, Unusable)> = store
        .unusable_rows()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.why))
        .collect();
    assert_eq!(
        why,
        vec![
            ("1".into(), Unusable::NoRegion),
            (
                "2".into(),
                Unusable::Sdk(RowError::Unkeyable {
                    api_domain: "http://127.0.0.1:8080".into()
                })
            ),
            ("4".into(), Unusable::Sdk(RowError::GrantTokenOnly)),
        ]
    );
}

#[test]
fn a_nine_column_table_of_an_sdk_before_api_domain_gains_the_column_and_serves_its_rows() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(
        "CREATE TABLE oauthtoken (id varchar(10) NOT NULL, user_name varchar(255), client_id varchar(255), \
         client_secret varchar(255), refresh_token varchar(255), access_token varchar(255), \
         grant_token varchar(255), expiry_time varchar(20), redirect_url varchar(255), primary key (id)); \
         INSERT INTO oauthtoken VALUES ('1','alice@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','s', \
         '1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d', NULL, NULL, NULL, \
         'https://app.example.com/oauth/callback')",
    );
    let store = db.store().with_configured_region(
        Origin::Zoho(DataCenter::In),
        DataCenter::In,
        Environment::Production,
    );
    let alice = user_in("alice@example.com", DataCenter::In);
    assert_eq!(store.list().unwrap(), vec![alice.clone()]);
    assert!(store.load(&alice).unwrap().is_some());
    let position = db.count(
        "SELECT ORDINAL_POSITION FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'oauthtoken' AND COLUMN_NAME = 'api_domain'",
    );
    assert_eq!(position, 10, "where the newer SDKs read it");
}

#[test]
fn a_lock_held_elsewhere_is_busy_within_the_bound_naming_the_holders_connection() {
    let Some(mut db) = Scratch::new() else { return };
    let holder = db.store_as("holder");
    let waiter = db.store();
    let keys = conformance::keys();
    let held = holder.lock(&keys[0], WAIT).unwrap();
    let ids = db.sessions_of("holder");
    assert_eq!(ids.len(), 1, "{ids:?}");

    let started = WallClock::now();
    let e = waiter.lock(&keys[0], LockWait::NoWait).err().expect("busy");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let StoreError::Busy(busy) = e else {
        panic!("{e:?}")
    };
    assert_eq!(busy.store, db.url);
    assert_eq!(busy.key, keys[0].to_string());
    let named = busy.holder.clone().expect("the server names the holder");
    assert!(named.contains(&format!("connection {}", ids[0])), "{named}");
    assert!(named.contains(&format!("{}_holder@", db.name)), "{named}");
    assert!(named.contains("since"), "{named}");

    let bound = Duration::from_millis(400);
    let started = WallClock::now();
    let e = waiter
        .lock(&keys[0], LockWait::AtMost(bound))
        .err()
        .expect("busy");
    let waited = started.elapsed();
    let StoreError::Busy(busy) = e else {
        panic!("{e:?}")
    };
    assert!(busy.waited >= bound, "{busy:?}");
    // The wait itself (the holder lookup after it is not counted in `waited`).
    assert!(
        busy.waited < bound + Duration::from_millis(500),
        "MariaDB bounds the wait to the millisecond (MySQL would round it up to 1 s): {busy:?}"
    );
    assert!(
        waited < bound + Duration::from_secs(5),
        "the holder lookup is quick: {waited:?}"
    );
    waiter
        .lock(&keys[1], LockWait::NoWait)
        .unwrap()
        .release()
        .unwrap();
    drop(held);
    waiter
        .lock(&keys[0], LockWait::NoWait)
        .unwrap()
        .release()
        .unwrap();
}

#[test]
fn check_writable_says_read_only_for_a_user_that_may_only_select() {
    let Some(mut db) = Scratch::new() else { return };
    let writer = db.store();
    let keys = conformance::keys();
    save(&writer, &keys[0], &token(1)).unwrap();
    let url = db.user_url("ro", "zo-ro-pw", "SELECT");
    let reader = MysqlStore::connect(&url).expect("a read-only user connects");
    assert_eq!(reader.load(&keys[0]).unwrap(), Some(token(1)));
    for key in [&keys[0], &keys[1]] {
        // A key with a lock row, and one without (which the reader cannot insert).
        let mut locked = reader.lock(key, WAIT).unwrap();
        let e = locked.check_writable().unwrap_err();
        assert!(
            matches!(&e, StoreError::ReadOnly(m) if m.contains(&db.name)),
            "{e:?}"
        );
        assert!(matches!(
            locked.save(&token(2)),
            Err(StoreError::ReadOnly(_))
        ));
        locked.release().unwrap();
    }
    assert_eq!(writer.load(&keys[0]).unwrap(), Some(token(1)));
    let mut locked = writer.lock(&keys[0], WAIT).unwrap();
    locked.check_writable().unwrap();
    locked.release().unwrap();
}

#[test]
fn delete_all_waits_for_a_holder_that_has_not_written_yet_and_removes_what_it_saves() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let other = db.store();
    let keys = conformance::keys();
    save(&store, &keys[7], &token(1)).unwrap();
    let mut held = store.lock(&keys[0], WAIT).unwrap();
    assert_eq!(held.load().unwrap(), None);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| tx.send(other.delete_all()).unwrap());
        assert!(
            rx.recv_timeout(conformance::DEFAULT_PATIENCE).is_err(),
            "delete_all finished while a lock was held"
        );
        held.save(&token(2)).unwrap();
        held.release().unwrap();
        rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap();
    });
    assert_eq!(
        store.list().unwrap(),
        vec![],
        "nothing the holder saved survives delete_all"
    );
}

#[test]
fn an_sdk_row_with_a_damaged_token_is_listed_fails_alone_by_key_and_is_deleted_under_its_lock() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE);
    db.execute(ROWS_THE_PYTHON_SDK_WROTE);
    // An ellipsis copied from documentation into carol's refresh token.
    db.execute("UPDATE oauthtoken SET refresh_token = '1000.cccc\u{2026}' WHERE id = '3'");
    let store = db.store().with_configured_region(
        Origin::Zoho(DataCenter::Eu),
        DataCenter::Eu,
        Environment::Production,
    );
    let (alice, carol) = (
        user_in("alice@example.com", DataCenter::Eu),
        user_in("carol@example.com", DataCenter::Eu),
    );
    assert_eq!(store.list().unwrap(), vec![alice.clone(), carol.clone()]);
    let e = store.load(&carol).unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt(m) if m.contains("carol@example.com")),
        "{e:?}"
    );
    assert!(store.load(&alice).unwrap().is_some());
    assert!(conformance::delete(&store, &carol).unwrap());
    assert_eq!(store.list().unwrap(), vec![alice]);
}

#[test]
fn a_holder_whose_connection_is_killed_between_load_and_save_gets_a_typed_error_and_nothing_is_lost_or_held(
) {
    let Some(mut db) = Scratch::new() else { return };
    let (victim, other) = (db.store_as("victim"), db.store());
    db_faults::killed_between_load_and_save(&victim, &other, &mut || {
        assert!(db.kill_all("victim") >= 1);
    });
}

#[test]
fn a_connection_killed_between_save_and_commit_leaves_the_previous_credential_whole() {
    let Some(mut db) = Scratch::new() else { return };
    let (victim, other) = (db.store_as("victim"), db.store());
    db_faults::killed_between_save_and_commit(&victim, &other, &mut || {
        assert!(db.kill_all("victim") >= 1);
    });
}

#[test]
fn after_the_server_dropped_every_connection_the_next_operations_reconnect() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store_as("restarted");
    db_faults::reconnects_after_every_session_ended(&store, &mut || {
        assert!(db.kill_all("restarted") >= 1);
    });
}

#[test]
fn a_holder_that_stops_inside_its_cycle_loses_the_lock_after_the_hold_limit_and_cannot_save() {
    let Some(db) = Scratch::new() else { return };
    let frozen = db.store().with_hold_limit(Duration::from_secs(1));
    db_faults::a_stopped_holder_loses_the_lock_after_the_hold_limit(&frozen, &db.store());
}
