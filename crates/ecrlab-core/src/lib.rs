//! The ecrlab kit's library: lab definitions, grading, ECR references and clients.
//!
//! Grading reads evidence that the registry holds (its journal and its state) through the
//! mock's public APIs, never what the student claims, so the same checks can run wherever that
//! evidence can be fetched.

pub mod check;
pub mod clients;
pub mod demo;
pub mod ecr;
pub mod evidence;
pub mod hosts;
pub mod lab;
pub mod progress;
pub mod quiz;
pub mod report;
