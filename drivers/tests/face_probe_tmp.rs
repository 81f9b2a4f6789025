mod support;
use support::*;
use drivers::face::*;
use std::time::Instant;

#[test]
fn probe() {
    let mut e = engine();
    for name in ["obama.jpg","obama2.jpg","obama3.jpg","biden.jpg","astronaut.png"] {
        let f = photo(name);
        let t = Instant::now();
        let d = e.detect(f.view()).unwrap();
        let dt = t.elapsed();
        for x in &d {
            let p = HeadPose::from_landmarks(&x.landmarks).unwrap();
            let (_, sharp) = e.embed_detection(f.view(), x).unwrap().unwrap();
            println!("{name} {}x{} det {:?} box {:?} score {:.3} yaw {:.3} roll {:.1} pitch {:.2} eyes {:.1} sharp {:.1}", f.width(), f.height(), dt, x.bbox, x.score, p.yaw, p.roll_deg, p.pitch, p.eye_distance, sharp);
        }
    }
    let o = photo("obama.jpg");
    let card = resized(&o, 102, 126);
    let t = Instant::now();
    let r = e.verify_stills(card.view(), photo("obama2.jpg").view(), 0.363).unwrap();
    println!("card whole vs obama2 {:?} {:?}", r, t.elapsed());
    let det = e.detect(o.view()).unwrap()[0];
    let card2 = card_photo(&o, &det);
    for live in ["obama2.jpg","obama3.jpg","biden.jpg","astronaut.png"] {
        let r = e.verify_stills(card2.view(), photo(live).view(), 0.363).unwrap();
        println!("card crop vs {live} {:?}", r);
        let r = e.verify_stills(o.view(), photo(live).view(), 0.363).unwrap();
        println!("obama.jpg vs {live} {:?}", r);
    }
}
