// TEMPORARY: timing breakdown for the catalog install (deleted before hand-back).
use base64::Engine as _;
use sha2::Digest;
use std::time::Instant;
fn main() -> anyhow::Result<()> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let mut c = kiosk::catalog::sample::generate()?;
    c.version = 5;
    let json = serde_json::to_vec_pretty(&c)?;
    let env = kiosk::catalog::trust::sign(&json, "bench", &key);
    let env_bytes = serde_json::to_vec(&env)?;
    println!(
        "payload {} bytes, envelope {} bytes",
        json.len(),
        env_bytes.len()
    );
    for _ in 0..5 {
        let t = Instant::now();
        let e: kiosk::catalog::trust::Envelope = serde_json::from_slice(&env_bytes)?;
        let t1 = t.elapsed();
        let t = Instant::now();
        let p = base64::engine::general_purpose::STANDARD.decode(e.payload.as_bytes())?;
        let t2 = t.elapsed();
        let t = Instant::now();
        let msg = kiosk::catalog::trust::pae(&e.payload_type, &p);
        let sig = ed25519_dalek::Signature::from_slice(
            &base64::engine::general_purpose::STANDARD.decode(&e.signatures[0].sig)?,
        )?;
        key.verifying_key().verify_strict(&msg, &sig)?;
        let t3 = t.elapsed();
        let t = Instant::now();
        let cat: kiosk::catalog::Catalog = serde_json::from_slice(&p)?;
        let t4 = t.elapsed();
        let t = Instant::now();
        let probs = kiosk::catalog::check::problems(&cat);
        let t5 = t.elapsed();
        let t = Instant::now();
        let h = hex::encode(sha2::Sha256::digest(&p));
        let t6 = t.elapsed();
        println!(
            "env-json {:?} b64 {:?} sig {:?} parse {:?} check {:?} sha256 {:?} ({} {})",
            t1,
            t2,
            t3,
            t4,
            t5,
            t6,
            probs.len(),
            &h[..4]
        );
    }
    let dir = std::env::temp_dir().join(format!("tmp-cat-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut store = kiosk::store::Store::open_path(&dir.join("k.db"))?;
    kiosk::catalog::load_active(&mut store)?;
    store.maintain_wal(16 << 20)?;
    for v in 2..8u64 {
        let row = kiosk::store::CatalogRow::new(v, "t", "now", json.clone());
        let t = Instant::now();
        store.stage_catalog(&row)?;
        let a = t.elapsed();
        let t = Instant::now();
        store.maintain_wal(16 << 20)?;
        let b = t.elapsed();
        let t = Instant::now();
        store.switch_to_staged()?;
        let c = t.elapsed();
        let t = Instant::now();
        store.conn().execute("INSERT INTO meta (key, value) VALUES ('x', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [v.to_string()])?;
        let d = t.elapsed();
        println!(
            "stage-write {:?} checkpoint {:?} flip {:?} tiny-commit {:?}",
            a, b, c, d
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
