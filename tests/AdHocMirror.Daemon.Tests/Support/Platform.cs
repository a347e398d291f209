// The daemon and its tests need Linux: rsync, git daemon, /proc, Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
