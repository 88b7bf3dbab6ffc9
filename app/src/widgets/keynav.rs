//! W/S/A/D navigation shared by the flamegraph and the timeline: the keys are held, not
//! pressed, so the view moves at a steady speed per second whatever the frame rate.

use egui::{Key, Ui};

/// W/S zoom speed: factor per second held.
const ZOOM_PER_S: f64 = 6.0;
/// A/D pan speed: views per second held.
const PAN_PER_S: f64 = 1.0;

/// This frame's move from the held keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyNav {
    /// Factor to divide the visible span by (above 1 zooms in).
    pub zoom: f64,
    /// Views to pan right (negative: left), applied after the zoom.
    pub pan: f64,
}

impl KeyNav {
    /// The move this frame, or `None` when no navigation key is held or a text field has the
    /// keyboard (typing "wasd" in the search box must not fly the view away).
    pub fn read(ui: &Ui) -> Option<KeyNav> {
        if ui.ctx().egui_wants_keyboard_input() {
            return None;
        }
        let (dt, w, s, a, d) = ui.input(|i| {
            (
                f64::from(i.stable_dt).min(0.1),
                i.key_down(Key::W),
                i.key_down(Key::S),
                i.key_down(Key::A),
                i.key_down(Key::D),
            )
        });
        Self::from_keys(dt, [w, s, a, d])
    }

    /// The move for `dt` seconds with `[w, s, a, d]` held.
    pub fn from_keys(dt: f64, [w, s, a, d]: [bool; 4]) -> Option<KeyNav> {
        if !(w || s || a || d) {
            return None;
        }
        let sign = |plus: bool, minus: bool| f64::from(u8::from(plus)) - f64::from(u8::from(minus));
        Some(KeyNav { zoom: ZOOM_PER_S.powf(dt * sign(w, s)), pan: PAN_PER_S * dt * sign(d, a) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_keys_zoom_and_pan_at_a_steady_rate() {
        assert_eq!(KeyNav::from_keys(0.1, [false; 4]), None);
        let w = KeyNav::from_keys(1.0, [true, false, false, false]).unwrap();
        assert!((w.zoom - ZOOM_PER_S).abs() < 1e-9 && w.pan == 0.0);
        let s = KeyNav::from_keys(1.0, [false, true, false, false]).unwrap();
        assert!((s.zoom - 1.0 / ZOOM_PER_S).abs() < 1e-9);
        let a = KeyNav::from_keys(0.5, [false, false, true, false]).unwrap();
        assert!((a.pan + 0.5).abs() < 1e-9 && (a.zoom - 1.0).abs() < 1e-9);
    }
}
