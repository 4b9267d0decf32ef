use fieldbook_media::{SignatureStrokes, check_strokes};
use serde_json::json;

/// A signature pad's data: strokes of (x, y) points, 8 ms apart, from `t0`.
fn pad(width: f64, height: f64, strokes: &[&[(f64, f64)]], t0: f64) -> Vec<u8> {
    let mut time = t0;
    let groups: Vec<_> = strokes
        .iter()
        .map(|stroke| {
            let points: Vec<_> = stroke
                .iter()
                .map(|(x, y)| {
                    time += 8.0;
                    json!({"x": x, "y": y, "time": time, "pressure": 0.5})
                })
                .collect();
            time += 120.0;
            json!({"penColor": "#000", "dotSize": 0, "minWidth": 0.5, "maxWidth": 2.5, "points": points})
        })
        .collect();
    serde_json::to_vec(&json!({"width": width, "height": height, "groups": groups})).unwrap()
}

const NAME: &[&[(f64, f64)]] = &[
    &[(40.0, 120.0), (80.33, 60.0), (120.0, 130.0), (160.0, 70.0)],
    &[(200.0, 100.0), (260.0, 100.0), (300.0, 140.0)],
];

#[test]
fn strokes_are_kept_compact_and_hash_the_same_whenever_drawn() {
    let checked = check_strokes(&pad(600.0, 200.0, NAME, 1_732_950_000_000.0)).unwrap();
    let kept: SignatureStrokes = serde_json::from_slice(&checked.json).unwrap();
    assert_eq!((kept.width, kept.height, kept.strokes.len()), (600, 200, 2));
    assert_eq!(kept.strokes[0][1], [80.3, 60.0, 8.0], "a tenth of a pixel, ms after the first point");
    assert_eq!(kept.strokes[0][0][2], 0.0);
    assert_eq!(checked.points, 7);
    assert!(checked.length > 300.0, "{}", checked.length);
    // The same drawing made at another time of day keeps the same bytes and id.
    let later = check_strokes(&pad(600.0, 200.0, NAME, 5.0)).unwrap();
    assert_eq!((later.json, later.id), (checked.json, checked.id.clone()));
    assert_eq!(checked.id.len(), 64);
}

#[test]
fn a_pen_that_leaves_the_box_is_kept_at_its_edge() {
    let checked = check_strokes(&pad(100.0, 50.0, NAME, 0.0)).unwrap();
    let kept: SignatureStrokes = serde_json::from_slice(&checked.json).unwrap();
    let points = kept.strokes.iter().flatten();
    assert!(points.clone().all(|p| (-50.0..=150.0).contains(&p[0]) && (-50.0..=100.0).contains(&p[1])));
    assert!(points.clone().any(|p| p[0] == 150.0), "the farthest point kept at the edge: {kept:?}");
}

#[test]
fn blank_broken_or_absurd_strokes_are_refused() {
    let dot: &[&[(f64, f64)]] = &[&[(300.0, 100.0)]];
    let tick: &[&[(f64, f64)]] = &[&[(300.0, 100.0), (310.0, 104.0), (320.0, 96.0)]];
    for (data, code) in [
        (pad(600.0, 200.0, &[], 0.0), "signature_blank"),
        (pad(600.0, 200.0, dot, 0.0), "signature_blank"),
        (pad(600.0, 200.0, tick, 0.0), "signature_blank"),
        (Vec::new(), "bad_strokes"),
        (b"{\"width\": 600".to_vec(), "bad_strokes"),
        (b"[1, 2, 3]".to_vec(), "bad_strokes"),
        (pad(0.0, 200.0, NAME, 0.0), "bad_strokes"),
        (vec![b' '; 3 * 1024 * 1024], "bad_strokes"),
    ] {
        let error = check_strokes(&data).unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        assert!(error.to_string().contains("sign again"), "{error}");
    }
    // Far too many points.
    let many: Vec<(f64, f64)> = (0..51_000).map(|i| ((i % 500) as f64, 100.0)).collect();
    let error = check_strokes(&pad(600.0, 200.0, &[&many], 0.0)).unwrap_err();
    assert_eq!(error.code(), "bad_strokes", "{error}");
}
