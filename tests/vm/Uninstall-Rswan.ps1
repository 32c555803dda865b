<#
.SYNOPSIS
Removes rswan from a Windows test VM: hangs up its connections, removes the adapter and the
protocol, deletes both driver packages from the driver store and the shared service.
UNVERIFIED: not run by the project's CI.
#>
#Requires -RunAsAdministrator
param([string]$EntryPrefix = 'rswan')
$ErrorActionPreference = 'Stop'

foreach ($line in (rasdial) -split "`n") {
    if ($line.Trim() -like "$EntryPrefix*") { rasdial $line.Trim() /disconnect | Out-Null }
}

# 1. The miniport half: remove the root-enumerated adapter (WDK: devtest/pnputil-command-syntax).
Get-PnpDevice -Class Net -ErrorAction SilentlyContinue |
    Where-Object { $_.HardwareID -contains 'rswan_pppoe' } |
    ForEach-Object { pnputil /remove-device $_.InstanceId }

# 2. The protocol half, through INetCfg as it was installed (WDK: network/ndis-protocol-driver-
#    installation; Windows Server docs: windows-commands/netcfg, `netcfg /u <comp-id>`).
#    Get-NetAdapterBinding (PowerShell docs: module/netadapter/get-netadapterbinding) lists its
#    bindings while it is installed.
$protocolId = 'rswan_protocol'
if (@(Get-NetAdapterBinding -AllBindings -IncludeHidden -ComponentID $protocolId -ErrorAction SilentlyContinue).Count -gt 0) {
    netcfg.exe /u $protocolId
    # UNVERIFIED: netcfg's exit codes are not documented; 0 is taken as success.
    if ($LASTEXITCODE -ne 0) { throw "netcfg /u $protocolId failed with exit code $LASTEXITCODE" }
}

# 3. Both driver packages: rswan_protocol.inf's and the rswan.inf that its CopyINF staged as a
#    package of its own (WDK: install/inf-copyinf-directive). /enum-drivers lists oem#.inf with
#    its original name (WDK: devtest/pnputil-command-syntax). No /force: a package whose files
#    run from the driver store cannot be force-removed, only removed once no device uses it
#    (WDK: develop/run-from-driver-store), which steps 1 and 2 made true.
$published = $null
foreach ($line in (pnputil /enum-drivers) -split "`n") {
    if ($line -match '^\s*Published Name\s*:\s*(oem\d+\.inf)') { $published = $Matches[1] }
    if ($line -match '^\s*Original Name\s*:\s*(rswan|rswan_protocol)\.inf\s*$' -and $published) {
        pnputil /delete-driver $published /uninstall
        $published = $null
    }
}

# 4. The rswan service both INFs add. Neither deletes it: the protocol INF has no DelService on
#    purpose (removing the protocol alone must leave the miniport its service; WDK:
#    network/remove-section-in-a-network-inf-file), and a Net INF has no Remove section. So
#    delete it here once both halves are gone (Windows Server docs: windows-commands/sc-delete).
if (Get-Service -Name rswan -ErrorAction SilentlyContinue) {
    sc.exe delete rswan | Out-Null
    if ($LASTEXITCODE -ne 0) { Write-Warning "sc.exe delete rswan failed ($LASTEXITCODE): the driver may still be loaded; reboot and run this again" }
}

# 5. Before OS build 25319 the protocol INF copied rswan.sys to System32\drivers (WDK:
#    network/manufacturer-section-in-a-network-inf-file); nothing else removes that copy.
$legacyCopy = Join-Path $env:SystemRoot 'System32\drivers\rswan.sys'
if (Test-Path $legacyCopy) {
    Remove-Item -Path $legacyCopy -Force -ErrorAction Continue
    if (Test-Path $legacyCopy) { Write-Warning "could not delete $legacyCopy (still loaded, or protected by PnpLockdown): reboot and delete it" }
}
Write-Host 'rswan removed'
