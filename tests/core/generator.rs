//! The benchmark's generator checked against the engine: what it says it generated is what the engine finds,
//! and its lines look like real execution logs. (The generator lives beside the benchmark, not in the library.)

use apigw_doctor::diagnose::finding::{Origin, find};

use crate::synth::{FAILURES, Shape, generate};

#[test]
fn the_engine_finds_exactly_the_generated_ground_truth() {
    let (batch, truth) = generate(Shape {
        lines: 20_000,
        failures_per_mille: 50,
        seed: 7,
    });
    let origin = Origin::new(&batch.owner, &batch.log_group, &batch.log_stream);
    let found = find(
        &origin,
        batch
            .log_events
            .iter()
            .map(|e| (Some(e.timestamp), e.message.as_ref())),
        false,
    );
    assert_eq!(found.by_cause, truth);
    for (cause, _) in FAILURES {
        assert!(
            truth.get(cause).copied().unwrap_or(0) > 0,
            "{cause} not generated"
        );
    }
}

#[test]
fn lines_look_like_real_execution_logs() {
    let (batch, _) = generate(Shape {
        lines: 2_000,
        failures_per_mille: 50,
        seed: 1,
    });
    let lens: Vec<usize> = batch.log_events.iter().map(|e| e.message.len()).collect();
    assert!(lens.iter().all(|&l| l <= 1024), "an event over 1 KB");
    let requests = batch
        .log_events
        .iter()
        .filter(|e| e.message.contains(") Extended Request Id: "))
        .count();
    let per_request = batch.log_events.len() as f64 / requests as f64;
    assert!(
        (19.0..=24.0).contains(&per_request),
        "{per_request} lines per request"
    );
    assert_eq!(
        generate(Shape {
            lines: 2_000,
            failures_per_mille: 50,
            seed: 1
        })
        .0,
        batch
    );
}
