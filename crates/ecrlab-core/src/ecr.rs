//! TODO: in progress.
