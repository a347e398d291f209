namespace AdHocMirror.Hosting;

/// <summary>Exit codes shared by the three programs (documented in README.md).</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something failed that has no code of its own.</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or configuration; the message names the setting.</summary>
    public const int Usage = 2;

    /// <summary>A server could not be reached.</summary>
    public const int Unavailable = 3;

    /// <summary>The server refused: bad token, key revoked or blacklisted.</summary>
    public const int Refused = 4;

    /// <summary>ahm-sync: no mirror and no official fallback gave a usable tree.</summary>
    public const int NoUsableSource = 5;

    /// <summary>ahm-sync: every tree received failed verification (or was a rollback).</summary>
    public const int VerificationRefused = 6;

    /// <summary>ahm-sync: another sync of the same repository is running.</summary>
    public const int Locked = 7;

    /// <summary>The program was interrupted (SIGINT/SIGTERM) before it finished.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit codes every program can return, for its <c>--help</c> (README "Exit codes").</summary>
    public const string Common =
        "Exit codes: 0 success; 1 failure without a code of its own; 2 bad command line or configuration (the message names the setting); "
        + "3 a server could not be reached; 4 refused (bad token, key revoked or blacklisted).";

    /// <summary>ahm-sync's exit codes, for its <c>--help</c>.</summary>
    public const string Sync =
        "Exit codes: 0 synced or up to date; 1 failure without a code of its own; 2 bad command line or configuration (the message names the setting); "
        + "3 a server could not be reached; 4 refused; 5 no usable source; 6 every tree received failed verification; "
        + "7 another sync of the repository is running; 130 interrupted.";
}
