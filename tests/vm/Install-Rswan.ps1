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
$cer = Join-Path $PackageDir 'rswan-test.cer'
foreach ($f in @($inf, $cer, (Join-Path $PackageDir 'rswan.sys'), (Join-Path $PackageDir 'rswan.cat'))) {
    if (-not (Test-Path $f)) { throw "missing $f: copy the whole package folder of this architecture" }
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

# 3. A virtual WAN miniport is root-enumerated: no bus reports its hardware ID, so create the
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

# 4. Stage and install (WDK: devtest/pnputil-command-syntax, /add-driver ... /install).
pnputil /add-driver $inf /install
if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "pnputil failed with exit code $LASTEXITCODE" }

# 5. Checks: the service runs, the adapter is started, NDIS lists the hidden WAN miniport.
$service = Get-Service -Name rswan
if ($service.Status -ne 'Running') { throw "the rswan service is $($service.Status), not Running" }
$device = Get-PnpDevice -Class Net | Where-Object { $_.HardwareID -contains $hardwareId }
if (-not $device -or $device.Status -ne 'OK') { throw "the rswan adapter is not started: $($device.Status) $($device.Problem)" }
$adapter = Get-NetAdapter -IncludeHidden | Where-Object { $_.PnPDeviceID -eq $device.InstanceId }
if (-not $adapter) { throw 'NDIS does not list the rswan miniport' }
Write-Host "rswan installed: service Running, adapter '$($adapter.InterfaceDescription)' ($($adapter.MediaType))"
