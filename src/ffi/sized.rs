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

/// Fills the first `size` bytes of the caller's struct at `out` (its
/// `sizeof`, which is smaller for a program built against an older header)
/// with `defaults`, and its `size` field with `size`: the `*_init`
/// functions, which must never write past what the caller allocated.
pub(super) fn init_sized<T: Copy>(out: *mut T, size: usize, defaults: T) -> Result<()> {
    if out.is_null() || size < size_of::<u32>() || size > size_of::<T>() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: the caller's struct holds `size` bytes, per the export's contract.
    unsafe { *(out as *mut u32) = size as u32 };
    write_sized(out, defaults)
}

/// The entries of a caller's array of `n` sized structs of `size` bytes
/// each (the caller's `sizeof`, which may be shorter than the library's
/// for a program built against an older header), each with its `size`
/// field set to `size`, ready for `write_sized`. `C10K_EINVAL` for a
/// size this library cannot write, or NULL with `n > 0`.
pub(super) fn try_sized_array<T: Copy>(ptr: *mut T, n: usize, size: usize) -> Result<Vec<*mut T>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() || size < size_of::<u32>() || size > size_of::<T>() || n.checked_mul(size).is_none() {
        return Err(C10K_EINVAL);
    }
    let mut entries = Vec::new();
    entries.try_reserve_exact(n).map_err(|_| crate::error::C10K_ENOMEM)?;
    for i in 0..n {
        let entry = (ptr as *mut u8).wrapping_add(i * size) as *mut T;
        // SAFETY: the caller's array holds n entries of size bytes each.
        unsafe { *(entry as *mut u32) = size as u32 };
        entries.push(entry);
    }
    Ok(entries)
}
