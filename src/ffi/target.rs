//! The request-target forms as C constants (`c10k_request_info.target_form`).

use crate::http::TargetForm;

/// `/path?query`: the usual form. Added in 0.2.
pub const C10K_TARGET_ORIGIN: u32 = 0;
/// `http://host/path?query` (or `https`): path, query and host come from
/// the URI. Added in 0.2.
pub const C10K_TARGET_ABSOLUTE: u32 = 1;
/// `host:port`, only with CONNECT. Added in 0.2.
pub const C10K_TARGET_AUTHORITY: u32 = 2;
/// `*`, only with OPTIONS. Added in 0.2.
pub const C10K_TARGET_ASTERISK: u32 = 3;

pub(super) fn target_form_code(form: TargetForm) -> u32 {
    match form {
        TargetForm::Origin => C10K_TARGET_ORIGIN,
        TargetForm::Absolute => C10K_TARGET_ABSOLUTE,
        TargetForm::Authority => C10K_TARGET_AUTHORITY,
        TargetForm::Asterisk => C10K_TARGET_ASTERISK,
    }
}
