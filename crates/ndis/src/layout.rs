//! The documented layout of every structure that crosses the NDIS boundary.
//!
//! Each structure declares its size and field offsets for 32-bit and 64-bit Windows with
//! [`layout!`](crate::layout!). The macro checks them with `const` assertions, so every build
//! (the host tests, and each of the x64, ARM64 and x86 driver builds) fails to compile if the
//! Rust layout for its pointer width differs from the documented one. The same numbers are kept
//! as data ([`Documented::LAYOUT`]) so that `tests/mingw_headers.rs` can compare them, for both
//! widths, with what libclang computes from the mingw-w64 DDK headers.
//!
//! Where the numbers come from: the field order and types on the structure's WDK page, laid out
//! by the MSVC rules (natural alignment; `ULONG64`/`LARGE_INTEGER` 8-aligned on x86 too;
//! `SLIST_HEADER` and `DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT)` 16-aligned on 64-bit and
//! 8-aligned on x86).

/// The size and field offsets of one structure: index 0 for 32-bit, 1 for 64-bit.
#[derive(Debug, Clone, Copy)]
pub struct StructLayout {
    /// The structure's name in the WDK headers.
    pub c_name: &'static str,
    /// `sizeof`, or `None` when the structure ends in an array whose length depends on the NDIS
    /// version (the driver never allocates those itself).
    pub size: Option<[usize; 2]>,
    pub fields: &'static [FieldLayout],
}

/// The offset of one field, named as in the WDK headers.
#[derive(Debug, Clone, Copy)]
pub struct FieldLayout {
    pub c_name: &'static str,
    pub offset: [usize; 2],
}

/// Implemented by every structure with a documented layout.
pub trait Documented {
    const LAYOUT: StructLayout;
}

/// Index of the current pointer width in the layout tables.
pub const WIDTH: usize = if cfg!(target_pointer_width = "64") {
    1
} else {
    0
};

/// The size of the field a (never called) accessor returns: a helper of [`size_through!`].
pub const fn field_size<T, F>(_accessor: fn(&T) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// `RTL_SIZEOF_THROUGH_FIELD`: the bytes of `$ty` up to and including `$field`, which is how
/// ndis.h defines every `NDIS_SIZEOF_..._REVISION_n`.
#[macro_export]
macro_rules! size_through {
    ($ty:ty, $field:ident) => {
        ::core::mem::offset_of!($ty, $field) + $crate::layout::field_size(|s: &$ty| &s.$field)
    };
}

/// Declares the documented layout of a structure and asserts it at compile time.
///
/// `layout!(Type = "C_NAME", size 32bit / 64bit { field = "CField" @ off32 / off64, ... });`
/// `size _` marks a structure with a version-dependent trailing array.
#[macro_export]
macro_rules! layout {
    ($ty:ty = $c:literal, size $s32:literal / $s64:literal {
        $($($field:ident).+ = $cf:literal @ $o32:literal / $o64:literal),* $(,)?
    }) => {
        $crate::layout!(@emit $ty, $c, Some([$s32, $s64]), $($($field).+ = $cf @ $o32 / $o64),*);
        const _: () = assert!(
            ::core::mem::size_of::<$ty>() == [$s32, $s64][$crate::layout::WIDTH],
            concat!("size of ", $c)
        );
    };
    ($ty:ty = $c:literal, size _ {
        $($($field:ident).+ = $cf:literal @ $o32:literal / $o64:literal),* $(,)?
    }) => {
        $crate::layout!(@emit $ty, $c, None, $($($field).+ = $cf @ $o32 / $o64),*);
    };
    (@emit $ty:ty, $c:literal, $size:expr, $($($field:ident).+ = $cf:literal @ $o32:literal / $o64:literal),*) => {
        impl $crate::layout::Documented for $ty {
            const LAYOUT: $crate::layout::StructLayout = $crate::layout::StructLayout {
                c_name: $c,
                size: $size,
                fields: &[$($crate::layout::FieldLayout { c_name: $cf, offset: [$o32, $o64] }),*],
            };
        }
        $(
            const _: () = assert!(
                ::core::mem::offset_of!($ty, $($field).+) == [$o32, $o64][$crate::layout::WIDTH],
                concat!("offset of ", $c, ".", $cf)
            );
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Sample {
        a: u8,
        b: u32,
        c: u16,
    }

    #[test]
    fn size_through_counts_up_to_the_end_of_the_field() {
        assert_eq!(size_through!(Sample, a), 1);
        assert_eq!(size_through!(Sample, b), 8);
        assert_eq!(size_through!(Sample, c), 10);
        assert_eq!(core::mem::size_of::<Sample>(), 12);
    }

    #[test]
    fn the_host_checks_its_own_pointer_width() {
        assert_eq!(WIDTH, usize::from(cfg!(target_pointer_width = "64")));
    }
}
