//! One module per subcommand (the live view is `crate::view`).

pub mod bench;
pub mod channel;
pub mod controls;
pub mod frames;
pub mod info;
pub mod run;
pub mod vcam;
