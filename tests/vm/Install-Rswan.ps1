<#
.SYNOPSIS
Installs the rswan driver package on a Windows test VM and checks that it loaded.
UNVERIFIED: this script has not been run on Windows by the project's CI.

.PARAMETER PackageDir
The package folder of this VM's architecture (target/package/<arch>/ from `cargo xtask package`).
#>
#Requires -RunAsAdministrator
param([string]$PackageDir = $PSScriptRoot)
$ErrorActionPreference = 'Stop'

$inf = Join-Path $PackageDir 'rswan.inf'
$protocolInf = Join-Path $PackageDir 'rswan_protocol.inf'
$cer = Join-Path $PackageDir 'rswan-test.cer'
foreach ($f in @($inf, $protocolInf, $cer, (Join-Path $PackageDir 'rswan.sys'), (Join-Path $PackageDir 'rswan.cat'))) {
    if (-not (Test-Path $f)) { throw "missing ${f}: copy the whole package folder of this architecture" }
}

# 1. Test signing (WDK: install/the-testsigning-boot-configuration-option).
$bcd = (bcdedit /enum '{current}') -join "`n"
if ($bcd -notmatch 'testsigning\s+Yes') {
    bcdedit /set testsigning on | Out-Null
    Write-Host 'Test signing is now on. Reboot, then run this script again.'
    exit 3
}

# 2. Trust the test certificate (WDK: install/installing-a-test-certificate-on-a-test-computer:
#    the Trusted Root Certification Authorities and Trusted Publishers stores).
Import-Certificate -FilePath $cer -CertStoreLocation Cert:\LocalMachine\Root | Out-Null
Import-Certificate -FilePath $cer -CertStoreLocation Cert:\LocalMachine\TrustedPublisher | Out-Null

# 3. The protocol half first: rswan_protocol.inf is the primary INF and copies rswan.inf into
#    the driver store with CopyINF (WDK: network/installing-an-intermediate-driver,
#    install/inf-copyinf-directive). A protocol is installed through INetCfg, here netcfg.exe
#    (WDK: network/ndis-protocol-driver-installation, "You can't use SetupAPI to install or
#    uninstall an NDIS protocol driver"; Windows Server docs: windows-commands/netcfg,
#    `netcfg /l <inf> /c p /i <comp-id>`). Before OS build 25319 a package installed this way
#    cannot run from the driver store (WDK: network/manufacturer-section-in-a-network-inf-file),
#    so the INF copies rswan.sys to System32\drivers there. Installing the protocol loads
#    rswan.sys (its service is rswan), whose DriverEntry also registers the miniport half.
$protocolId = 'rswan_protocol'
$build = [Environment]::OSVersion.Version.Build
$from = if ($build -ge 25319) { 'the driver store' } else { 'System32\drivers' }
Write-Host "OS build ${build}: the protocol's copy of rswan.sys runs from $from"
# Get-NetAdapterBinding (PowerShell docs: module/netadapter/get-netadapterbinding) lists one
# binding per adapter for an installed protocol, enabled or not; none: not installed.
$installed = @(Get-NetAdapterBinding -AllBindings -IncludeHidden -ComponentID $protocolId -ErrorAction SilentlyContinue)
if ($installed.Count -eq 0) {
    netcfg.exe /l $protocolInf /c p /i $protocolId
    # UNVERIFIED: netcfg's exit codes are not documented; 0 is taken as success.
    if ($LASTEXITCODE -ne 0) { throw "netcfg failed with exit code $LASTEXITCODE" }
}

# 4. A virtual WAN miniport is root-enumerated: no bus reports its hardware ID, so create the
#    device node with it (SetupDiCreateDeviceInfoW, SetupDiSetDeviceRegistryPropertyW with
#    SPDRP_HARDWAREID, SetupDiCallClassInstaller(DIF_REGISTERDEVICE): Win32 setupapi.h docs),
#    then let pnputil install the package on it.
$hardwareId = 'rswan_pppoe'
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class RswanDeviceNode {
    [StructLayout(LayoutKind.Sequential)]
    struct SP_DEVINFO_DATA { public uint cbSize; public Guid ClassGuid; public uint DevInst; public IntPtr Reserved; }
    [DllImport("setupapi.dll", SetLastError = true)]
    static extern IntPtr SetupDiCreateDeviceInfoList(ref Guid classGuid, IntPtr hwndParent);
    [DllImport("setupapi.dll", SetLastError = true, CharSet = CharSet.Unicode)]
    static extern bool SetupDiCreateDeviceInfoW(IntPtr set, string className, ref Guid classGuid,
        string description, IntPtr hwndParent, uint flags, ref SP_DEVINFO_DATA data);
    [DllImport("setupapi.dll", SetLastError = true)]
    static extern bool SetupDiSetDeviceRegistryPropertyW(IntPtr set, ref SP_DEVINFO_DATA data,
        uint property, byte[] buffer, uint size);
    [DllImport("setupapi.dll", SetLastError = true)]
    static extern bool SetupDiCallClassInstaller(uint function, IntPtr set, ref SP_DEVINFO_DATA data);
    [DllImport("setupapi.dll", SetLastError = true)]
    static extern bool SetupDiDestroyDeviceInfoList(IntPtr set);
    const uint DICD_GENERATE_ID = 1, SPDRP_HARDWAREID = 1, DIF_REGISTERDEVICE = 0x19;

    public static void Create(string hardwareId) {
        Guid net = new Guid("4D36E972-E325-11CE-BFC1-08002BE10318");
        IntPtr set = SetupDiCreateDeviceInfoList(ref net, IntPtr.Zero);
        if (set == new IntPtr(-1)) throw new System.ComponentModel.Win32Exception();
        try {
            var data = new SP_DEVINFO_DATA();
            data.cbSize = (uint)Marshal.SizeOf(data);
            if (!SetupDiCreateDeviceInfoW(set, "Net", ref net, null, IntPtr.Zero, DICD_GENERATE_ID, ref data))
                throw new System.ComponentModel.Win32Exception();
            byte[] ids = System.Text.Encoding.Unicode.GetBytes(hardwareId + "\0\0");
            if (!SetupDiSetDeviceRegistryPropertyW(set, ref data, SPDRP_HARDWAREID, ids, (uint)ids.Length))
                throw new System.ComponentModel.Win32Exception();
            if (!SetupDiCallClassInstaller(DIF_REGISTERDEVICE, set, ref data))
                throw new System.ComponentModel.Win32Exception();
        } finally { SetupDiDestroyDeviceInfoList(set); }
    }
}
'@
$existing = Get-PnpDevice -Class Net -ErrorAction SilentlyContinue |
    Where-Object { $_.HardwareID -contains $hardwareId }
if (-not $existing) { [RswanDeviceNode]::Create($hardwareId) }

# 5. Install the miniport on it (WDK: devtest/pnputil-command-syntax, /add-driver ... /install).
#    CopyINF has staged rswan.inf already; adding it again installs it on the new device. Its
#    AddService rewrites the shared rswan service with the same entries, so ImagePath ends in
#    this package's driver store folder (the same signed rswan.sys as the protocol's copy).
pnputil /add-driver $inf /install
if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "pnputil failed with exit code $LASTEXITCODE" }

# 6. Checks: the service runs, the adapter is started, NDIS lists the hidden WAN miniport, and
#    the protocol is bound to Ethernet adapters and not to the rswan adapter (its LowerRange
#    ndis5 does not meet the miniport's UpperRange ndiscowan: WDK network/specifying-binding-
#    interfaces).
$service = Get-Service -Name rswan
if ($service.Status -ne 'Running') { throw "the rswan service is $($service.Status), not Running" }
$imagePath = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\rswan' -Name ImagePath).ImagePath
Write-Host "rswan service ImagePath: $imagePath"
$device = Get-PnpDevice -Class Net | Where-Object { $_.HardwareID -contains $hardwareId }
if (-not $device -or $device.Status -ne 'OK') { throw "the rswan adapter is not started: $($device.Status) $($device.Problem)" }
$adapter = Get-NetAdapter -IncludeHidden | Where-Object { $_.PnPDeviceID -eq $device.InstanceId }
if (-not $adapter) { throw 'NDIS does not list the rswan miniport' }
$bound = @(Get-NetAdapterBinding -AllBindings -IncludeHidden -ComponentID $protocolId | Where-Object { $_.Enabled })
$ethernet = @(Get-NetAdapter | Where-Object { $_.MediaType -eq '802.3' } | ForEach-Object { $_.Name })
$boundEthernet = @($bound | Where-Object { $ethernet -contains $_.Name })
if ($boundEthernet.Count -eq 0) { throw "the rswan protocol is bound to no Ethernet adapter (adapters: $($ethernet -join ', '))" }
if ($bound | Where-Object { $_.Name -eq $adapter.Name }) { throw 'the rswan protocol is bound to the rswan adapter itself' }
Write-Host "rswan installed: service Running, adapter '$($adapter.InterfaceDescription)' ($($adapter.MediaType)), protocol bound to $(($boundEthernet | ForEach-Object { $_.Name }) -join ', ')"
