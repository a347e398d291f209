using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Hosting;

namespace AdHocMirror.Coordinator.Cli;

/// <summary>Reads <see cref="CoordinatorOptions"/> from a settings file.</summary>
public static class CoordinatorSettings
{
    public static CoordinatorOptions Load(string? path)
    {
        var options = new CoordinatorOptions();
        if (path is null)
        {
            return options;
        }

        foreach (var (key, value) in SettingsFile.Read(path))
        {
            switch (key.ToLowerInvariant())
            {
                case "listen": options.Listen = value ?? options.Listen; break;
                case "admin_listen": options.AdminListen = value ?? options.AdminListen; break;
                case "data_dir": options.DataDir = value ?? options.DataDir; break;
                case "geoip": options.GeoIp = value; break;
                case "tls_cert": options.TlsCert = value; break;
                case "tls_key": options.TlsKey = value; break;
                default: throw new SettingsException($"{path}: unknown setting '{key}'");
            }
        }

        return options;
    }
}
