//! Functions imported from `NDIS.SYS` and `ntoskrnl.exe`.
//!
//! Linked with `raw-dylib`, so no import library is needed. On x86 the kernel exports its
//! stdcall and cdecl functions under undecorated names. Only the functions the driver calls
//! become imports of the image; each of those must be listed in `driver/imports.allowlist`,
//! which the image checks enforce. On the host these declarations are never called (the host
//! loader binds the real image's imports instead), so they carry no link attribute there.
//!
//! Several documented `NdisMCm*` names are macros of ndis.h over exported `NdisCm*` /
//! `NdisCo*` functions with the same parameters; those are declared here under their exported
//! names, and each says which macro it stands for.

use core::ffi::c_void;

use crate::buffer::{Mdl, NetBuffer, NetBufferList, NetBufferListPoolParameters};
use crate::callmgr::{CoAddressFamily, CoCallParameters};
use crate::configuration::{ConfigurationObject, ConfigurationParameter};
use crate::event::NdisEvent;
use crate::lock::NdisSpinLock;
use crate::miniport::MiniportDriverCharacteristics;
use crate::protocol::{OpenParameters, ProtocolDriverCharacteristics};
use crate::request::{OidRequest, StatusIndication};
use crate::timer::TimerCharacteristics;
use crate::types::{DriverObject, NdisHandle, NdisObjectHeader, NdisStatus, UnicodeString};

/// `NDIS_IO_WORKITEM_ROUTINE`. IRQL: PASSIVE_LEVEL.
pub type IoWorkItemRoutine = unsafe extern "system" fn(context: *mut c_void, work_item: NdisHandle);

#[cfg_attr(
    all(windows, target_arch = "x86"),
    link(
        name = "NDIS.SYS",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
#[cfg_attr(
    all(windows, not(target_arch = "x86")),
    link(name = "NDIS.SYS", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "system" {
    // ---- Miniport driver registration -------------------------------------------------------

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismregisterminiportdriver).
    pub fn NdisMRegisterMiniportDriver(
        driver_object: *mut DriverObject,
        registry_path: *mut UnicodeString,
        driver_context: NdisHandle,
        characteristics: *const MiniportDriverCharacteristics,
        driver_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismderegisterminiportdriver).
    pub fn NdisMDeregisterMiniportDriver(driver_handle: NdisHandle);

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndissetoptionalhandlers). `characteristics` is one of
    /// the `NDIS_DRIVER_OPTIONAL_HANDLERS` structures; NDIS copies it.
    pub fn NdisSetOptionalHandlers(
        driver_handle: NdisHandle,
        characteristics: *const NdisObjectHeader,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismsetminiportattributes). `attributes` is one of
    /// the `NDIS_MINIPORT_ADAPTER_ATTRIBUTES` structures; NDIS copies it.
    pub fn NdisMSetMiniportAttributes(
        miniport_handle: NdisHandle,
        attributes: *const NdisObjectHeader,
    ) -> NdisStatus;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismpausecomplete). Completes a pause for which
    /// MiniportPause returned NDIS_STATUS_PENDING.
    pub fn NdisMPauseComplete(miniport_handle: NdisHandle);

    // ---- Call manager (MCM) -----------------------------------------------------------------

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismcmregisteraddressfamilyex).
    pub fn NdisMCmRegisterAddressFamilyEx(
        miniport_handle: NdisHandle,
        address_family: *const CoAddressFamily,
    ) -> NdisStatus;

    /// The `NdisMCmNotifyCloseAddressFamily` macro. IRQL: PASSIVE_LEVEL
    /// (WDK: nf-ndis-ndismcmnotifycloseaddressfamily, nf-ndis-ndiscmnotifycloseaddressfamily).
    pub fn NdisCmNotifyCloseAddressFamily(ndis_af_handle: NdisHandle) -> NdisStatus;

    /// The `NdisMCmOpenAddressFamilyComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmopenaddressfamilycomplete).
    pub fn NdisCmOpenAddressFamilyComplete(
        status: NdisStatus,
        ndis_af_handle: NdisHandle,
        af_context: NdisHandle,
    );

    /// The `NdisMCmCloseAddressFamilyComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmcloseaddressfamilycomplete).
    pub fn NdisCmCloseAddressFamilyComplete(status: NdisStatus, ndis_af_handle: NdisHandle);

    /// The `NdisMCmRegisterSapComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmregistersapcomplete).
    pub fn NdisCmRegisterSapComplete(
        status: NdisStatus,
        ndis_sap_handle: NdisHandle,
        sap_context: NdisHandle,
    );

    /// The `NdisMCmDeregisterSapComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmderegistersapcomplete).
    pub fn NdisCmDeregisterSapComplete(status: NdisStatus, ndis_sap_handle: NdisHandle);

    /// The `NdisMCmMakeCallComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmmakecallcomplete).
    pub fn NdisCmMakeCallComplete(
        status: NdisStatus,
        ndis_vc_handle: NdisHandle,
        ndis_party_handle: NdisHandle,
        party_context: NdisHandle,
        call_parameters: *mut CoCallParameters,
    );

    /// The `NdisMCmCloseCallComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmclosecallcomplete).
    pub fn NdisCmCloseCallComplete(
        status: NdisStatus,
        ndis_vc_handle: NdisHandle,
        ndis_party_handle: NdisHandle,
    );

    /// The `NdisMCmDispatchIncomingCall` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmdispatchincomingcall).
    pub fn NdisCmDispatchIncomingCall(
        ndis_sap_handle: NdisHandle,
        ndis_vc_handle: NdisHandle,
        call_parameters: *mut CoCallParameters,
    ) -> NdisStatus;

    /// The `NdisMCmDispatchCallConnected` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmdispatchcallconnected).
    pub fn NdisCmDispatchCallConnected(ndis_vc_handle: NdisHandle);

    /// The `NdisMCmDispatchIncomingCloseCall` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndiscmdispatchincomingclosecall).
    pub fn NdisCmDispatchIncomingCloseCall(
        close_status: NdisStatus,
        ndis_vc_handle: NdisHandle,
        buffer: *mut c_void,
        size: u32,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcmactivatevc).
    pub fn NdisMCmActivateVc(
        ndis_vc_handle: NdisHandle,
        call_parameters: *mut CoCallParameters,
    ) -> NdisStatus;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcmdeactivatevc).
    pub fn NdisMCmDeactivateVc(ndis_vc_handle: NdisHandle) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismcmcreatevc).
    pub fn NdisMCmCreateVc(
        miniport_handle: NdisHandle,
        ndis_af_handle: NdisHandle,
        vc_context: NdisHandle,
        ndis_vc_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismcmdeletevc).
    pub fn NdisMCmDeleteVc(ndis_vc_handle: NdisHandle) -> NdisStatus;

    /// The `NdisMCmOidRequestComplete` macro. IRQL: <= DISPATCH_LEVEL
    /// (WDK: nf-ndis-ndismcmoidrequestcomplete, nf-ndis-ndiscooidrequestcomplete).
    pub fn NdisCoOidRequestComplete(
        ndis_af_handle: NdisHandle,
        ndis_vc_handle: NdisHandle,
        ndis_party_handle: NdisHandle,
        request: *mut OidRequest,
        status: NdisStatus,
    );

    // ---- CoNDIS miniport data path ----------------------------------------------------------

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcooidrequestcomplete).
    pub fn NdisMCoOidRequestComplete(
        miniport_handle: NdisHandle,
        ndis_vc_handle: NdisHandle,
        request: *mut OidRequest,
        status: NdisStatus,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcosendnetbufferlistscomplete).
    pub fn NdisMCoSendNetBufferListsComplete(
        ndis_vc_handle: NdisHandle,
        net_buffer_lists: *mut NetBufferList,
        send_complete_flags: u32,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcoindicatereceivenetbufferlists).
    pub fn NdisMCoIndicateReceiveNetBufferLists(
        ndis_vc_handle: NdisHandle,
        net_buffer_lists: *mut NetBufferList,
        number_of_net_buffer_lists: u32,
        co_receive_flags: u32,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndismcoindicatestatusex).
    pub fn NdisMCoIndicateStatusEx(
        miniport_handle: NdisHandle,
        ndis_vc_handle: NdisHandle,
        indication: *mut StatusIndication,
    );

    // ---- Memory, locks, packets -------------------------------------------------------------

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatememorywithtagpriority). `priority` is
    /// an `EX_POOL_PRIORITY`. The memory is non-paged.
    pub fn NdisAllocateMemoryWithTagPriority(
        ndis_handle: NdisHandle,
        length: u32,
        tag: u32,
        priority: u32,
    ) -> *mut c_void;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreememory). `memory_flags` 0 for memory from
    /// `NdisAllocateMemoryWithTagPriority`.
    pub fn NdisFreeMemory(address: *mut c_void, length: u32, memory_flags: u32);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatespinlock).
    pub fn NdisAllocateSpinLock(lock: *mut NdisSpinLock);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreespinlock).
    pub fn NdisFreeSpinLock(lock: *mut NdisSpinLock);

    /// IRQL: <= DISPATCH_LEVEL; returns at DISPATCH_LEVEL with the old IRQL stored in the lock
    /// (WDK: nf-ndis-ndisacquirespinlock).
    pub fn NdisAcquireSpinLock(lock: *mut NdisSpinLock);

    /// IRQL: DISPATCH_LEVEL; restores the IRQL stored by the matching acquire
    /// (WDK: nf-ndis-ndisreleasespinlock).
    pub fn NdisReleaseSpinLock(lock: *mut NdisSpinLock);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatenetbufferlistpool).
    pub fn NdisAllocateNetBufferListPool(
        ndis_handle: NdisHandle,
        parameters: *const NetBufferListPoolParameters,
    ) -> NdisHandle;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreenetbufferlistpool).
    pub fn NdisFreeNetBufferListPool(pool_handle: NdisHandle);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatenetbufferandnetbufferlist).
    pub fn NdisAllocateNetBufferAndNetBufferList(
        pool_handle: NdisHandle,
        context_size: u16,
        context_back_fill: u16,
        mdl_chain: *mut Mdl,
        data_offset: u32,
        data_length: usize,
    ) -> *mut NetBufferList;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreenetbufferlist).
    pub fn NdisFreeNetBufferList(net_buffer_list: *mut NetBufferList);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocateclonenetbufferlist). A pool handle of
    /// NULL lets NDIS use its own pool; flags 0 makes NDIS allocate MDLs that describe the
    /// original's buffers.
    pub fn NdisAllocateCloneNetBufferList(
        original: *mut NetBufferList,
        net_buffer_list_pool: NdisHandle,
        net_buffer_pool: NdisHandle,
        allocate_clone_flags: u32,
    ) -> *mut NetBufferList;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreeclonenetbufferlist). The flags must be
    /// those of the allocation.
    pub fn NdisFreeCloneNetBufferList(clone: *mut NetBufferList, free_clone_flags: u32);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatemdl).
    pub fn NdisAllocateMdl(ndis_handle: NdisHandle, address: *mut c_void, length: u32) -> *mut Mdl;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreemdl).
    pub fn NdisFreeMdl(mdl: *mut Mdl);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisgetdatabuffer). Returns a pointer to
    /// `bytes_needed` contiguous bytes at the start of the data, in the packet itself or copied
    /// to `storage`; NULL if the data is shorter.
    pub fn NdisGetDataBuffer(
        net_buffer: *mut NetBuffer,
        bytes_needed: u32,
        storage: *mut c_void,
        align_multiple: u32,
        align_offset: u32,
    ) -> *mut c_void;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisretreatnetbufferdatastart).
    /// `allocate_mdl` is a `NET_BUFFER_ALLOCATE_MDL_HANDLER`, or NULL for NDIS's own.
    pub fn NdisRetreatNetBufferDataStart(
        net_buffer: *mut NetBuffer,
        data_offset_delta: u32,
        data_back_fill: u32,
        allocate_mdl: *mut c_void,
    ) -> NdisStatus;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisadvancenetbufferdatastart).
    /// `free_mdl` is a `BOOLEAN`; `free_mdl_handler` NULL for NDIS's own.
    pub fn NdisAdvanceNetBufferDataStart(
        net_buffer: *mut NetBuffer,
        data_offset_delta: u32,
        free_mdl: u8,
        free_mdl_handler: *mut c_void,
    );

    // ---- Configuration (the adapter's registry key) -----------------------------------------

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisopenconfigurationex). With the
    /// MiniportAdapterHandle it opens the adapter's key; NDIS_STATUS_RESOURCES or
    /// NDIS_STATUS_FAILURE when it cannot.
    pub fn NdisOpenConfigurationEx(
        config_object: *const ConfigurationObject,
        configuration_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisreadconfiguration). `*status` is
    /// NDIS_STATUS_FAILURE when the value does not exist; `*parameter_value` points into
    /// storage NDIS keeps until NdisCloseConfiguration.
    pub fn NdisReadConfiguration(
        status: *mut NdisStatus,
        parameter_value: *mut *mut ConfigurationParameter,
        configuration_handle: NdisHandle,
        keyword: *mut UnicodeString,
        parameter_type: u32,
    );

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndiscloseconfiguration). Frees what reads returned.
    pub fn NdisCloseConfiguration(configuration_handle: NdisHandle);

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndismsleep). Waits at least `microseconds`.
    pub fn NdisMSleep(microseconds: u32);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisgetsystemuptimeex). Milliseconds since boot.
    pub fn NdisGetSystemUpTimeEx(system_up_time: *mut i64);

    // ---- Events, work items and timers -----------------------------------------------------

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisinitializeevent).
    pub fn NdisInitializeEvent(event: *mut NdisEvent);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndissetevent).
    pub fn NdisSetEvent(event: *mut NdisEvent);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisresetevent).
    pub fn NdisResetEvent(event: *mut NdisEvent);

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndiswaitevent). `ms_to_wait` 0 waits without limit;
    /// returns `BOOLEAN` TRUE if the event was signalled.
    pub fn NdisWaitEvent(event: *mut NdisEvent, ms_to_wait: u32) -> u8;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocateioworkitem).
    pub fn NdisAllocateIoWorkItem(ndis_object_handle: NdisHandle) -> NdisHandle;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisqueueioworkitem).
    pub fn NdisQueueIoWorkItem(
        work_item: NdisHandle,
        routine: IoWorkItemRoutine,
        context: *mut c_void,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisfreeioworkitem).
    pub fn NdisFreeIoWorkItem(work_item: NdisHandle);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisallocatetimerobject).
    pub fn NdisAllocateTimerObject(
        ndis_handle: NdisHandle,
        characteristics: *const TimerCharacteristics,
        timer_object: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndissettimerobject). `due_time` in 100 ns units,
    /// negative for relative; returns `BOOLEAN` TRUE if the timer was already queued.
    pub fn NdisSetTimerObject(
        timer_object: NdisHandle,
        due_time: i64,
        milliseconds_period: u32,
        function_context: *mut c_void,
    ) -> u8;

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndiscanceltimerobject). Returns `BOOLEAN` TRUE
    /// if the timer was dequeued before it ran.
    pub fn NdisCancelTimerObject(timer_object: NdisHandle) -> u8;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisfreetimerobject).
    pub fn NdisFreeTimerObject(timer_object: NdisHandle);

    // ---- Protocol (lower edge) --------------------------------------------------------------

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisregisterprotocoldriver).
    pub fn NdisRegisterProtocolDriver(
        driver_context: NdisHandle,
        characteristics: *const ProtocolDriverCharacteristics,
        protocol_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisderegisterprotocoldriver).
    pub fn NdisDeregisterProtocolDriver(protocol_handle: NdisHandle);

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndisopenadapterex).
    pub fn NdisOpenAdapterEx(
        protocol_handle: NdisHandle,
        binding_context: NdisHandle,
        open_parameters: *mut OpenParameters,
        bind_context: NdisHandle,
        binding_handle: *mut NdisHandle,
    ) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndiscloseadapterex).
    pub fn NdisCloseAdapterEx(binding_handle: NdisHandle) -> NdisStatus;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndiscompletebindadapterex).
    pub fn NdisCompleteBindAdapterEx(bind_context: NdisHandle, status: NdisStatus);

    /// IRQL: PASSIVE_LEVEL (WDK: nf-ndis-ndiscompleteunbindadapterex).
    pub fn NdisCompleteUnbindAdapterEx(unbind_context: NdisHandle);

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndissendnetbufferlists).
    pub fn NdisSendNetBufferLists(
        binding_handle: NdisHandle,
        net_buffer_lists: *mut NetBufferList,
        port_number: u32,
        send_flags: u32,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisreturnnetbufferlists).
    pub fn NdisReturnNetBufferLists(
        binding_handle: NdisHandle,
        net_buffer_lists: *mut NetBufferList,
        return_flags: u32,
    );

    /// IRQL: <= DISPATCH_LEVEL (WDK: nf-ndis-ndisoidrequest).
    pub fn NdisOidRequest(binding_handle: NdisHandle, request: *mut OidRequest) -> NdisStatus;
}

#[cfg_attr(
    all(windows, target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
#[cfg_attr(
    all(windows, not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "system" {
    /// IRQL: any (WDK: nf-wdm-kebugcheckex). Does not return.
    pub fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;

    /// IRQL: PASSIVE_LEVEL (WDK: nf-wdm-keflushqueueddpcs). Returns once every DPC queued
    /// (NDIS timer callbacks among them) has run, so a cancelled timer's callback is over.
    pub fn KeFlushQueuedDpcs();
}

#[cfg_attr(
    all(windows, target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
#[cfg_attr(
    all(windows, not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "C" {
    /// IRQL: any, DIRQL included, if every argument is in non-paged memory and no `%C`, `%S`,
    /// `%lc`, `%ls`, `%wc`, `%ws` or `%wZ` is used (WDK: nf-wdm-dbgprintex). A cdecl
    /// variadic function.
    pub fn DbgPrintEx(component_id: u32, level: u32, format: *const u8, ...) -> u32;
}
