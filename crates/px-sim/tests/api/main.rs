//! Black-box tests of the simulator over HTTP, one binary for all (one link step).

mod auth;
mod binary;
mod common;
mod config;
mod faults;
mod inspect;
mod limits;
mod membership;
mod segments;
mod users;
