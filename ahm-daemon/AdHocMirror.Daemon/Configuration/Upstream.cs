namespace AdHocMirror.Daemon.Configuration;

/// <summary>Where a snapshot comes from: an official rsync or git URI, or a newer mirror found through the coordinator.</summary>
public sealed record Upstream(UpstreamKind Kind, string Location)
{
    public const string CoordinatorWord = "coordinator";

    public static Upstream Coordinator { get; } = new(UpstreamKind.Coordinator, CoordinatorWord);

    /// <summary>
    /// rsync:// is an rsync tree; git://, http(s)://, ssh://, file:// or an absolute path is a git repository;
    /// the word <c>coordinator</c> means "ask the coordinator for a newer mirror".
    /// </summary>
    public static bool TryParse(string text, out Upstream upstream, out string error)
    {
        upstream = Coordinator;
        error = string.Empty;
        text = text.Trim();
        if (text.Equals(CoordinatorWord, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (text.StartsWith('/'))
        {
            upstream = new Upstream(UpstreamKind.Git, text);
            return true;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0 && uri.Scheme != "file")
        {
            error = $"'{text}' is not a URI (rsync://HOST/MODULE, git://HOST/REPO, https://…, or 'coordinator')";
            return false;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            error = $"'{text}' must not have a query or fragment";
            return false;
        }

        switch (uri.Scheme)
        {
            case "rsync":
                if (uri.AbsolutePath.Trim('/').Length == 0)
                {
                    error = $"'{text}' names no rsync module";
                    return false;
                }

                upstream = new Upstream(UpstreamKind.Rsync, text);
                return true;
            case "git" or "http" or "https" or "ssh" or "file":
                upstream = new Upstream(UpstreamKind.Git, text);
                return true;
            default:
                error = $"'{text}': scheme {uri.Scheme} is neither rsync nor git";
                return false;
        }
    }

    public override string ToString() => Location;
}

public enum UpstreamKind
{
    Rsync,
    Git,
    Coordinator,
}
