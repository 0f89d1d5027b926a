//! FileStore against a HashMap model: random sequences of save, locked save, delete and
//! delete_all leave the file store and the model in agreement.

mod file_store_conformance;

use file_store_conformance as conformance;
use proptest::prelude::*;
use zoho_oauth::file_store::FileStore;

proptest! {
    // Every write fsyncs twice: keep the case count modest.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_saves_and_deletes_agree_with_a_hashmap(ops in conformance::ops()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let store = FileStore::open(&path).unwrap();
        conformance::agrees_with_model(&store, &ops)?;
        // And a fresh instance reads back the same thing.
        let reopened = FileStore::open(&path).unwrap();
        let mut a = store_contents(&store);
        let mut b = store_contents(&reopened);
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        prop_assert_eq!(a, b);
    }
}

fn store_contents(
    store: &FileStore,
) -> Vec<(zoho_oauth::CredentialKey, zoho_oauth::core::TokenSet)> {
    use zoho_oauth::TokenStore;
    store
        .list()
        .unwrap()
        .into_iter()
        .map(|k| {
            let t = store.load(&k).unwrap().unwrap();
            (k, t)
        })
        .collect()
}
