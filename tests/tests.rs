//! The integration test binary: runs `ctscan` on fixtures and checks what a
//! user would check, exactly.

mod alarm;
mod bad_input;
mod differential;
mod exactness;
mod first_run;
mod fuzz_regressions;
mod geoip;
mod html;
mod hunt;
mod lake;
mod lake_read;
mod lake_s3;
mod lake_shard;
mod layout;
mod packaging;
mod report;
mod s3;
mod s3_scale;
mod shard;
mod util;
mod verify;
