namespace AdHocMirror.Clients;

/// <summary>
/// The addresses one service is reached at: several coordinators on one database, each given as its own URL or
/// behind one name with several addresses. All use one scheme, since a channel is either TLS or cleartext.
/// </summary>
public sealed record ServiceAddresses
{
    private ServiceAddresses(IReadOnlyList<Uri> targets) => Targets = targets;

    /// <summary>Each <c>scheme://host:port</c> once, in the order given: the first that answers is used.</summary>
    public IReadOnlyList<Uri> Targets { get; }

    public bool IsSecure => Targets[0].Scheme == Uri.UriSchemeHttps;

    /// <summary>As written in settings and status: the URLs separated by spaces.</summary>
    public override string ToString() => string.Join(' ', Targets.Select(t => t.GetLeftPart(UriPartial.Authority)));

    /// <summary>
    /// Reads one or more addresses, each text holding one or several separated by spaces or commas
    /// (<c>https://a:7470 https://b:7470</c>); <paramref name="error"/> names the first bad one.
    /// </summary>
    public static bool TryParse(IEnumerable<string?> texts, out ServiceAddresses addresses, out string error)
    {
        addresses = null!;
        error = string.Empty;
        var targets = new List<Uri>();
        foreach (var word in texts.SelectMany(t => (t ?? string.Empty).Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!GrpcChannels.TryParse(word, out var target, out error))
            {
                return false;
            }

            if (targets.Count > 0 && target.Scheme != targets[0].Scheme)
            {
                error = $"'{word}' is {target.Scheme}:// but '{targets[0].GetLeftPart(UriPartial.Authority)}' is {targets[0].Scheme}://: list coordinators of one kind (all https:// or all http://)";
                return false;
            }

            if (!targets.Contains(target))
            {
                targets.Add(target);
            }
        }

        if (targets.Count == 0)
        {
            error = "an address is required (http://HOST:PORT or https://HOST:PORT)";
            return false;
        }

        addresses = new ServiceAddresses(targets);
        return true;
    }

    /// <exception cref="ArgumentException">An address is not an http(s) URI, or the list is empty or mixed.</exception>
    public static ServiceAddresses Parse(params string?[] texts) =>
        TryParse(texts, out var addresses, out var error) ? addresses : throw new ArgumentException(error, nameof(texts));
}
