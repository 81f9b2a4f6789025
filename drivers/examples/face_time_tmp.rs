use drivers::camera::files::load_picture;
use drivers::face::*;
use std::time::Instant;
fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut e = FaceEngine::load(&root.join("models"), EngineConfig::default()).unwrap();
    let p = |n: &str| load_picture(&root.join("testdata/faces").join(n)).unwrap();
    let a = p("obama.jpg");
    let pairs = [("obama2.jpg"), ("obama3.jpg"), ("biden.jpg")];
    let lives: Vec<_> = pairs.iter().map(|n| p(n)).collect();
    for l in &lives { e.verify_stills(a.view(), l.view(), 0.363).unwrap(); }
    for l in &lives {
        let mut ts = vec![];
        for _ in 0..10 {
            let t = Instant::now();
            let r = e.verify_stills(a.view(), l.view(), 0.363).unwrap();
            ts.push(t.elapsed().as_secs_f64()*1000.0);
            if ts.len()==1 { println!("{:?}", r); }
        }
        ts.sort_by(f64::total_cmp);
        println!("median {:.2} ms", ts[5]);
    }
    // parts
    let l = &lives[0];
    let t = Instant::now(); for _ in 0..10 { e.detect(l.view()).unwrap(); } println!("detect live {:.2} ms", t.elapsed().as_secs_f64()*100.0);
    let t = Instant::now(); for _ in 0..10 { e.detect(a.view()).unwrap(); } println!("detect id {:.2} ms", t.elapsed().as_secs_f64()*100.0);
    let d = e.detect(l.view()).unwrap()[0];
    let t = Instant::now(); for _ in 0..10 { e.embed_detection(l.view(), &d).unwrap(); } println!("embed {:.2} ms", t.elapsed().as_secs_f64()*100.0);
}
