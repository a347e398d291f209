namespace AdHocMirror.Testing.Hostile;

/// <summary>One malformed gRPC request: a kind (for the report), a path, a body, a content type and extra headers.</summary>
public sealed record MalformedCase(string Kind, string Path, byte[] Body, string? ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    private static readonly string[] BadTimeouts = ["abc", "99999999999H", "-1S", "1", "", "5x", "1.5S", "00000000S", "9999999999999999999n"];

    private static readonly string[] BadContentTypes = ["text/plain", "application/json", "application/grpc-web+proto", "application/grpcx", "multipart/form-data; boundary=x", ""];

    public static MalformedCase Draw(Random random, IReadOnlyList<string> methods)
    {
        var path = methods[random.Next(methods.Count)];
        var payload = Bytes(random, random.Next(0, 256));
        return random.Next(10) switch
        {
            0 => new("random payload", path, RawGrpc.Frame(0, payload, (uint)payload.Length), "application/grpc", []),
            1 => new("truncated frame", path, RawGrpc.Frame(0, payload, (uint)payload.Length + 1 + (uint)random.Next(1000)), "application/grpc", []),
            2 => new("huge length prefix", path, RawGrpc.Frame(0, payload, uint.MaxValue - (uint)random.Next(1000)), "application/grpc", []),
            3 => new("compressed without encoding", path, RawGrpc.Frame(1, payload, (uint)payload.Length), "application/grpc", random.Next(2) == 0 ? [] : [("grpc-encoding", "snappy")]),
            4 => new("bad grpc-timeout", path, RawGrpc.Frame(0, [], 0), "application/grpc", [("grpc-timeout", BadTimeouts[random.Next(BadTimeouts.Length)])]),
            5 => new("bad content-type", path, RawGrpc.Frame(0, payload, (uint)payload.Length), random.Next(4) == 0 ? null : BadContentTypes[random.Next(BadContentTypes.Length)], []),
            6 => new("bad metadata", path, RawGrpc.Frame(0, [], 0), "application/grpc", BadMetadata(random)),
            7 => new("oversized headers", path, RawGrpc.Frame(0, [], 0), "application/grpc", [("x-padding", new string('a', 20_000 + random.Next(60_000)))]),
            8 => new("unknown method", "/" + Text(random, 1 + random.Next(40)) + "/" + Text(random, random.Next(20)), RawGrpc.Frame(0, payload, (uint)payload.Length), "application/grpc", []),
            _ => new("garbage body", path, payload, "application/grpc", []),
        };
    }

    private static IReadOnlyList<(string, string)> BadMetadata(Random random) => random.Next(5) switch
    {
        0 => [("authorization", "Bearer " + Text(random, random.Next(300)))],
        1 => [("x-trace-bin", "!!!not base64!!!")],
        2 => [("ahm-session", Text(random, 2000))],
        3 => [("authorization", "Bearer " + new string('f', 32) + "." + Text(random, 64))],
        _ => Enumerable.Range(0, 200).Select(i => ($"x-meta-{i}", Text(random, 40))).ToArray(),
    };

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Text(Random random, int length)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._-~%";
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[r.Next(Alphabet.Length)];
            }
        });
    }
}

/// <summary>What a fuzz run got back: outcomes by request kind, and any message that looks like a leaked exception.</summary>
public sealed class FuzzReport
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, int>> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _leaks = [];

    public int Total { get; private set; }

    public IReadOnlyList<string> Leaks => _leaks;

    public int Count(string outcome)
    {
        lock (_gate)
        {
            return _outcomes.Values.Sum(o => o.GetValueOrDefault(outcome));
        }
    }

    /// <summary>How many requests of <paramref name="kind"/> ended with <paramref name="outcome"/>.</summary>
    public int Count(string outcome, string kind)
    {
        lock (_gate)
        {
            return _outcomes.TryGetValue(kind, out var byOutcome) ? byOutcome.GetValueOrDefault(outcome) : 0;
        }
    }

    /// <summary>How many requests, of any kind but <paramref name="kinds"/>, ended with <paramref name="outcome"/>.</summary>
    public int CountExcept(string outcome, IReadOnlyCollection<string> kinds)
    {
        lock (_gate)
        {
            return _outcomes.Where(p => !kinds.Contains(p.Key)).Sum(p => p.Value.GetValueOrDefault(outcome));
        }
    }

    public void Record(string kind, string outcome, string message)
    {
        lock (_gate)
        {
            Total++;
            if (!_outcomes.TryGetValue(kind, out var byOutcome))
            {
                _outcomes[kind] = byOutcome = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + 1;
            // An exception's type, text or stack, or an echo of the request; grpc-dotnet's fixed "Exception was thrown by
            // handler." for a message it cannot read names nothing.
            if ((message.Contains("Exception:", StringComparison.Ordinal) || message.Contains("System.", StringComparison.Ordinal)
                || message.Contains("   at ", StringComparison.Ordinal) || message.Length > 300) && _leaks.Count < 20)
            {
                _leaks.Add($"{kind} → {outcome}: {message[..Math.Min(message.Length, 300)]}");
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return string.Join('\n', _outcomes.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => $"{p.Key}: {string.Join(", ", p.Value.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}"));
        }
    }
}
