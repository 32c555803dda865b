//! The adapter's settings from its registry key: NdisOpenConfigurationEx with the
//! MiniportAdapterHandle, one NdisReadConfiguration per value, NdisCloseConfiguration (WDK:
//! nf-ndis-ndisopenconfigurationex, nf-ndis-ndisreadconfiguration,
//! nf-ndis-ndiscloseconfiguration). Which values, their ranges and defaults, and the checks
//! are rswan-config's; this is only the reading.

use rswan_config::{Kind, Registry, Setting, Settings, Value};
use rswan_ndis::configuration::Configuration;
use rswan_ndis::dbg_print;
use rswan_ndis::debug::level;
use rswan_ndis::types::{NdisHandle, NdisStatus, status};

struct AdapterKey(Configuration);

impl Registry for AdapterKey {
    type Error = NdisStatus;

    /// Reads a value as its kind asks; a value NDIS cannot give that way is read the other way
    /// too, so that one of the wrong registry type is reported rather than taken as missing
    /// (whether NDIS converts a REG_DWORD to a string is unverified).
    fn read(&mut self, setting: &Setting) -> Result<Value<'_>, NdisStatus> {
        let key = &self.0;
        let keyword = setting.keyword;
        Ok(match setting.kind {
            Kind::Dword { .. } => match key.read_integer(keyword)? {
                Some(value) => Value::Dword(value),
                None => key.read_string(keyword)?.map_or(Value::Absent, Value::Text),
            },
            Kind::Text { .. } => match key.read_string(keyword)? {
                Some(units) => Value::Text(units),
                None => key
                    .read_integer(keyword)?
                    .map_or(Value::Absent, Value::Dword),
            },
        })
    }
}

/// The adapter's settings; a refused value is logged and replaced by its default. Fails with
/// the status of NDIS when it is out of memory; a key NDIS cannot open for another reason
/// leaves every default.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `miniport` is the MiniportAdapterHandle of MiniportInitializeEx.
pub unsafe fn read_settings(miniport: NdisHandle) -> Result<Settings, NdisStatus> {
    // SAFETY: the adapter handle is live for the whole initialisation (caller's guarantee),
    // and the configuration is closed before this returns.
    let key = match unsafe { Configuration::open(miniport) } {
        Ok(key) => key,
        Err(status::RESOURCES) => return Err(status::RESOURCES),
        Err(error) => {
            dbg_print!(
                level::WARNING,
                "registry key not opened ({error:#x}): every setting at its default"
            );
            return Ok(Settings::default());
        }
    };
    rswan_config::load(&mut AdapterKey(key), |warning| {
        dbg_print!(level::WARNING, "registry: {warning}");
    })
}
