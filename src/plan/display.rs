//! The text form of a plan.
