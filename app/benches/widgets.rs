//! Frame cost of the custom-painted widgets, without a window: one egui pass (layout, hit
//! testing, painting into shapes) plus tessellation into meshes, for a flamegraph of 100,000
//! nodes and a timeline of 10 million intervals, at several zoom levels. The target is 8 ms of
//! CPU per frame at any zoom.
//!
//! `baseline/empty_frame` is an egui pass and tessellation with one label, measured in the same
//! run, so the numbers can be read against the machine's noise (two shared cores).
//!
//! Run: `cargo bench -p leakscope --bench widgets`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use egui::{Context, Event, Pos2, RawInput, Rect, vec2};
use leakscope::widgets::{FlameGraph, FlameGraphState, FlameMode, Lane, Timeline, TimelineState};
use leakscope_testkit::widgets::{self as synthetic, TraceShape};

// The app's allocator (see main.rs), so frames cost here what they cost in the app.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCREEN: (f32, f32) = (1600.0, 1000.0);

/// One frame: the pass and the tessellation of what it painted. Returns the vertex count so
/// nothing is optimised away.
fn frame(ctx: &Context, time: &mut f64, hover: Option<Pos2>, mut ui_fn: impl FnMut(&mut egui::Ui)) -> usize {
    *time += 1.0 / 60.0;
    let mut input = RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(SCREEN.0, SCREEN.1))),
        time: Some(*time),
        predicted_dt: 1.0 / 60.0,
        ..RawInput::default()
    };
    if let Some(p) = hover {
        input.events.push(Event::PointerMoved(p));
    }
    let out = ctx.run_ui(input, |ui| ui_fn(ui));
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    prims
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
            egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
}

fn baseline(c: &mut Criterion) {
    let ctx = Context::default();
    let mut time = 0.0;
    c.bench_function("baseline/empty_frame", |b| {
        b.iter(|| {
            black_box(frame(&ctx, &mut time, None, |ui| {
                ui.label("leakscope");
            }))
        });
    });
}

fn flamegraph(c: &mut Criterion) {
    let tree = synthetic::flame_tree(100_000, 42);
    let diff = synthetic::diff_flame_tree(100_000, 42);
    let mut group = c.benchmark_group("flamegraph_100k_nodes");
    // Whole tree; a 1% window; a window of a millionth, deep in the hottest path.
    let views = [("whole", (0.0, 1.0)), ("mid", (0.40, 0.41)), ("deep", (0.405, 0.405_001))];
    for mode in [FlameMode::Flame, FlameMode::Icicle] {
        for (name, (a, b)) in views {
            let ctx = Context::default();
            let mut state = FlameGraphState::new(mode);
            let mut time = 0.0;
            // The first frame builds the layout cache and lays out the labels.
            frame(&ctx, &mut time, None, |ui| {
                let _ = FlameGraph::new(&tree).show(ui, &mut state);
            });
            state.set_visible_fraction(a, b);
            let id = BenchmarkId::new(format!("{mode:?}").to_lowercase(), name);
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    black_box(frame(&ctx, &mut time, Some(egui::pos2(700.0, 500.0)), |ui| {
                        let _ = FlameGraph::new(&tree).show(ui, &mut state);
                    }))
                });
            });
        }
    }
    // Zooming: the view changes every frame, so labels miss egui's galley cache.
    {
        let ctx = Context::default();
        let mut state = FlameGraphState::new(FlameMode::Flame);
        let mut time = 0.0;
        let mut k = 0u32;
        group.bench_function("flame/zooming", |bench| {
            bench.iter(|| {
                k = (k + 1) % 240;
                let span = 0.97f64.powi(k as i32);
                state.set_visible_fraction(0.4 - 0.4 * span, 0.4 + 0.6 * span);
                black_box(frame(&ctx, &mut time, Some(egui::pos2(700.0, 500.0)), |ui| {
                    let _ = FlameGraph::new(&tree).show(ui, &mut state);
                }))
            });
        });
    }
    // Search active (matches cached after the first frame).
    {
        let ctx = Context::default();
        let mut state = FlameGraphState::new(FlameMode::Flame);
        let mut time = 0.0;
        group.bench_function("flame/whole_search", |bench| {
            bench.iter(|| {
                black_box(frame(&ctx, &mut time, None, |ui| {
                    let _ = FlameGraph::new(&tree).search("cache").show(ui, &mut state);
                }))
            });
        });
    }
    {
        let ctx = Context::default();
        let mut state = FlameGraphState::new(FlameMode::Flame);
        let mut time = 0.0;
        group.bench_function("diff/whole", |bench| {
            bench.iter(|| {
                black_box(frame(&ctx, &mut time, None, |ui| {
                    let _ = FlameGraph::new(&diff).show(ui, &mut state);
                }))
            });
        });
    }
    group.finish();
}

fn timeline(c: &mut Criterion) {
    let capture = synthetic::trace_capture(TraceShape::with_intervals(10_000_000));
    let lanes: Vec<Lane> = std::iter::once(Lane::header("all goroutines"))
        .chain((0..capture.tasks.len() as u32).map(|t| Lane::task(&capture, t, format!("G{}", t + 1))))
        .collect();
    let mut group = c.benchmark_group("timeline_10m_intervals");
    let duration = 10e9;
    // Whole trace (about 10,000 intervals per lane, several per pixel); 100 ms; 10 µs.
    let views = [("whole", (0.0, duration)), ("mid", (4.0e9, 4.1e9)), ("deep", (4.05e9, 4.05e9 + 1e4))];
    for (name, (a, b)) in views {
        let ctx = Context::default();
        let mut state = TimelineState::default();
        let mut time = 0.0;
        frame(&ctx, &mut time, None, |ui| {
            let _ = Timeline::new(&capture, &lanes).show(ui, &mut state);
        });
        state.set_view_ns(a, b);
        group.bench_function(name, |bench| {
            bench.iter(|| {
                black_box(frame(&ctx, &mut time, Some(egui::pos2(900.0, 300.0)), |ui| {
                    let _ = Timeline::new(&capture, &lanes).show(ui, &mut state);
                }))
            });
        });
    }
    // The span threads sit at the end of the lane list: scrolled there, nested rows draw.
    {
        let ctx = Context::default();
        let mut state = TimelineState::default();
        let mut time = 0.0;
        frame(&ctx, &mut time, None, |ui| {
            let _ = Timeline::new(&capture, &lanes).show(ui, &mut state);
        });
        state.set_scroll(1_000_000.0);
        group.bench_function("whole_span_lanes", |bench| {
            bench.iter(|| {
                black_box(frame(&ctx, &mut time, Some(egui::pos2(900.0, 700.0)), |ui| {
                    let _ = Timeline::new(&capture, &lanes).show(ui, &mut state);
                }))
            });
        });
    }
    {
        let ctx = Context::default();
        let mut state = TimelineState::default();
        let mut time = 0.0;
        let mut k = 0u32;
        group.bench_function("zooming", |bench| {
            bench.iter(|| {
                k = (k + 1) % 300;
                let span = duration * 0.96f64.powi(k as i32);
                state.set_view_ns(4.05e9 - span * 0.4, 4.05e9 + span * 0.6);
                black_box(frame(&ctx, &mut time, Some(egui::pos2(900.0, 300.0)), |ui| {
                    let _ = Timeline::new(&capture, &lanes).show(ui, &mut state);
                }))
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = baseline, flamegraph, timeline
}
criterion_main!(benches);
