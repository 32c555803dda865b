<#
.SYNOPSIS
Removes rswan from a Windows test VM: hangs up its connections, removes the adapter and deletes
the package from the driver store. UNVERIFIED: not run by the project's CI.
#>
#Requires -RunAsAdministrator
param([string]$EntryPrefix = 'rswan')
$ErrorActionPreference = 'Stop'

foreach ($line in (rasdial) -split "`n") {
    if ($line.Trim() -like "$EntryPrefix*") { rasdial $line.Trim() /disconnect | Out-Null }
}
Get-PnpDevice -Class Net -ErrorAction SilentlyContinue |
    Where-Object { $_.HardwareID -contains 'rswan_pppoe' } |
    ForEach-Object { pnputil /remove-device $_.InstanceId }

# WDK: devtest/pnputil-command-syntax: /enum-drivers lists oem#.inf with its original name.
$published = $null
foreach ($line in (pnputil /enum-drivers) -split "`n") {
    if ($line -match '^\s*Published Name\s*:\s*(oem\d+\.inf)') { $published = $Matches[1] }
    if ($line -match '^\s*Original Name\s*:\s*rswan\.inf' -and $published) {
        pnputil /delete-driver $published /uninstall /force
    }
}
Write-Host 'rswan removed'
