//! One module per command group of the `authgate` binary.

pub(crate) mod token;
