using AdHocMirror.Coordinator.Keys;
using AdHocMirror.Coordinator.Liveness;
using AdHocMirror.Coordinator.Sessions;

namespace AdHocMirror.Coordinator.Hosting;

/// <summary>Where and how the coordinator listens; bound from <c>--config</c> and overridden by flags.</summary>
public sealed class CoordinatorOptions
{
    public const int DefaultPort = 7470;
    public const int DefaultAdminPort = 7471;
    public const int DefaultMetricsPort = 7473;
    public const string DatabaseFileName = "coordinator.db";

    /// <summary>Public gRPC listener (Registry, Sessions, Matching).</summary>
    public string Listen { get; set; } = $"0.0.0.0:{DefaultPort}";

    /// <summary>Admin gRPC listener, plus /metrics and /healthz; loopback only unless told otherwise.</summary>
    public string AdminListen { get; set; } = $"127.0.0.1:{DefaultAdminPort}";

    /// <summary>Plain HTTP/1.1 listener for /metrics and /healthz (scrapers without h2c); "off" disables it.</summary>
    public string MetricsListen { get; set; } = $"127.0.0.1:{DefaultMetricsPort}";

    /// <summary>Holds the SQLite database and the admin token.</summary>
    public string DataDir { get; set; } = "/var/lib/ahm-coordinator";

    /// <summary>The SQLite database; default <c>DATA_DIR/coordinator.db</c>.</summary>
    public string? Database { get; set; }

    /// <summary>A PostgreSQL database shared by several coordinators (URL or connection string, no password); SQLite when null.</summary>
    public string? Store { get; set; }

    /// <summary>A file holding the PostgreSQL password (first line).</summary>
    public string? StorePasswordFile { get; set; }

    /// <summary>How several coordinators on one database find each other and share the work.</summary>
    public Cluster.ClusterOptions Cluster { get; set; } = new();

    /// <summary>MaxMind City database; optional.</summary>
    public string? GeoIp { get; set; }

    public string? TlsCert { get; set; }

    public string? TlsKey { get; set; }

    /// <summary>Largest request message on the public listener; its calls are a few hundred bytes.</summary>
    public int MaxMessageSize { get; set; } = 1024 * 1024;

    public KeyOptions Keys { get; set; } = new();

    public SessionOptions Sessions { get; set; } = new();

    public PingOptions Pings { get; set; } = new();

    public Matching.MatchingOptions Matching { get; set; } = new();

    public Geo.GeoOptions Geo { get; set; } = new();

    public Matching.Privacy.PrivacyOptions Privacy { get; set; } = new();

    /// <summary>Whether the official mirrors were configured (so the built-in list has been replaced).</summary>
    internal bool OfficialConfigured { get; set; }

    public string DatabasePath => Database ?? Path.Combine(DataDir, DatabaseFileName);
}
