//! The image lifecycle after a build, in git: channels that images go
//! through in order (a canary cluster, then production), promotion after a
//! soak, revocation, rollback, and the pruning of images nobody boots.
//!
//! The lock is the record (see `crate::lock`): each template and region
//! keeps a bounded history of images, each channel the image it was last
//! given, and each image when it entered which channel, its revocation and
//! its pruning. Deployments are the truth of what each cluster boots.
//! Every command that writes does so as `images` does: the lock first,
//! then the deployments through the one checked writer, so that a run
//! stopped anywhere leaves a state the next run completes or reports.

pub mod fleet;
pub mod promote;
pub mod prune;
mod report;
pub mod revoke;
pub mod rollback;
mod write;
