// `cargo grade` on a system that is not Linux stops here, with the same one
// message as the lab programs and the grader (common/build.rs).
include!("../common/build.rs");
