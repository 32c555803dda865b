<#
.SYNOPSIS
Dials a RAS connection through rswan on a Windows test VM, pings the peer and hangs up.
UNVERIFIED: this script has not been run on Windows by the project's CI.

.DESCRIPTION
Needs a PPPoE access concentrator on the VM's Ethernet segment (for example rp-pppoe's
pppoe-server or l2tpns on a Linux VM on the same virtual switch) that offers -ServiceName.
The entry's phone number is the PPPoE Service-Name (MS-RRASM 2.2.2.2.108, PhoneNumber); an
empty Service-Name means "any access concentrator".

.PARAMETER DebugView
Path of Sysinternals Dbgview.exe; when given, the driver's DbgPrintEx output is captured to
rswan-debug.log beside this script.
#>
#Requires -RunAsAdministrator
param(
    [string]$ServiceName = '',
    [string]$User = 'rswan',
    [string]$Password = 'rswan',
    [string]$DebugView = '',
    [switch]$Loopback
)
$ErrorActionPreference = 'Stop'

# Driver debug output: DbgPrintEx messages of a component are shown when the Debug Print
# Filter allows their level (WDK: devtest/reading-and-filtering-debugging-messages).
$filter = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Debug Print Filter'
New-Item -Path $filter -Force | Out-Null
Set-ItemProperty -Path $filter -Name 'IHVNETWORK' -Type DWord -Value 0xF
$log = Join-Path $PSScriptRoot 'rswan-debug.log'
$viewer = $null
if ($DebugView) {
    $viewer = Start-Process -FilePath $DebugView -ArgumentList '/accepteula', '/k', '/t', '/l', $log -PassThru
}

# RAS devices (Win32: ras.h RasEnumDevicesW, RASDEVINFOW {dwSize; szDeviceType[17]; szDeviceName[129]}).
Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
public static class RswanRas {
    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    public struct RASDEVINFOW {
        public int dwSize;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 17)] public string szDeviceType;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 129)] public string szDeviceName;
    }
    [DllImport("rasapi32.dll", CharSet = CharSet.Unicode)]
    static extern int RasEnumDevicesW([In, Out] RASDEVINFOW[] devices, ref int size, ref int count);
    public static RASDEVINFOW[] Devices() {
        int one = Marshal.SizeOf(typeof(RASDEVINFOW));
        var devices = new RASDEVINFOW[64];
        for (int i = 0; i < devices.Length; i++) devices[i].dwSize = one;
        int size = one * devices.Length, count = 0;
        int error = RasEnumDevicesW(devices, ref size, ref count);
        if (error != 0) throw new Exception("RasEnumDevices failed: " + error);
        Array.Resize(ref devices, count);
        return devices;
    }
}
'@
$devices = [RswanRas]::Devices() | Where-Object { $_.szDeviceName -like '*rswan*' }
if (-not $devices) { throw 'RAS lists no rswan line: is the driver installed (Install-Rswan.ps1)?' }
$pppoe = $devices | Where-Object { $_.szDeviceName -notlike '*loopback*' } | Select-Object -First 1
$loop = $devices | Where-Object { $_.szDeviceName -like '*loopback*' } | Select-Object -First 1

# A private phonebook (Win32: RasDial's lpszPhonebook; MS-RRASM 2.2.2.2 phonebook entries).
# Type=5 is a broadband (PPPoE) entry; MEDIA=rastapi and Device name the TAPI line.
function Write-Entry($name, $device, $number) {
@"
[$name]
Encoding=1
Type=5
AutoLogon=0
IpPrioritizeRemote=0
MEDIA=rastapi
Device=$($device.szDeviceName)
DEVICE=$($device.szDeviceType)
PhoneNumber=$number

"@
}
$phonebook = Join-Path $PSScriptRoot 'rswan.pbk'
$text = Write-Entry 'rswan-pppoe' $pppoe $ServiceName
if ($loop) { $text += Write-Entry 'rswan-loopback' $loop '' }
Set-Content -Path $phonebook -Value $text -Encoding Unicode

function Test-Entry($entry) {
    rasdial $entry $User $Password /phonebook:$phonebook
    if ($LASTEXITCODE -ne 0) { throw "rasdial $entry failed with RAS error $LASTEXITCODE" }
    try {
        $ip = Get-NetIPConfiguration -InterfaceAlias $entry
        $peer = $ip.IPv4DefaultGateway.NextHop
        if (-not $peer) { $peer = ($ip.IPv4Address.IPAddress -replace '\.\d+$', '.254') }
        Write-Host "$entry up: local $($ip.IPv4Address.IPAddress), pinging $peer"
        if (-not (Test-Connection -ComputerName $peer -Count 3 -Quiet)) { throw "no echo reply from $peer over $entry" }
    } finally {
        rasdial $entry /disconnect | Out-Null
    }
    Write-Host "${entry}: dialled, pinged and hung up"
}

try {
    Test-Entry 'rswan-pppoe'
    # The loopback pair answers itself only when RAS accepts incoming calls on the other line
    # of the pair (Routing and Remote Access, or an incoming connection on that line).
    if ($Loopback) {
        if (-not $loop) { throw 'RAS lists no rswan loopback line' }
        Test-Entry 'rswan-loopback'
    }
} finally {
    if ($viewer) { Stop-Process -Id $viewer.Id; Write-Host "driver debug output: $log" }
}
