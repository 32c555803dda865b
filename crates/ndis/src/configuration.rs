//! The adapter's registry configuration (WDK: nf-ndis-ndisopenconfigurationex,
//! nf-ndis-ndisreadconfiguration, nf-ndis-ndiscloseconfiguration,
//! ns-ndis-_ndis_configuration_object, ns-ndis-_ndis_configuration_parameter,
//! ne-ndis-_ndis_parameter_type).

use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::ptr;

use crate::imports::{NdisCloseConfiguration, NdisOpenConfigurationEx, NdisReadConfiguration};
use crate::layout;
use crate::types::{NdisHandle, NdisObjectHeader, NdisStatus, UnicodeString, status};

/// `NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT`.
pub const OBJECT_TYPE_CONFIGURATION_OBJECT: u8 = 0xA9;
/// `NDIS_CONFIGURATION_OBJECT_REVISION_1`.
pub const CONFIGURATION_OBJECT_REVISION_1: u8 = 1;

/// `NDIS_CONFIGURATION_OBJECT`, revision 1.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ConfigurationObject {
    pub header: NdisObjectHeader,
    /// The MiniportAdapterHandle of MiniportInitializeEx opens the adapter's key.
    pub ndis_handle: NdisHandle,
    /// 0: `NDIS_CONFIG_FLAG_FILTER_INSTANCE_CONFIGURATION` is for filter drivers only.
    pub flags: u32,
}

layout!(ConfigurationObject = "_NDIS_CONFIGURATION_OBJECT", size 12 / 24 {
    header = "Header" @ 0 / 0,
    ndis_handle = "NdisHandle" @ 4 / 8,
    flags = "Flags" @ 8 / 16,
});

/// `NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1`.
pub const SIZEOF_CONFIGURATION_OBJECT_REVISION_1: usize =
    crate::size_through!(ConfigurationObject, flags);

/// `NDIS_PARAMETER_TYPE` values.
pub mod parameter_type {
    pub const INTEGER: u32 = 0;
    pub const HEX_INTEGER: u32 = 1;
    pub const STRING: u32 = 2;
    pub const MULTI_STRING: u32 = 3;
    pub const BINARY: u32 = 4;
}

/// `BINARY_DATA`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BinaryData {
    pub length: u16,
    pub buffer: *mut c_void,
}

layout!(BinaryData = "_BINARY_DATA", size 8 / 16 {
    length = "Length" @ 0 / 0,
    buffer = "Buffer" @ 4 / 8,
});

/// The `ParameterData` union of `NDIS_CONFIGURATION_PARAMETER`; `ParameterType` says which
/// member is valid.
#[repr(C)]
pub union ParameterData {
    pub integer_data: u32,
    pub string_data: ManuallyDrop<UnicodeString>,
    pub binary_data: BinaryData,
}

impl core::fmt::Debug for ParameterData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ParameterData")
    }
}

/// `NDIS_CONFIGURATION_PARAMETER`.
#[repr(C)]
#[derive(Debug)]
pub struct ConfigurationParameter {
    pub parameter_type: u32,
    pub parameter_data: ParameterData,
}

layout!(ConfigurationParameter = "_NDIS_CONFIGURATION_PARAMETER", size 12 / 24 {
    parameter_type = "ParameterType" @ 0 / 0,
    parameter_data = "ParameterData" @ 4 / 8,
});

/// An open configuration handle, closed on drop. What a read returns lives in NDIS's storage
/// for the handle until NdisCloseConfiguration frees it, so reads borrow the handle.
#[derive(Debug)]
pub struct Configuration {
    handle: NdisHandle,
}

impl Configuration {
    /// Opens the registry key of `ndis_handle` (the adapter's, for a MiniportAdapterHandle).
    /// NDIS_STATUS_RESOURCES or NDIS_STATUS_FAILURE when NDIS cannot.
    ///
    /// IRQL: PASSIVE_LEVEL.
    ///
    /// # Safety
    /// `ndis_handle` is a live handle NDIS gave the driver at initialisation, and outlives the
    /// returned configuration.
    pub unsafe fn open(ndis_handle: NdisHandle) -> Result<Configuration, NdisStatus> {
        let object = ConfigurationObject {
            header: NdisObjectHeader::new(
                OBJECT_TYPE_CONFIGURATION_OBJECT,
                CONFIGURATION_OBJECT_REVISION_1,
                SIZEOF_CONFIGURATION_OBJECT_REVISION_1,
            ),
            ndis_handle,
            flags: 0,
        };
        let mut handle: NdisHandle = ptr::null_mut();
        // SAFETY: the object is complete and lives across the call; `handle` is a valid out
        // pointer; the NDIS handle is live (caller's guarantee).
        let result = unsafe { NdisOpenConfigurationEx(&object, &mut handle) };
        if result != status::SUCCESS {
            return Err(result);
        }
        if handle.is_null() {
            return Err(status::FAILURE);
        }
        Ok(Configuration { handle })
    }

    /// `NdisReadConfiguration`: the parameter, `None` when NDIS has no such value
    /// (NDIS_STATUS_FAILURE), an error status otherwise (NDIS_STATUS_RESOURCES).
    fn read(
        &self,
        keyword: &[u16],
        parameter_type: u32,
    ) -> Result<Option<&ConfigurationParameter>, NdisStatus> {
        let bytes = u16::try_from(core::mem::size_of_val(keyword))
            .map_err(|_| status::INVALID_PARAMETER)?;
        let mut name = UnicodeString {
            length: bytes,
            maximum_length: bytes,
            // NDIS only reads the keyword.
            buffer: keyword.as_ptr().cast_mut(),
        };
        let mut result = status::FAILURE;
        let mut value: *mut ConfigurationParameter = ptr::null_mut();
        // SAFETY: out pointers valid for the call; the keyword's buffer holds `bytes` bytes;
        // the handle is open.
        unsafe {
            NdisReadConfiguration(
                &mut result,
                &mut value,
                self.handle,
                &mut name,
                parameter_type,
            )
        };
        if result == status::FAILURE {
            return Ok(None);
        }
        if result != status::SUCCESS {
            return Err(result);
        }
        // SAFETY: on success NDIS returns a parameter in its storage for this handle, valid
        // until NdisCloseConfiguration, which only `drop` calls (and `&self` prevents).
        Ok(unsafe { value.as_ref() })
    }

    /// A value read as `NdisParameterInteger` (NDIS converts a REG_SZ of decimal digits).
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn read_integer(&self, keyword: &[u16]) -> Result<Option<u32>, NdisStatus> {
        let Some(parameter) = self.read(keyword, parameter_type::INTEGER)? else {
            return Ok(None);
        };
        if parameter.parameter_type != parameter_type::INTEGER {
            return Ok(None);
        }
        // SAFETY: the type says IntegerData is the valid member.
        Ok(Some(unsafe { parameter.parameter_data.integer_data }))
    }

    /// A value read as `NdisParameterString`: its UTF-16 code units, borrowed from NDIS's
    /// storage for the handle.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn read_string(&self, keyword: &[u16]) -> Result<Option<&[u16]>, NdisStatus> {
        let Some(parameter) = self.read(keyword, parameter_type::STRING)? else {
            return Ok(None);
        };
        if parameter.parameter_type != parameter_type::STRING {
            return Ok(None);
        }
        // SAFETY: the type says StringData is the valid member.
        let string = unsafe { &parameter.parameter_data.string_data };
        let units = usize::from(string.length) / 2;
        if units == 0 || string.buffer.is_null() {
            return Ok(Some(&[]));
        }
        // SAFETY: NDIS's string holds `length` bytes at `buffer`, valid as long as the
        // parameter (see `read`).
        Ok(Some(unsafe {
            core::slice::from_raw_parts(string.buffer, units)
        }))
    }
}

impl Drop for Configuration {
    /// IRQL: PASSIVE_LEVEL.
    fn drop(&mut self) {
        // SAFETY: the handle came from NdisOpenConfigurationEx and is closed once, here.
        unsafe { NdisCloseConfiguration(self.handle) };
    }
}
