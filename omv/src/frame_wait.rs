//! Taking the next frame with a deadline, the one place that knows how the client waits.

use std::time::Duration;

use openmvproto::client::{Camera, Frame, Result};

/// The next frame, or `None` when none came within `timeout`. The client sleeps until the
/// cam says a frame is ready, so waiting costs no CPU.
pub fn next_frame(cam: &Camera, timeout: Duration) -> Result<Option<Frame>> {
    cam.wait_frame(timeout)
}
