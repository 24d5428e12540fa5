//! Structs that carry their own size in a leading `uint32_t size`, so the
//! ABI can grow: a caller built against an older header passes a shorter
//! struct, and the fields it does not know keep their defaults (NULL for
//! callbacks). A longer one than the library knows is refused.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::error::{C10K_EINVAL, Result};

/// The caller's struct at `ptr`, over `defaults` for the fields it lacks;
/// `defaults` itself when `ptr` is NULL.
///
/// `ptr` is NULL or points to a struct whose first field is its size in
/// bytes, valid for reading that many bytes (the export's contract, as in
/// `cast`).
pub(super) fn read_sized<T: Copy>(ptr: *const T, defaults: T) -> Result<T> {
    if ptr.is_null() {
        return Ok(defaults);
    }
    // SAFETY: the struct starts with its size, per the caller.
    let size = unsafe { *(ptr as *const u32) } as usize;
    if size < size_of::<u32>() || size > size_of::<T>() {
        return Err(C10K_EINVAL);
    }
    let mut value = defaults;
    // SAFETY: both sides hold at least `size` bytes; T is plain data.
    unsafe { std::ptr::copy_nonoverlapping(ptr as *const u8, &mut value as *mut T as *mut u8, size) };
    Ok(value)
}

/// Writes as much of `value` as the caller's struct at `out` has room for
/// (its `size`, set by the caller), keeping that size.
///
/// `out` is NULL or points to a struct whose first field is its size in
/// bytes, valid for writing that many bytes (the export's contract).
pub(super) fn write_sized<T: Copy>(out: *mut T, value: T) -> Result<()> {
    if out.is_null() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: the struct starts with its size, per the caller.
    let size = unsafe { *(out as *const u32) } as usize;
    if size < size_of::<u32>() || size > size_of::<T>() {
        return Err(C10K_EINVAL);
    }
    // Skip the size field itself: the caller's value stays.
    let skip = size_of::<u32>();
    // SAFETY: both sides hold at least `size` bytes; T is plain data.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (&value as *const T as *const u8).add(skip),
            (out as *mut u8).add(skip),
            size - skip,
        )
    };
    Ok(())
}
